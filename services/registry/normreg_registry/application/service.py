"""The registry's use cases. Each owns its transaction: it hands the unit of work one function that
loads the aggregate, lets the domain decide and saves state + history + events together."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from normreg_common import idempotency
from normreg_common.checkpoints import Checkpoint, CheckpointSigner, InvalidCheckpoint
from normreg_common.clock import Clock
from normreg_common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NormregError, NotFound
from normreg_common.eventlog.port import Delivery
from normreg_common.federation import Signer
from normreg_common.principal import SCHEDULER, Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.application.document_events import recorded_details
from normreg_registry.application.events import comment_received, to_records
from normreg_registry.application.ports import (
    CLOCK_START,
    UNFILED_START,
    DocumentFilter,
    RegistryRepository,
    UnfiledKey,
    UnfiledObligation,
    UnitOfWork,
)
from normreg_registry.domain import access
from normreg_registry.domain.access import OPERATIONS, Op
from normreg_registry.domain.cleanup import Campaign, Outcome
from normreg_registry.domain.filing_outcomes import RecipientReport
from normreg_registry.domain.filing_report import FilingReport, ReportRow
from normreg_registry.domain.history import (
    HistoryEntry,
    document_digest,
    entry_for,
    state_problems,
    verify_chain,
    witness_problems,
)
from normreg_registry.domain.lifecycle import PROMULGATED_STATES, Action, Kind, Procedure, State
from normreg_registry.domain.model import Document, Evaluation, ImportedVersion, Version
from normreg_registry.domain.numbers import UniformNumber, registration_number
from normreg_registry.domain.versions import Filing

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommentView:
    name: str
    text: str
    created_at: str
    reply: str


@dataclass
class SchedulerRun:
    """How many documents a scheduler run changed, and those it could not, with the error."""

    changed: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    # Ended early because the service is stopping: what was not reached is still due.
    stopped: bool = False


@dataclass(frozen=True)
class DueFiling:
    document: str
    title: str
    uniform_number: str
    due_date: dt.date
    overdue: bool
    # Empty for a version promulgated before its recipients were derived from the routing table.
    recipient: str = ""
    # What is due: FILE (the filing itself), COMPLETE_MATERIALS (what the recipient asked for) or
    # CORRECT (the correction it required), the last two as its events reported them.
    step: str = "FILE"


@dataclass(frozen=True)
class ImportItem:
    """One document of an import, checked at the edge."""

    request_id: str
    kind: Kind
    issuing_body: str
    versions: list[ImportedVersion]


@dataclass(frozen=True)
class DueEvaluation:
    version: str
    title: str
    uniform_number: str
    validity_end: dt.date
    due_from: dt.date


@dataclass(frozen=True)
class ReviewDecision:
    """A legality review decision as the review service reported it, decoded at the edge."""

    source: str
    subject: str
    sequence: int
    document_id: str
    decision: str
    version: int
    review_round: int
    reviewer: Principal
    review: str
    at: dt.datetime


class Replayed(FailedPrecondition):
    """A recipient's event at a place of its stream already taken: a copy sent again is never applied."""

    reason = "REPLAYED"

    def __init__(self, stream: str, sequence: int) -> None:
        super().__init__(
            self.reason,
            f"event {sequence} of {stream} was already applied; a copy is not applied again",
            stream=stream,
        )


@dataclass(frozen=True)
class RecipientEvent:
    """A recipient's report on one of our filings, decoded and verified at the edge: `source` is the
    signing jurisdiction and the event's source, `subject` and `sequence` its place in its stream."""

    source: str
    subject: str
    sequence: int
    document_id: str
    report: RecipientReport
    at: dt.datetime


# Documents the scheduler moves on in one transaction, each in its own savepoint.
SCHEDULER_BATCH = 64
# Due documents a scheduler run reads at once (its memory), each page in its own short read.
SCHEDULER_PAGE = 8 * SCHEDULER_BATCH
# Unmet filing obligations a listing of due filings reads from the store at once.
DUE_READ_PAGE = 256


# Documents a read over all of them (a list, a check) holds at once.
READ_PAGE = 256


def _every(store: RegistryRepository, where: DocumentFilter) -> Iterator[Document]:
    """Every document `where` selects, in id order, read a page at a time inside the caller's unit:
    it holds one page, where a list of every id grew with the stock."""
    after = ""
    while True:
        page = list(store.find(where, after=after, limit=READ_PAGE))
        yield from page
        if len(page) < READ_PAGE:
            return
        after = page[-1].id


def _clock_page(today: dt.date, after: tuple[dt.date, str], store: RegistryRepository) -> list[tuple[dt.date, str]]:
    return store.clock_due(today, after, SCHEDULER_PAGE)


class RegistryService:
    def __init__(
        self,
        uow: UnitOfWork,
        clock: Clock,
        profile: JurisdictionProfile,
        *,
        new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:16],
        registration_code: str = "CFDR",
        signer: CheckpointSigner | None = None,
        federation: Signer | None = None,
    ) -> None:
        """`signer` signs the history checkpoints; `federation` signs every event as this jurisdiction's."""
        self._uow = uow
        self._clock = clock
        self._profile = profile
        self._new_id = new_id
        self._registration_code = registration_code
        self._signer = signer
        self._federation = federation

    # ---- plumbing ------------------------------------------------------------------------------

    async def _write(self, work: Callable[[RegistryRepository], T]) -> T:
        return await self._uow.write(work)

    async def _read(self, work: Callable[[RegistryRepository], T]) -> T:
        return await self._uow.read(work)

    def _load(self, store: RegistryRepository, doc_id: str, principal: Principal) -> Document:
        doc = store.get(doc_id)
        if doc is None:
            raise NotFound(f"documents/{doc_id}")
        doc.read_on = self.today()
        access.require_visible(principal, doc)
        return doc

    def _save(self, store: RegistryRepository, doc: Document) -> Document:
        changes = doc.pop_changes()
        checkpoint = None
        entries: list[HistoryEntry] | None = None
        if changes and self._signer is not None:
            # The entries the store would seal, sealed once: the signed head is the last one's hash.
            entries = []
            head = store.history_head(doc.name)
            for change in changes:
                entries.append(entry_for(doc.name, change, head))
                head = entries[-1].hash
            checkpoint = self._signer.sign(Checkpoint(doc.name, changes[-1].sequence, head, document_digest(doc)))
        store.save(doc, to_records(doc, changes, checkpoint, self._federation), entries)
        self._schedule(store, doc)
        return doc

    def _schedule(self, store: RegistryRepository, doc: Document) -> None:
        store.schedule(doc.id, doc.next_clock_day(self._profile), list(self._unfiled_of(doc)))

    def _mutate(
        self, doc_id: str, principal: Principal, change: Callable[[Document, dt.datetime], None]
    ) -> Callable[[RegistryRepository], Document]:
        def work(store: RegistryRepository) -> Document:
            doc = self._load(store, doc_id, principal)
            change(doc, self._clock.now())
            return self._save(store, doc)

        return work

    def today(self) -> dt.date:
        return self._profile.local_date(self._clock.now())

    # ---- documents -----------------------------------------------------------------------------

    async def create_document(
        self,
        principal: Principal,
        *,
        request_id: str,
        kind: Kind,
        title: str,
        body: str,
        issuing_body: str,
        number_prefix: str,
        provisional: bool,
        filing_exemption_reason: str = "",
    ) -> Document:
        access.authorize_role(principal, OPERATIONS[Op.CREATE], "creating a draft")
        # Only when given, so a retry of a request stored before the field existed hashes the same.
        exemption = {"filing_exemption_reason": filing_exemption_reason} if filing_exemption_reason else {}
        request = idempotency.Request(
            idempotency.caller_of(principal),
            "CreateDocument",
            request_id,
            idempotency.request_hash(
                kind=kind.value,
                title=title,
                body=body,
                issuing_body=issuing_body,
                number_prefix=number_prefix,
                provisional=provisional,
                **exemption,
            ),
        )

        def work(store: RegistryRepository) -> Document:
            existing = request.replayed(store)
            if existing is not None:
                return self._load(store, existing, principal)
            doc = Document.create(
                id=self._new_id(),
                kind=kind,
                title=title,
                body=body,
                issuing_body=issuing_body,
                number_prefix=number_prefix,
                provisional=provisional,
                principal=principal,
                at=self._clock.now(),
                filing_exemption_reason=filing_exemption_reason,
            )
            request.remember(store, doc.id)
            return self._save(store, doc)

        return await self._write(work)

    async def get_document(self, principal: Principal, doc_id: str) -> Document:
        return await self._read(lambda store: self._load(store, doc_id, principal))

    async def list_documents(
        self,
        principal: Principal,
        *,
        after: str,
        page_size: int,
        state: str,
        kind: str,
        issuing_body: str,
        drafting_org: str,
    ) -> tuple[list[Document], str]:
        access.authorize_drafting_org_filter(principal, drafting_org)
        where = DocumentFilter(state=state, kind=kind, issuing_body=issuing_body, drafting_org=drafting_org)
        today = self.today()

        def work(store: RegistryRepository) -> tuple[list[Document], str]:
            found: list[Document] = []
            cursor = after
            # Visibility is decided per document by the domain, so scan in id order until the page is full.
            while len(found) < page_size:
                batch = list(store.find(where, after=cursor, limit=max(page_size * 2, 50)))
                if not batch:
                    return found, ""
                for doc in batch:
                    cursor = doc.id
                    doc.read_on = today
                    visible = access.visible_versions(principal, doc)
                    if visible and (not state or any(v.state == state for v in visible)):
                        found.append(doc)
                        if len(found) == page_size:
                            return found, cursor
            return found, cursor

        return await self._read(work)

    async def update_draft(
        self, principal: Principal, doc_id: str, *, title: str | None, body: str | None, etag: str
    ) -> Document:
        return await self._write(
            self._mutate(
                doc_id,
                principal,
                lambda doc, at: doc.update_draft(principal, at, title=title, body=body, etag=etag),
            )
        )

    async def open_public_comment(self, principal: Principal, doc_id: str, start: dt.date, end: dt.date) -> Document:
        return await self._write(
            self._mutate(doc_id, principal, lambda doc, at: doc.open_comment(principal, at, self._profile, start, end))
        )

    async def close_public_comment(self, principal: Principal, doc_id: str) -> Document:
        return await self._write(
            self._mutate(doc_id, principal, lambda doc, at: doc.close_comment(principal, at, self._profile))
        )

    async def submit_comment(
        self, principal: Principal, doc_id: str, text: str, version: int | None = None
    ) -> CommentView:
        """`version`, when given, must be the version open for comment (a comment on a stale draft
        would otherwise land on its successor)."""

        def work(store: RegistryRepository) -> CommentView:
            doc = self._load(store, doc_id, principal)
            at = self._clock.now()
            v = doc.check_comment_allowed(at, self._profile)
            if version is not None and version != v.number:
                raise FailedPrecondition(
                    "NOT_OPEN_FOR_COMMENT",
                    f"{doc.version_name(version)} is not open for public comment; {doc.version_name(v.number)} is",
                    resource=doc.version_name(version),
                )
            comment_id = store.add_comment(doc.name, v.number, text, at)
            count = store.comment_count(doc.name, v.number)
            store.publish(comment_received(doc, v.number, count, at, self._federation))
            return CommentView(f"{doc.version_name(v.number)}/comments/{comment_id}", text, at.isoformat(), "")

        return await self._write(work)

    async def list_comments(
        self, principal: Principal, doc_id: str, after_id: int, page_size: int, version: int | None = None
    ) -> tuple[list[CommentView], str]:
        """The comments on `version`, or on every version of the document."""

        def work(store: RegistryRepository) -> tuple[list[CommentView], str]:
            doc = self._load(store, doc_id, principal)
            access.authorize_op(principal, doc, Op.LIST_COMMENTS, "reading comments")
            if version is not None and all(v.number != version for v in doc.versions):
                raise NotFound(doc.version_name(version))
            rows = store.comments(doc.name, after_id, page_size + 1, version)
            views = [
                CommentView(f"{doc.version_name(r.version)}/comments/{r.id}", r.text, r.created_at, r.reply)
                for r in rows[:page_size]
            ]
            token = str(rows[page_size - 1].id) if len(rows) > page_size else ""
            return views, token

        return await self._read(work)

    async def reply_to_comment(
        self, principal: Principal, doc_id: str, version: int, comment_id: int, reply: str
    ) -> CommentView:
        def work(store: RegistryRepository) -> CommentView:
            doc = self._load(store, doc_id, principal)
            access.authorize_op(principal, doc, Op.REPLY_TO_COMMENT, "answering a comment")
            row = store.comment(doc.name, version, comment_id)
            if row is None:
                raise NotFound(f"{doc.version_name(version)}/comments/{comment_id}")
            store.reply(comment_id, reply)
            return CommentView(f"{doc.version_name(version)}/comments/{comment_id}", row.text, row.created_at, reply)

        return await self._write(work)

    async def record_procedure(self, principal: Principal, doc_id: str, procedure: Procedure, summary: str) -> Document:
        return await self._write(
            self._mutate(doc_id, principal, lambda doc, at: doc.record_procedure(principal, at, procedure, summary))
        )

    async def submit_for_review(self, principal: Principal, doc_id: str, etag: str) -> Document:
        return await self._write(
            self._mutate(doc_id, principal, lambda doc, at: doc.submit_for_review(principal, at, etag))
        )

    async def record_deliberation(
        self,
        principal: Principal,
        doc_id: str,
        *,
        adopt: bool,
        meeting: str,
        meeting_date: dt.date,
        reason: str,
    ) -> Document:
        def work(store: RegistryRepository) -> Document:
            doc = store.get(doc_id)
            if doc is None:
                raise NotFound(f"documents/{doc_id}")
            # The government office hears why a topic cannot be deliberated yet (the aggregate decides
            # what it may learn); everyone else does not see a draft they may not see.
            if not access.takes_part_in(principal, Action.ADOPT if adopt else Action.SEND_BACK):
                access.require_visible(principal, doc)
            doc.deliberate(
                principal,
                self._clock.now(),
                self._profile,
                adopt=adopt,
                meeting=meeting,
                meeting_date=meeting_date,
                reason=reason,
            )
            return self._save(store, doc)

        return await self._write(work)

    async def promulgate(
        self,
        principal: Principal,
        doc_id: str,
        *,
        promulgation_date: dt.date | None,
        effective_date: dt.date | None,
        early_effect_reason: str,
        number_sequence: int,
        validity_years: int,
    ) -> Document:
        def work(store: RegistryRepository) -> Document:
            doc = self._load(store, doc_id, principal)
            at = self._clock.now()
            day = promulgation_date or self._profile.local_date(at)
            if not doc.number_prefix:
                raise FailedPrecondition(
                    "NO_NUMBER_PREFIX", f"{doc.name} has no uniform number prefix", resource=doc.name
                )
            sequence = number_sequence or store.highest_sequence(doc.number_prefix, day.year) + 1
            number = UniformNumber(doc.number_prefix, day.year, sequence)
            taken_by = store.number_holder(str(number))
            if taken_by is not None:
                raise AlreadyExists(
                    "UNIFORM_NUMBER_TAKEN",
                    f"{number} was already given to {taken_by}; numbers are never reused",
                )
            registration = registration_number(self._registration_code, day.year, store.next_registration(day.year))
            doc.promulgate(
                principal,
                at,
                self._profile,
                number=number,
                registration_number=registration,
                promulgation_date=day,
                effective_date=effective_date,
                early_effect_reason=early_effect_reason,
                validity_years=validity_years,
            )
            store.hold_number(str(number), number.prefix, number.year, number.sequence, doc.name)
            # Effective today: the scheduler would do it at its next run; do it now so reads agree.
            doc.run_clock(SCHEDULER, at, self._profile)
            return self._save(store, doc)

        return await self._write(work)

    async def record_filing(
        self,
        principal: Principal,
        doc_id: str,
        version: int | None,
        *,
        filed_date: dt.date,
        recipient: str,
        materials: dict[str, bool],
    ) -> tuple[Document, Version]:
        recipient = recipient.strip()

        def work(store: RegistryRepository) -> tuple[Document, Version]:
            doc = self._load(store, doc_id, principal)
            v = doc.record_filing(
                principal,
                self._clock.now(),
                self._profile,
                version=version,
                filed_date=filed_date,
                recipient=recipient,
                materials=materials,
            )
            return self._save(store, doc), v

        return await self._write(work)

    async def record_filing_review(
        self,
        principal: Principal,
        doc_id: str,
        version: int | None,
        outcome: str,
        note: str,
        recipient: str = "",
        correction_due: dt.date | None = None,
    ) -> tuple[Document, Filing]:
        """`correction_due`: for CORRECTION_REQUIRED, the deadline the recipient set; the profile's
        correction period from today when None."""
        today = self.today()
        if outcome == "CORRECTION_REQUIRED" and correction_due is None:
            correction_due = self._profile.correction_due(today)

        def work(store: RegistryRepository) -> tuple[Document, Filing]:
            doc = self._load(store, doc_id, principal)
            f = doc.record_filing_review(
                principal,
                self._clock.now(),
                version=version,
                outcome=outcome,
                note=note,
                today=today,
                recipient=recipient.strip(),
                correction_due=correction_due,
            )
            return self._save(store, doc), f

        return await self._write(work)

    async def record_evaluation(
        self,
        principal: Principal,
        doc_id: str,
        *,
        evaluator: str,
        method: str,
        findings: str,
        conclusion: str,
    ) -> tuple[Document, Evaluation]:
        def work(store: RegistryRepository) -> tuple[Document, Evaluation]:
            doc = self._load(store, doc_id, principal)
            e = doc.record_evaluation(
                principal,
                self._clock.now(),
                evaluator=evaluator,
                method=method,
                findings=findings,
                conclusion=conclusion,
            )
            return self._save(store, doc), e

        return await self._write(work)

    async def list_evaluations(self, principal: Principal, doc_id: str) -> tuple[Document, list[Evaluation]]:
        def work(store: RegistryRepository) -> tuple[Document, list[Evaluation]]:
            doc = self._load(store, doc_id, principal)
            access.authorize_op(principal, doc, Op.LIST_EVALUATIONS, "listing evaluations")
            return doc, list(doc.evaluations)

        return await self._read(work)

    async def due_evaluations(self, principal: Principal) -> list[DueEvaluation]:
        access.authorize_role(principal, OPERATIONS[Op.LIST_DUE_EVALUATIONS], "listing due evaluations")
        today = self.today()

        def work(store: RegistryRepository) -> list[DueEvaluation]:
            out = []
            for doc in _every(store, DocumentFilter(state=State.IN_FORCE.value)):
                due = doc.evaluation_due(today, self._profile)
                if due is None:
                    continue
                v, due_from = due
                assert v.promulgation is not None and v.promulgation.validity_end is not None
                number = str(v.promulgation.number or "")
                out.append(
                    DueEvaluation(doc.version_name(v.number), v.title, number, v.promulgation.validity_end, due_from)
                )
            return sorted(out, key=lambda d: (d.validity_end, d.version))

        return await self._read(work)

    async def start_amendment(
        self, principal: Principal, doc_id: str, evaluation: int | None, request_id: str
    ) -> Document:
        request = idempotency.Request(
            idempotency.caller_of(principal),
            "StartAmendment",
            request_id,
            idempotency.request_hash(document=doc_id, evaluation=evaluation),
        )

        def work(store: RegistryRepository) -> Document:
            doc = self._load(store, doc_id, principal)
            if request.replayed(store) is not None:
                # Authorised as for a first request: a replay tells nobody more than that would.
                access.authorize_op(principal, doc, Op.START_AMENDMENT, "starting an amendment")
                return doc
            doc.start_amendment(principal, self._clock.now(), evaluation)
            request.remember(store, doc_id)
            return self._save(store, doc)

        return await self._write(work)

    async def repeal(
        self, principal: Principal, doc_id: str, reason: str, evaluation: int | None, repealed_by: str
    ) -> Document:
        return await self._write(
            self._mutate(
                doc_id,
                principal,
                lambda doc, at: doc.repeal(
                    principal, at, reason, evaluation=evaluation, repealed_by=repealed_by, today=self.today()
                ),
            )
        )

    async def declare_invalid(self, principal: Principal, doc_id: str, reason: str) -> Document:
        return await self._write(
            self._mutate(doc_id, principal, lambda doc, at: doc.declare_invalid(principal, at, reason, self.today()))
        )

    async def withdraw(self, principal: Principal, doc_id: str, reason: str) -> Document:
        return await self._write(self._mutate(doc_id, principal, lambda doc, at: doc.withdraw(principal, at, reason)))

    async def import_document(
        self,
        principal: Principal,
        *,
        request_id: str,
        kind: Kind,
        issuing_body: str,
        versions: list[ImportedVersion],
    ) -> Document:
        access.authorize_role(principal, OPERATIONS[Op.IMPORT], "importing documents")
        item = ImportItem(request_id, kind, issuing_body, versions)
        return await self._write(lambda store: self._import(store, principal, item))

    async def import_documents(
        self, principal: Principal, items: Sequence[ImportItem | NormregError]
    ) -> list[Document | NormregError]:
        """Imports a batch in one transaction, each item as `import_document` would and inside its
        own savepoint: an item refused (or already refused at the edge, passed in as its error) is
        answered with its error and changes nothing, and the others are imported all the same."""
        access.authorize_role(principal, OPERATIONS[Op.IMPORT], "importing documents")

        def work(store: RegistryRepository) -> list[Document | NormregError]:
            out: list[Document | NormregError] = []
            for item in items:
                if isinstance(item, NormregError):
                    out.append(item)
                    continue
                try:
                    out.append(store.isolated(functools.partial(self._import, store, principal, item)))
                except NormregError as refused:
                    out.append(refused)
            return out

        return await self._write(work)

    def _import(self, store: RegistryRepository, principal: Principal, item: ImportItem) -> Document:
        # The id names the source document for every registrar of this registry: one law is imported
        # once whoever imports it, so the caller is the registry itself.
        request = idempotency.Request(
            "registry",
            "ImportDocument",
            item.request_id,
            idempotency.request_hash(
                kind=item.kind.value,
                issuing_body=item.issuing_body,
                versions=[idempotency.fields_of(v) for v in item.versions],
            ),
        )
        existing = request.replayed(store)
        if existing is not None:
            return self._load(store, existing, principal)
        doc = Document.imported(
            id=self._new_id(),
            kind=item.kind,
            issuing_body=item.issuing_body,
            versions=item.versions,
            principal=principal,
            at=self._clock.now(),
            profile=self._profile,
            today=self.today(),
        )
        # An imported number is held like one we gave: never given again, never imported twice.
        for i, v in enumerate(doc.versions):
            number = v.promulgation.number if v.promulgation else None
            if number is None:
                continue
            holder = store.number_holder(str(number))
            if holder is not None:
                raise AlreadyExists(
                    "UNIFORM_NUMBER_TAKEN",
                    f"versions[{i}].uniform_number {number} is already held by {holder}; numbers are never reused",
                )
            store.hold_number(str(number), number.prefix, number.year, number.sequence, doc.name)
        # What the scheduler's next run would do to it (a validity period already ended, a filing or
        # an evaluation already overdue), in the import's own write: no read ever shows a rule that
        # expired years ago in force while a bulk import's marks catch up.
        doc.run_clock(SCHEDULER, self._clock.now(), self._profile)
        request.remember(store, doc.id)
        return self._save(store, doc)

    # ---- review decisions arriving as events ---------------------------------------------------

    async def apply_review_decisions(
        self, group: str, deliveries: Sequence[Delivery], decisions: Sequence[ReviewDecision]
    ) -> int:
        """Applies a batch with the consumer's positions in one transaction; returns how many applied.

        A decision for an older round, or for a draft withdrawn since, changes nothing."""

        def work(store: RegistryRepository) -> int:
            applied = 0
            for d in decisions:
                if not store.accept_sequence(d.source, d.subject, d.sequence):
                    continue
                doc = store.get(d.document_id)
                if doc is None:
                    continue
                if doc.apply_review_decision(
                    d.decision,
                    version=d.version,
                    review_round=d.review_round,
                    reviewer=d.reviewer,
                    review=d.review,
                    at=d.at,
                ):
                    self._save(store, doc)
                    applied += 1
            store.save_positions(group, deliveries)
            return applied

        return await self._write(work)

    # ---- filing outcomes arriving as events from the recipients ---------------------------------

    async def apply_recipient_events(
        self, group: str, deliveries: Sequence[Delivery], events: Sequence[RecipientEvent]
    ) -> int:
        """Applies a batch of recipients' reports with the consumer's positions in one transaction;
        returns how many applied. Raises for a report that cannot be applied (a copy of one already
        applied, a document or a filing that does not exist here): the consumer then applies the batch
        record by record and sets that one aside."""

        def work(store: RegistryRepository) -> int:
            for e in events:
                if not store.accept_sequence(e.source, e.subject, e.sequence):
                    raise Replayed(f"{e.source} {e.subject}", e.sequence)
                doc = store.get(e.document_id)
                if doc is None:
                    raise NotFound(f"documents/{e.document_id}")
                doc.read_on = self.today()
                doc.apply_recipient_report(e.report, e.at, self.today())
                self._save(store, doc)
            store.save_positions(group, deliveries)
            return len(events)

        return await self._write(work)

    # ---- history -------------------------------------------------------------------------------

    async def get_history(self, principal: Principal, doc_id: str) -> list[HistoryEntry]:
        def work(store: RegistryRepository) -> list[HistoryEntry]:
            doc = self._load(store, doc_id, principal)
            access.authorize_op(principal, doc, Op.READ_HISTORY, "reading the internal history")
            # Entries of versions the caller may not see (and who drafted them) are not its to read.
            readable = access.history_versions(principal, doc)
            return [e for e in store.history(doc.name) if e.version in readable]

        return await self._read(work)

    async def verify_history(
        self, principal: Principal, doc_id: str | None, witnessed: Sequence[str] = ()
    ) -> tuple[int, int, list[str]]:
        """Checks every chain, that each document is in the state its history ends in, and the
        database against `witnessed`: checkpoints kept outside the registry (newest per document)."""
        access.authorize_role(principal, OPERATIONS[Op.VERIFY_HISTORY], "verifying history")
        problems: list[str] = []
        checkpoints: dict[str, Checkpoint] = {}
        for i, token in enumerate(witnessed):
            if self._signer is None:
                problems.append("this registry has no checkpoint key: witnessed checkpoints cannot be checked")
                break
            try:
                checkpoint = self._signer.open(token)
            except InvalidCheckpoint as exc:
                problems.append(f"witnessed checkpoint {i}: {exc}")
                continue
            known = checkpoints.get(checkpoint.document)
            if known is None or known.sequence < checkpoint.sequence:
                checkpoints[checkpoint.document] = checkpoint

        def work(store: RegistryRepository) -> tuple[int, int, list[str]]:
            docs: Iterable[Document]
            if doc_id:
                one = store.get(doc_id)
                if one is None:
                    raise NotFound(f"documents/{doc_id}")
                docs = [one]
            else:
                docs = _every(store, DocumentFilter())
            checked = entries = 0
            for doc in docs:
                checked += 1
                chain = store.history(doc.name)
                entries += len(chain)
                problems.extend(verify_chain(doc.name, chain))
                problems.extend(state_problems(doc, chain))
                seen = checkpoints.pop(doc.name, None)
                if seen is not None:
                    problems.extend(witness_problems(doc, chain, seen))
            if not doc_id:
                problems.extend(
                    f"{name}: the witness saw entry {seen.sequence} but the registry has no such document (deleted)"
                    for name, seen in sorted(checkpoints.items())
                )
            return checked, entries, problems

        return await self._read(work)

    # ---- filing --------------------------------------------------------------------------------

    async def filing_report(
        self, principal: Principal, year: int, issuing_body: str, recipient: str = ""
    ) -> list[ReportRow]:
        access.authorize_role(principal, OPERATIONS[Op.REPORTS], "reading the filing report")

        def work(store: RegistryRepository) -> list[ReportRow]:
            # Streamed into the report: it keeps what it counts, not every event read.
            events = (
                (type_, document, version, recorded_details(raw))
                for type_, document, version, raw in store.events_of_types(
                    ["promulgated", "imported", "filing_recorded", "filing_reviewed", "filing_materials_requested"]
                )
            )
            return FilingReport.from_events(events).select(year, issuing_body, recipient)

        return await self._read(work)

    async def due_filings(self, principal: Principal, within_days: int) -> list[DueFiling]:
        """Every filing due within `within_days` and every overdue one, a page at a time."""
        out: list[DueFiling] = []
        after, more = UNFILED_START, True
        while more:
            page, more = await self.due_filings_page(principal, within_days, after=after, size=DUE_READ_PAGE)
            out.extend(d for _, d in page)
            after = page[-1][0] if page else after
        return out

    async def due_filings_page(
        self,
        principal: Principal,
        within_days: int,
        *,
        after: UnfiledKey = UNFILED_START,
        size: int = 500,
    ) -> tuple[list[tuple[UnfiledKey, DueFiling]], bool]:
        """Up to `size` filings due by the horizon (overdue ones included), by due day, document,
        version and recipient, after the obligation keyed `after`, each with its key, and whether
        more follow: read from the store's table of unmet obligations a page at a time (the listing
        read every one due and sorted them, hundreds of thousands when that many were overdue)."""
        access.authorize_role(principal, OPERATIONS[Op.REPORTS], "listing due filings")
        today = self.today()
        horizon = today + dt.timedelta(days=within_days)

        def work(store: RegistryRepository) -> tuple[list[tuple[UnfiledKey, DueFiling]], bool]:
            out: list[tuple[UnfiledKey, DueFiling]] = []
            cursor = after
            # A document's obligations due the same day come together: it is read once for them.
            doc: Document | None = None
            while True:
                batch = store.unfiled_after(horizon, cursor, DUE_READ_PAGE)
                for o in batch:
                    if doc is None or doc.id != o.document:
                        doc = store.get(o.document)
                    v = next((v for v in doc.versions if v.number == o.version), None) if doc else None
                    if doc is None or v is None or v.promulgation is None:
                        continue
                    if len(out) == size:
                        return out, True
                    number = str(v.promulgation.number or "")
                    obligation = v.obligation(o.recipient)
                    awaiting = obligation.filing.awaiting_sender if obligation and obligation.filing else None
                    step = awaiting[0] if awaiting else "FILE"
                    name = doc.version_name(v.number)
                    due = DueFiling(name, v.title, number, o.due, o.due < today, o.recipient, step)
                    out.append((o.key, due))
                if len(batch) < DUE_READ_PAGE:
                    return out, False
                cursor = batch[-1].key

        return await self._read(work)

    async def filing_obligations(self) -> tuple[int, int]:
        """For monitoring: versions still to be filed whose deadline has not passed, and those overdue."""
        today = self.today()
        # Counted in the store's table of unmet obligations: this runs every scheduler interval, and
        # reading every document for it grew the process by gigabytes and a core's minute at 100k.
        return await self._read(lambda store: store.unfiled_counts(today))

    def _unfiled_of(self, doc: Document) -> Iterator[UnfiledObligation]:
        """Filing obligations of the document's promulgated versions not yet met (not filed, or filed
        and waiting for what the recipient asked of the issuing body)."""
        # The duty to file arises at promulgation (立法法 第一百零九条) and nothing ends it: a version
        # repealed or declared invalid before it was filed still owes its filings, as the reports on
        # both sides count it, and may still be filed.
        if not doc.filing_required or not any(v.state in PROMULGATED_STATES for v in doc.versions):
            return
        for v in doc.versions:
            if v.promulgation is None:
                continue
            if v.obligations:
                for o in v.obligations:
                    if o.filing is None:
                        yield UnfiledObligation(doc.id, v.number, o.recipient, o.due_date)
                    elif (awaiting := o.filing.awaiting_sender) is not None:
                        # Filed, and the recipient waits for the materials or the correction it asked
                        # for, by its own deadline: still owed, listed and counted with the others.
                        yield UnfiledObligation(doc.id, v.number, o.recipient, awaiting[1])
                continue
            # Promulgated before obligations were kept per recipient: one obligation whose recipient
            # is not known, owed like the others. An imported version owes none the registry knows
            # of: whether it was filed before it was registered is not known here, the reports
            # count it once a filing of it is recorded, and the list does so too.
            if v.promulgated_elsewhere:
                continue
            try:
                due = self._profile.filing_due(v.promulgation.promulgation_date)
            except (OverflowError, ValueError):
                # Stored before dates were bounded: such a deadline lies beyond any calendar.
                log.error("%s: no filing deadline for %s", doc.version_name(v.number), v.promulgation)
                continue
            yield UnfiledObligation(doc.id, v.number, "", due)

    # ---- cleanup -------------------------------------------------------------------------------

    async def create_campaign(
        self, principal: Principal, request_id: str, title: str, documents: list[str]
    ) -> Campaign:
        access.authorize_role(principal, OPERATIONS[Op.CLEANUP], "cleanup campaigns")

        request = idempotency.Request(
            idempotency.caller_of(principal),
            "CreateCleanupCampaign",
            request_id,
            idempotency.request_hash(title=title, documents=documents),
        )

        def work(store: RegistryRepository) -> Campaign:
            if request_id:
                existing = request.replayed(store)
                if existing is not None:
                    found = store.campaign(existing)
                    assert found is not None
                    return found
            for i, name in enumerate(documents):
                doc = store.get(name.removeprefix("documents/"))
                if doc is None:
                    raise NotFound(name)
                if doc.in_force_version() is None:
                    raise FailedPrecondition(
                        "CLEANUP_DOCUMENT_NOT_IN_FORCE",
                        f"documents[{i}] {name} is {doc.latest.state}; cleanup reviews documents in force",
                        resource=name,
                    )
            if len(set(documents)) != len(documents):
                raise InvalidArgument("documents", "a document is listed twice")
            campaign = Campaign(self._new_id(), title, list(documents), self._clock.now())
            store.save_campaign(campaign)
            request.remember(store, campaign.id)
            return campaign

        return await self._write(work)

    async def record_cleanup_outcome(self, principal: Principal, campaign_id: str, outcome: Outcome) -> Campaign:
        access.authorize_role(principal, OPERATIONS[Op.CLEANUP], "cleanup campaigns")

        def work(store: RegistryRepository) -> Campaign:
            campaign = store.campaign(campaign_id)
            if campaign is None:
                raise NotFound(f"cleanupCampaigns/{campaign_id}")
            campaign.record(outcome)
            store.save_campaign(campaign)
            return campaign

        return await self._write(work)

    async def apply_campaign(self, principal: Principal, campaign_id: str) -> Campaign:
        access.authorize_role(principal, OPERATIONS[Op.CLEANUP], "cleanup campaigns")

        def work(store: RegistryRepository) -> Campaign:
            campaign = store.campaign(campaign_id)
            if campaign is None:
                raise NotFound(f"cleanupCampaigns/{campaign_id}")
            campaign.check_ready()
            at = self._clock.now()
            # All or nothing: a failure on any document rolls back the whole transaction.
            for name in campaign.documents:
                doc = store.get(name.removeprefix("documents/"))
                if doc is None:
                    raise NotFound(name)
                outcome = campaign.outcomes[name]
                doc.apply_cleanup(
                    principal, at, outcome.outcome, outcome.reason or "retained", campaign.name, self.today()
                )
                self._save(store, doc)
            campaign.applied = True
            store.save_campaign(campaign)
            return campaign

        return await self._write(work)

    # ---- time ----------------------------------------------------------------------------------

    async def run_scheduler(self, stopping: Callable[[], bool] = lambda: False) -> SchedulerRun:
        """Applies every time-driven transition due now, each document in its own savepoint of a
        transaction that holds a few dozen: one that fails is rolled back and reported, and the run
        goes on with the others. (A transaction each cost a commit each: after an import of a
        hundred thousand documents, some eighty thousand of them, one by one, beside the import.)

        `stopping` is asked before each transaction: once it says yes the run ends there, its rest
        still due for the next run. (At a million documents one run marks hundreds of thousands,
        and a service told to stop waited for all of them.)"""
        today = self.today()
        run = SchedulerRun()
        # Only the documents whose next clock day has come, a page at a time, each page read after
        # the last one's end: the run holds one page, not every document due. (Holding them all,
        # the registry's peak RSS grew with the stock: 106 MiB with 30,000 due, 118 with 100,000;
        # a page at a time, 103 with either.)
        after = CLOCK_START
        while not run.stopped:
            page = await self._read(functools.partial(_clock_page, today, after))
            if not page:
                break
            after = page[-1]
            ids = [doc_id for _, doc_id in page]
            for start in range(0, len(ids), SCHEDULER_BATCH):
                if stopping():
                    run.stopped = True
                    break
                chunk = ids[start : start + SCHEDULER_BATCH]
                try:
                    outcomes = await self._write(functools.partial(self._clock_batch, chunk))
                except Exception:  # the transaction itself (not one document): each alone, as before
                    outcomes = [await self._clock_alone(doc_id) for doc_id in chunk]
                for doc_id, changed, error in outcomes:
                    run.changed += changed
                    if error is not None:
                        run.failed.append((f"documents/{doc_id}", f"{type(error).__name__}: {error}"))
        return run

    def _clock_batch(self, ids: Sequence[str], store: RegistryRepository) -> list[tuple[str, bool, Exception | None]]:
        out: list[tuple[str, bool, Exception | None]] = []
        for doc_id in ids:
            try:
                out.append((doc_id, store.isolated(functools.partial(self._run_clock, store, doc_id)), None))
            except Exception as exc:  # this document's data, not the run: the others must still move
                out.append((doc_id, False, exc))
        return out

    async def _clock_alone(self, doc_id: str) -> tuple[str, bool, Exception | None]:
        try:
            return doc_id, await self._write(lambda store: self._run_clock(store, doc_id)), None
        except Exception as exc:
            return doc_id, False, exc

    def _run_clock(self, store: RegistryRepository, doc_id: str) -> bool:
        doc = store.get(doc_id)
        if doc is None:
            return False
        if not doc.run_clock(SCHEDULER, self._clock.now(), self._profile):
            self._schedule(store, doc)
            return False
        self._save(store, doc)
        return True
