"""FilingReviewService's use cases: what arrives from subordinates' streams, and what the recipient's
reviewers and the public do with it. Every write is one transaction of the service's own store, and
what the sender is told of a change (signed with this jurisdiction's key) is written to the outbox in
that same transaction."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from normreg_common import metrics
from normreg_common.clock import Clock
from normreg_common.errors import Aborted, InvalidArgument, NotFound
from normreg_common.eventlog.port import Delivery
from normreg_common.federation import public_key_text
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_filing.application.events import to_records
from normreg_filing.application.inbound import FilingSent, Inbound, VersionState
from normreg_filing.application.ports import Repository as FilingRepository
from normreg_filing.application.ports import Store
from normreg_filing.application.verification import Comparison, Verification
from normreg_filing.domain import access
from normreg_filing.domain.lifecycle import FilingState, Outcome
from normreg_filing.domain.received import ReceivedFiling, authorize
from normreg_filing.domain.suggestions import (
    ReviewSuggestion,
    document_parts,
    require_not_ended,
    require_suggestible,
)
from normreg_filing.domain.supervision import MissingFiling, SeenPromulgation, SubordinateReport

log = logging.getLogger(__name__)
# Stored filings a listing reads at once.
READ_PAGE = 256
# Outbox events or filings the verification reads at once.
VERIFY_PAGE = 1000


class FilingReviewService:
    def __init__(self, store: Store, clock: Clock, profile: JurisdictionProfile, *, key: Ed25519PrivateKey) -> None:
        """`key` signs the events sent back to senders as this jurisdiction (`profile.name`)."""
        self._store = store
        self._clock = clock
        self._profile = profile
        self._key = key

    @property
    def bodies(self) -> frozenset[str]:
        """The recipients this deployment receives filings for."""
        return frozenset(self._profile.issuing_bodies)

    def today(self) -> dt.date:
        return self._profile.local_date(self._clock.now())

    # ---- from subordinates' streams ------------------------------------------------------------

    async def apply(
        self, sender: str, inbound: Sequence[Inbound], group: str = "", deliveries: Sequence[Delivery] = ()
    ) -> int:
        """Applies a batch of one subordinate's events once each, with the consumer's positions in the
        same transaction; returns how many messages changed anything."""

        def work(repo: FilingRepository) -> tuple[int, list[Inbound]]:
            if group:
                repo.save_positions(group, deliveries)
            changed, copies = 0, []
            for item in inbound:
                if not repo.accept_sequence(f"{sender}:{item.source}", item.subject, item.sequence):
                    copies.append(item)
                    continue
                for message in item.messages:
                    if isinstance(message, VersionState):
                        # What suggestions are checked against; not a filing or a sighting counted.
                        self._record_state(repo, sender, message)
                        continue
                    if isinstance(message, SeenPromulgation):
                        repo.see(message)
                    else:
                        self._arrived(repo, message)
                    changed += 1
            return changed, copies

        changed, copies = await self._store.write(work)
        # A copy of an event already applied is never applied again. It may be a replay or a record
        # the sender's relay sent twice after a crash (the two look alike), so it is counted and
        # logged for the operator rather than kept as a dead letter that no retry could ever apply.
        for item in copies:
            metrics.record_replayed(sender)
            log.warning(
                "event %d of %s from %s was already applied; this copy is not applied again",
                item.sequence,
                item.subject,
                sender,
            )
        return changed

    async def apply_own(
        self, states: Sequence[VersionState], group: str = "", deliveries: Sequence[Delivery] = ()
    ) -> None:
        """Records the states this deployment's own versions moved to, each event once, with the
        consumer's positions in the same transaction."""

        def work(repo: FilingRepository) -> None:
            if group:
                repo.save_positions(group, deliveries)
            for s in states:
                if repo.accept_sequence(f"{self._profile.name}:{s.source}", s.subject, s.sequence):
                    self._record_state(repo, self._profile.name, s)

        await self._store.write(work)

    @staticmethod
    def _record_state(repo: FilingRepository, sender: str, s: VersionState) -> None:
        repo.set_version_state(sender, s.document, s.version, s.state, s.kind)

    def _arrived(self, repo: FilingRepository, m: FilingSent) -> None:
        existing = repo.filing_of(m.sender, m.document, m.recipient)
        if existing is None:
            if m.answers_version:
                self._answered_by_amendment(repo, m)
            self._save(
                repo,
                ReceivedFiling.receive(
                    id=uuid.uuid4().hex[:16],
                    sender=m.sender,
                    issuing_body=m.issuing_body,
                    document=m.document,
                    title=m.title,
                    kind=m.kind,
                    uniform_number=m.uniform_number,
                    promulgation_date=m.promulgation_date,
                    due_date=m.due_date,
                    filed_date=m.filed_date,
                    recipient=m.recipient,
                    materials=m.materials,
                    at=m.at,
                ),
            )
            return
        # Sent again: the materials asked for, or the answer to a required correction.
        if existing.state == FilingState.MATERIALS_REQUESTED:
            existing.complete_materials(m.at, self._profile, m.materials)
        elif existing.state == FilingState.CORRECTION_REQUIRED:
            existing.answer_correction(m.at, f"refiled on {m.filed_date}")
        else:
            return
        self._save(repo, existing)

    def _answered_by_amendment(self, repo: FilingRepository, m: FilingSent) -> None:
        """The amending version is a filing of its own (an amended rule is filed again, reviewed and
        counted as such) and the answer to the correction required of the version it amends. Only
        that sender's filing of that document with the same recipient is answered, and only while it
        awaits the answer; anything else (answered already, a version of another document) is left
        alone: the new filing still arrives."""
        if m.answers_version.rsplit("/versions/", 1)[0] != m.document.rsplit("/versions/", 1)[0]:
            return
        earlier = repo.filing_of(m.sender, m.answers_version, m.recipient)
        if earlier is None or earlier.state != FilingState.CORRECTION_REQUIRED:
            return
        earlier.answer_correction(m.at, f"amended by {m.document}, filed on {m.filed_date}", amended_by=m.document)
        self._save(repo, earlier)

    def _save(self, repo: FilingRepository, f: ReceivedFiling) -> None:
        """Stores the filing with the signed events of its new changes, numbered on from the last."""
        records = to_records(f, f.changes, f.published_sequence + 1, self._profile.name, self._key)
        f.published_sequence += len(records)
        f.changes.clear()
        repo.save_filing(f, records)

    # ---- the recipient's reviewers (and the sender's people, reading) ------------------------

    async def list_received(
        self,
        principal: Principal,
        *,
        sender: str = "",
        state: str = "",
        due_before: dt.date | None = None,
        recipient: str = "",
    ) -> list[ReceivedFiling]:
        """Reviewers see every filing; the sender's people their issuing body's, without notes."""
        out: list[ReceivedFiling] = []
        after, more = 0, True
        while more:
            page, more = await self.received_page(
                principal, sender=sender, state=state, due_before=due_before, recipient=recipient, after=after
            )
            out.extend(f for _, f in page)
            after = page[-1][0] if page else after
        return out

    async def received_page(
        self,
        principal: Principal,
        *,
        sender: str = "",
        state: str = "",
        due_before: dt.date | None = None,
        recipient: str = "",
        after: int = 0,
        size: int = 500,
    ) -> tuple[list[tuple[int, ReceivedFiling]], bool]:
        """Up to `size` of the filings `list_received` lists, after arrival position `after`, each
        with its position, and whether more follow: read from the store a page at a time (a page of
        the listing read every filing before)."""
        access.check_may_list(principal)

        def listed(f: ReceivedFiling) -> bool:
            if due_before is not None and ((due := access.awaited_due(f)) is None or due > due_before):
                return False
            return access.visible(principal, f)

        def work(repo: FilingRepository) -> tuple[list[tuple[int, ReceivedFiling]], bool]:
            out: list[tuple[int, ReceivedFiling]] = []
            cursor = after
            while True:
                batch = repo.filings_after(cursor, READ_PAGE, sender=sender, state=state, recipient=recipient)
                for pos, f in batch:
                    if listed(f):
                        if len(out) == size:
                            return out, True
                        out.append((pos, access.view(principal, f)))
                if len(batch) < READ_PAGE:
                    return out, False
                cursor = batch[-1][0]

        return await self._store.read(work)

    async def get_received(self, principal: Principal, id: str) -> ReceivedFiling:
        access.check_may_list(principal)
        return access.view(principal, await self._store.read(lambda repo: self._filing(repo, id)))

    async def register(
        self, principal: Principal, id: str, missing: list[str], note: str, etag: str = ""
    ) -> ReceivedFiling:
        return await self._change(
            id, lambda f: f.register(principal, self._clock.now(), self._profile, missing=missing, note=note), etag
        )

    async def decide(
        self,
        principal: Principal,
        id: str,
        outcome: Outcome,
        reasons: str,
        provisions: list[str],
        note: str,
        etag: str = "",
    ) -> ReceivedFiling:
        return await self._change(
            id,
            lambda f: f.decide(
                principal,
                self._clock.now(),
                self._profile,
                outcome=outcome,
                reasons=reasons,
                provisions=provisions,
                note=note,
            ),
            etag,
        )

    async def record_correction_response(
        self, principal: Principal, id: str, response: str, etag: str = ""
    ) -> ReceivedFiling:
        """The issuing body's answer as received on paper or by letter, recorded by a reviewer."""
        authorize(principal, "recording the answer to a correction")
        return await self._change(id, lambda f: f.answer_correction(self._clock.now(), response, str(principal)), etag)

    async def _change(self, id: str, step: Callable[[ReceivedFiling], None], etag: str = "") -> ReceivedFiling:
        def work(repo: FilingRepository) -> ReceivedFiling:
            f = self._filing(repo, id)
            if etag and etag != access.etag(f):
                raise Aborted(f"{f.name} changed since it was read; read it again")
            step(f)
            self._save(repo, f)
            return f

        return await self._store.write(work)

    @staticmethod
    def _filing(repo: FilingRepository, id: str) -> ReceivedFiling:
        f = repo.filing(id)
        if f is None:
            raise NotFound(f"receivedFilings/{id}")
        return f

    # ---- review suggestions --------------------------------------------------------------------

    async def submit_suggestion(
        self,
        *,
        document: str,
        sender: str,
        provisions: list[str],
        reasons: str,
        contact: str,
        requester_kind: str,
    ) -> ReviewSuggestion:
        """Anyone, without an account: the public's way to ask for a review (审查建议). `sender` is
        the jurisdiction that issued the document: this deployment's own when empty, else one the
        recipient knows (so the yearly counts per subordinate cannot be filled with invented names)."""
        sender = sender or self._profile.name
        if sender not in await self.jurisdictions():
            raise InvalidArgument("sender", f"{sender!r} is not a jurisdiction this recipient receives filings from")
        s = ReviewSuggestion.submit(
            id=uuid.uuid4().hex[:16],
            document=document,
            sender=sender,
            provisions=provisions,
            reasons=reasons,
            contact=contact,
            requester_kind=requester_kind,
            at=self._clock.now(),
            profile=self._profile,
        )
        own = sender == self._profile.name
        named, version = document_parts(document)

        def work(repo: FilingRepository) -> None:
            # Only a text this recipient reviews: its own deployment's promulgated and in force, or
            # a subordinate's filed here or owed here. Without this an invented name would be
            # stored and counted in the sender's yearly report as a suggestion received.
            states, kind = repo.version_states(sender, named), repo.version_kind(sender, named)
            if own:
                require_suggestible(document, states, kind)
            elif not repo.received_or_owed(sender, named, version):
                raise NotFound(
                    document,
                    f"{sender} has filed no such document with {self._profile.name}, nor promulgated one owed here",
                )
            else:
                # What its stream said since (a stream read before states were recorded says
                # nothing, and the filing or the promulgation owed stands for it).
                require_not_ended(document, states, kind)
            repo.save_suggestion(s)

        await self._store.write(work)
        return s

    async def list_suggestions(
        self, principal: Principal, sender: str = "", *, unanswered_only: bool = False
    ) -> list[ReviewSuggestion]:
        out: list[ReviewSuggestion] = []
        after, more = 0, True
        while more:
            page, more = await self.suggestions_page(principal, sender, unanswered_only=unanswered_only, after=after)
            out.extend(s for _, s in page)
            after = page[-1][0] if page else after
        return out

    async def suggestions_page(
        self, principal: Principal, sender: str = "", *, unanswered_only: bool = False, after: int = 0, size: int = 500
    ) -> tuple[list[tuple[int, ReviewSuggestion]], bool]:
        """Up to `size` of the suggestions `list_suggestions` lists, after position `after`, each with
        its position, and whether more follow: read from the store a page at a time."""
        authorize(principal, "listing review suggestions")

        def work(repo: FilingRepository) -> tuple[list[tuple[int, ReviewSuggestion]], bool]:
            out: list[tuple[int, ReviewSuggestion]] = []
            cursor = after
            while True:
                batch = repo.suggestions_after(cursor, READ_PAGE, sender=sender)
                for pos, s in batch:
                    if not (unanswered_only and s.answered):
                        if len(out) == size:
                            return out, True
                        out.append((pos, s))
                if len(batch) < READ_PAGE:
                    return out, False
                cursor = batch[-1][0]

        return await self._store.read(work)

    async def reply_to_suggestion(self, principal: Principal, id: str, reply: str) -> ReviewSuggestion:
        def work(repo: FilingRepository) -> ReviewSuggestion:
            s = repo.suggestion(id)
            if s is None:
                raise NotFound(f"reviewSuggestions/{id}")
            s.answer(principal, self._clock.now(), self._profile, reply)
            repo.save_suggestion(s)
            return s

        return await self._store.write(work)

    # ---- supervision ---------------------------------------------------------------------------

    async def jurisdictions(self) -> list[str]:
        """This deployment's own jurisdiction, those its profile lists keys for, and every sender it
        has seen a promulgation, a filing or a suggestion of."""

        names = {self._profile.name, *(name for name, _ in self._profile.federation_keys)}
        return sorted(names | set(await self._store.read(lambda repo: repo.senders())))

    async def missing(self, principal: Principal, sender: str = "", overdue: bool | None = None) -> list[MissingFiling]:
        """Missed filings, due first; `overdue` True/False keeps those past/before their deadline only."""
        out: list[MissingFiling] = []
        after, more = 0, True
        while more:
            page, more = await self.missing_page(principal, sender, overdue, after=after, size=READ_PAGE)
            out.extend(m for _, m in page)
            after = page[-1][0] if page else after
        return out

    async def missing_page(
        self, principal: Principal, sender: str = "", overdue: bool | None = None, *, after: int = 0, size: int = 500
    ) -> tuple[list[tuple[int, MissingFiling]], bool]:
        """Up to `size` of the missed filings `missing` lists, after the one at position `after`,
        each with its position, and whether more follow: one page read from the store (the listing
        read every promulgation seen and every filing for each page before)."""
        authorize(principal, "listing missed filings")
        today = self.today()
        # Overdue when today is past the deadline: the deadline's range on the store's index.
        due_from = today if overdue is False else None
        due_until = today - dt.timedelta(days=1) if overdue is True else None

        def work(repo: FilingRepository) -> tuple[list[tuple[int, MissingFiling]], bool]:
            found = repo.missing_after(after, size + 1, sender=sender, due_from=due_from, due_until=due_until)
            if found is None:
                raise InvalidArgument("page_token", "not a page token issued for this list; start without one")
            page = [(pos, MissingFiling(p, today > p.due_date)) for pos, p in found[:size]]
            return page, len(found) > size

        return await self._store.read(work)

    async def report(self, principal: Principal, sender: str, year: int) -> SubordinateReport:
        """Refuses a jurisdiction the recipient does not know: a misspelt name would read as a city
        that filed nothing."""
        authorize(principal, "reading the report on a subordinate jurisdiction")
        if sender not in await self.jurisdictions():
            raise InvalidArgument("sender", f"{sender!r} is not a jurisdiction this recipient receives filings from")
        # Counted by the store (domain.supervision.subordinate_report defines the counts).
        return await self._store.read(lambda repo: repo.report(sender, year))

    async def reports(self, principal: Principal, year: int) -> list[SubordinateReport]:
        """One report per jurisdiction the recipient knows of (`jurisdictions`), read in one snapshot."""
        authorize(principal, "reading the report on subordinate jurisdictions")
        senders = await self.jurisdictions()
        return await self._store.read(lambda repo: [repo.report(sender, year) for sender in senders])

    # ---- verification --------------------------------------------------------------------------

    async def verify_received_filings(self, principal: Principal) -> Verification:
        """What the senders were told against what this service holds (application.verification),
        read in one snapshot."""
        authorize(principal, "verifying the received filings")

        keys = {public_key_text(self._key), *self._profile.keys_of(self._profile.name)}

        # A page at a time inside the one snapshot: the outbox of a province's archive does not fit
        # in memory as events, and the signatures are checked on the store's thread, not the loop's.
        def work(repo: FilingRepository) -> Verification:
            comparison = Comparison(self._profile.name, keys)
            position = 0
            while page := repo.outbox(position, VERIFY_PAGE):
                comparison.told(page)
                position = page[-1].position
            arrived = 0
            while filings := repo.filings_after(arrived, VERIFY_PAGE):
                comparison.held(f for _, f in filings)
                arrived = filings[-1][0]
            return comparison.done()

        return await self._store.read(work)
