"""The document aggregate: a work with its versions. Every change is checked against the lifecycle
table and the gates of the law, then recorded as a Change; the aggregate never publishes anything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from normreg_common.errors import FailedPrecondition, InvalidArgument
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile, add_months, add_years

from normreg_registry.domain import access
from normreg_registry.domain.articles import Article, split_articles
from normreg_registry.domain.lifecycle import (
    FILING_KINDS,
    IMPORT_ONLY_KINDS,
    MAJOR_DECISION_PROCEDURES,
    OPERATIONS,
    PHRASES,
    PRE_PROMULGATION,
    PROCEDURE_NAMES,
    PROMULGATED_STATES,
    RULE_KINDS,
    TRANSITIONS,
    Action,
    Kind,
    Op,
    Procedure,
    State,
    check_transition,
)
from normreg_registry.domain.numbers import UniformNumber


@dataclass(frozen=True)
class Change:
    """One recorded change: becomes a history entry and an event."""

    action: str
    version: int
    from_state: State | None
    to_state: State | None
    actor: str
    at: dt.datetime
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    sequence: int = 0


@dataclass
class CommentWindow:
    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


@dataclass
class ProcedureRecord:
    procedure: Procedure
    summary: str
    at: dt.datetime


@dataclass
class Promulgation:
    # None for existing rules imported without a number of ours (national laws have none).
    number: UniformNumber | None
    registration_number: str
    promulgation_date: dt.date
    effective_date: dt.date
    validity_end: dt.date | None = None
    early_effect_reason: str = ""


@dataclass
class Filing:
    filed_date: dt.date
    recipient: str
    materials: dict[str, bool]
    due_date: dt.date
    outcome: str = ""
    outcome_note: str = ""

    MATERIALS = ("text", "drafting_explanation", "legal_basis", "legality_review_opinion")

    @property
    def complete(self) -> bool:
        return all(self.materials.get(m, False) for m in self.MATERIALS)

    @property
    def on_time(self) -> bool:
        return self.filed_date <= self.due_date


@dataclass
class Evaluation:
    id: int
    version: int
    evaluator: str
    method: str
    findings: str
    conclusion: str
    at: dt.datetime
    led_to: str = ""


@dataclass
class TimelineEntry:
    date: dt.date
    event: str
    note: str = ""
    related: str = ""


@dataclass
class Version:
    number: int
    state: State
    title: str
    body: str
    created_at: dt.datetime
    updated_at: dt.datetime
    revision: int = 1
    approved_revision: int = 0
    review_round: int = 0
    deliberated: bool = False
    drafters: list[str] = field(default_factory=list)
    comment_window: CommentWindow | None = None
    completed_comment_windows: list[CommentWindow] = field(default_factory=list)
    procedures: dict[Procedure, ProcedureRecord] = field(default_factory=dict)
    promulgation: Promulgation | None = None
    filing: Filing | None = None
    filing_overdue_flagged: bool = False
    evaluation_due_flagged: bool = False
    amends: int | None = None
    amended_by: int | None = None
    repealed_by: str = ""
    state_reason: str = ""
    timeline: list[TimelineEntry] = field(default_factory=list)

    @property
    def articles(self) -> tuple[Article, ...]:
        return split_articles(self.body)


@dataclass
class Document:
    id: str
    kind: Kind
    issuing_body: str
    number_prefix: str
    drafting_org: str
    provisional: bool
    created_at: dt.datetime
    versions: list[Version] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    sequence: int = 0
    updated_at: dt.datetime | None = None
    changes: list[Change] = field(default_factory=list, repr=False, compare=False)

    # ---- identity and lookup -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return f"documents/{self.id}"

    @property
    def etag(self) -> str:
        return f"s{self.sequence}"

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def version(self, number: int) -> Version:
        for v in self.versions:
            if v.number == number:
                return v
        raise InvalidArgument("name", f"{self.name} has no version {number}")

    def in_force_version(self) -> Version | None:
        return next((v for v in self.versions if v.state == State.IN_FORCE), None)

    def version_name(self, number: int) -> str:
        return f"{self.name}/versions/{number}"

    # ---- creation ------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        id: str,
        kind: Kind,
        title: str,
        body: str,
        issuing_body: str,
        number_prefix: str,
        provisional: bool,
        principal: Principal,
        at: dt.datetime,
    ) -> Document:
        access.authorize_role(principal, OPERATIONS[Op.CREATE], "creating a draft")
        if kind in IMPORT_ONLY_KINDS:
            raise FailedPrecondition(
                "KIND_IMPORT_ONLY",
                f"{kind} documents are made by national bodies; register them with ImportDocument",
            )
        if not principal.org:
            raise FailedPrecondition("NO_ORGANISATION", "the caller's token names no drafting organisation")
        doc = cls(
            id=id,
            kind=kind,
            issuing_body=issuing_body,
            number_prefix=number_prefix,
            drafting_org=principal.org,
            provisional=provisional,
            created_at=at,
            updated_at=at,
        )
        doc.versions.append(Version(1, State.DRAFTING, title, body, at, at, drafters=[principal.subject]))
        doc._record("created", 1, None, State.DRAFTING, principal, at)
        return doc

    # ---- drafting ------------------------------------------------------------------------------

    def update_draft(
        self, principal: Principal, at: dt.datetime, *, title: str | None, body: str | None, etag: str
    ) -> None:
        access.authorize(principal, self, OPERATIONS[Op.UPDATE_DRAFT], "editing a draft")
        self.check_etag(etag)
        v = self.latest
        if v.state != State.DRAFTING:
            raise FailedPrecondition(
                "NOT_EDITABLE",
                f"{self.version_name(v.number)} is {v.state}; only a version in DRAFTING can be edited",
                resource=self.name,
            )
        if title is not None:
            v.title = title
        if body is not None:
            v.body = body
        v.revision += 1
        # Any edit voids an earlier legality approval: it approved other text.
        v.approved_revision = 0
        if principal.subject not in v.drafters:
            v.drafters.append(principal.subject)
        v.updated_at = at
        self._record("draft_updated", v.number, v.state, v.state, principal, at, details={"revision": v.revision})

    def check_etag(self, etag: str) -> None:
        from normreg_common.errors import Aborted

        if etag and etag != self.etag:
            raise Aborted(f"{self.name} changed (etag {self.etag}, you sent {etag}); read it again")

    def open_comment(
        self,
        principal: Principal,
        at: dt.datetime,
        profile: JurisdictionProfile,
        start: dt.date,
        end: dt.date,
    ) -> None:
        self._authorize_transition(principal, Action.OPEN_COMMENT)
        v = self.latest
        target = check_transition(Action.OPEN_COMMENT, v.state, self.name)
        today = profile.local_date(at)
        if start < today:
            raise InvalidArgument("start_date", f"a comment period cannot start in the past ({start} < {today})")
        if end < start:
            raise InvalidArgument("end_date", "the comment period ends before it starts")
        if self.kind in RULE_KINDS:
            days = (end - start).days + 1
            minimum = profile.comment_min_days_rules
            if days < minimum:
                raise FailedPrecondition(
                    "COMMENT_PERIOD_TOO_SHORT",
                    f"a comment period on a {self.kind} must last at least {minimum} days; "
                    f"{start}..{end} is {days} days",
                    resource=self.name,
                )
        else:
            working = profile.calendar.working_days_between(start, end)
            minimum = profile.comment_min_working_days_normative
            if working < minimum:
                raise FailedPrecondition(
                    "COMMENT_PERIOD_TOO_SHORT",
                    f"a comment period on a {self.kind} must last at least {minimum} working days; "
                    f"{start}..{end} has {working}",
                    resource=self.name,
                )
        v.comment_window = CommentWindow(start, end)
        self._move(v, target, Action.OPEN_COMMENT, principal, at, details={"start": str(start), "end": str(end)})
        v.timeline.append(TimelineEntry(start, "comment_opened", f"意见征集 {start} 至 {end}"))

    def close_comment(self, principal: Principal, at: dt.datetime, profile: JurisdictionProfile) -> None:
        system = principal.subject.startswith("system:")
        if not system:
            self._authorize_transition(principal, Action.CLOSE_COMMENT)
        v = self.latest
        target = check_transition(Action.CLOSE_COMMENT, v.state, self.name)
        assert v.comment_window is not None
        today = profile.local_date(at)
        if today <= v.comment_window.end:
            raise FailedPrecondition(
                "COMMENT_PERIOD_NOT_OVER",
                f"the comment period of {self.name} runs until {v.comment_window.end}; "
                "it cannot be shortened below what was announced",
                resource=self.name,
            )
        window = v.comment_window
        v.completed_comment_windows.append(window)
        v.comment_window = None
        if Procedure.PUBLIC_PARTICIPATION not in v.procedures:
            v.procedures[Procedure.PUBLIC_PARTICIPATION] = ProcedureRecord(
                Procedure.PUBLIC_PARTICIPATION, f"public comment {window.start}..{window.end}", at
            )
        self._move(v, target, Action.CLOSE_COMMENT, principal, at)
        v.timeline.append(TimelineEntry(today, "comment_closed"))

    def check_comment_allowed(self, at: dt.datetime, profile: JurisdictionProfile) -> Version:
        v = self.latest
        today = profile.local_date(at)
        if v.state != State.PUBLIC_COMMENT or v.comment_window is None:
            raise FailedPrecondition(
                "NOT_OPEN_FOR_COMMENT", f"{self.name} is not open for public comment", resource=self.name
            )
        if not v.comment_window.contains(today):
            raise FailedPrecondition(
                "OUTSIDE_COMMENT_WINDOW",
                f"comments on {self.name} are accepted from {v.comment_window.start} to "
                f"{v.comment_window.end}; today is {today}",
                resource=self.name,
            )
        return v

    def record_procedure(self, principal: Principal, at: dt.datetime, procedure: Procedure, summary: str) -> None:
        access.authorize(principal, self, OPERATIONS[Op.RECORD_PROCEDURE], "recording a procedure")
        v = self.latest
        if v.state not in PRE_PROMULGATION - {State.ADOPTED}:
            raise FailedPrecondition(
                "PROCEDURE_TOO_LATE",
                f"procedures are recorded before deliberation; {self.name} is {v.state}",
                resource=self.name,
            )
        v.procedures[procedure] = ProcedureRecord(procedure, summary, at)
        self._record(
            "procedure_recorded",
            v.number,
            v.state,
            v.state,
            principal,
            at,
            details={"procedure": procedure.value},
        )

    # ---- review and deliberation ---------------------------------------------------------------

    def submit_for_review(self, principal: Principal, at: dt.datetime, etag: str = "") -> None:
        self._authorize_transition(principal, Action.SUBMIT)
        self.check_etag(etag)
        v = self.latest
        target = check_transition(Action.SUBMIT, v.state, self.name)
        if not v.body.strip():
            raise FailedPrecondition("EMPTY_DRAFT", f"{self.name} has no text to review", resource=self.name)
        v.review_round += 1
        self._move(
            v,
            target,
            Action.SUBMIT,
            principal,
            at,
            details={
                "review_round": v.review_round,
                "revision": v.revision,
                "drafters": list(v.drafters),
            },
        )

    def apply_review_decision(
        self,
        decision: str,
        *,
        version: int,
        review_round: int,
        reviewer: Principal,
        review: str,
        at: dt.datetime,
    ) -> bool:
        """Applies a decision from the review service; False when it is stale (another round, withdrawn)."""
        action = {"APPROVE": Action.APPROVE, "RETURN_FOR_REVISION": Action.RETURN, "REJECT": Action.REJECT}[decision]
        v = self.version(version)
        if v.state != State.LEGALITY_REVIEW or v.review_round != review_round:
            return False
        target = check_transition(action, v.state, self.name)
        if action == Action.APPROVE:
            v.approved_revision = v.revision
        self._move(v, target, action, reviewer, at, details={"review": review, "revision": v.revision})
        if action == Action.REJECT:
            v.state_reason = "legality review rejected the draft"
        return True

    def deliberate(
        self,
        principal: Principal,
        at: dt.datetime,
        *,
        adopt: bool,
        meeting: str,
        meeting_date: dt.date,
        reason: str,
    ) -> None:
        action = Action.ADOPT if adopt else Action.SEND_BACK
        self._authorize_transition(principal, action)
        v = self.latest
        target = check_transition(action, v.state, self.name)
        if adopt:
            # 审议的议题未经合法性审查或审查不合法的，不得提交讨论.
            if v.approved_revision == 0 or v.approved_revision != v.revision:
                raise FailedPrecondition(
                    "LEGALITY_REVIEW_NOT_APPROVED",
                    f"{self.version_name(v.number)} revision {v.revision} has no approved legality review; "
                    "a topic not reviewed for legality, or found unlawful, may not be deliberated",
                    resource=self.name,
                )
            if self.kind == Kind.MAJOR_DECISION:
                missing = [p for p in MAJOR_DECISION_PROCEDURES if p not in v.procedures]
                if missing:
                    raise FailedPrecondition(
                        "MAJOR_DECISION_PROCEDURES_MISSING",
                        "a major administrative decision needs public participation, expert argumentation, "
                        "risk assessment and legality review before deliberation; missing: "
                        + ", ".join(PROCEDURE_NAMES[p] for p in missing),
                        resource=self.name,
                        missing=",".join(p.value for p in missing),
                    )
        else:
            # Sent back for redrafting: the approval no longer stands for what comes back.
            v.approved_revision = 0
        v.deliberated = True
        self._move(
            v,
            target,
            action,
            principal,
            at,
            reason=reason,
            details={"meeting": meeting, "meeting_date": str(meeting_date)},
        )

    # ---- promulgation and force ----------------------------------------------------------------

    def promulgate(
        self,
        principal: Principal,
        at: dt.datetime,
        profile: JurisdictionProfile,
        *,
        number: UniformNumber,
        registration_number: str,
        promulgation_date: dt.date,
        effective_date: dt.date | None,
        early_effect_reason: str,
        validity_years: int,
    ) -> None:
        self._authorize_transition(principal, Action.PROMULGATE)
        v = self.latest
        target = check_transition(Action.PROMULGATE, v.state, self.name)
        today = profile.local_date(at)
        if promulgation_date > today:
            raise InvalidArgument("promulgation_date", f"{promulgation_date} is in the future")
        default_effective = promulgation_date + dt.timedelta(days=profile.effective_delay_days)
        effective = effective_date or default_effective
        if effective < promulgation_date:
            raise InvalidArgument("effective_date", "a document cannot take effect before it is promulgated")
        if effective < default_effective and not early_effect_reason.strip():
            raise FailedPrecondition(
                "EARLY_EFFECT_REASON_REQUIRED",
                f"the effective date defaults to {profile.effective_delay_days} days after promulgation "
                f"({default_effective}); an earlier date ({effective}) needs a recorded reason",
                resource=self.name,
            )
        validity_end = None
        if self.kind == Kind.NORMATIVE_DOCUMENT:
            maximum = profile.validity_years_provisional if self.provisional else profile.validity_years_max
            default = profile.validity_years_provisional if self.provisional else profile.validity_years_default
            years = validity_years or default
            if years > maximum:
                raise FailedPrecondition(
                    "VALIDITY_TOO_LONG",
                    f"a {'provisional (暂行/试行) ' if self.provisional else ''}normative document is valid "
                    f"for at most {maximum} years; {years} requested",
                    resource=self.name,
                )
            validity_end = add_years(effective, years) - dt.timedelta(days=1)
        elif validity_years:
            raise InvalidArgument(
                "validity_years", f"a validity period applies to normative documents, not {self.kind}"
            )
        v.promulgation = Promulgation(
            number,
            registration_number,
            promulgation_date,
            effective,
            validity_end,
            early_effect_reason.strip(),
        )
        self._move(
            v,
            target,
            Action.PROMULGATE,
            principal,
            at,
            details={
                "uniform_number": str(number),
                "registration_number": registration_number,
                "promulgation_date": str(promulgation_date),
                "effective_date": str(effective),
                "validity_end_date": str(validity_end or ""),
                "filing_required": self.kind in FILING_KINDS,
                "filing_due_date": str(profile.filing_due(promulgation_date)) if self.kind in FILING_KINDS else "",
                "kind": self.kind.value,
                "issuing_body": self.issuing_body,
            },
        )
        v.timeline.append(TimelineEntry(promulgation_date, "promulgated", str(number)))

    def run_clock(self, principal: Principal, at: dt.datetime, profile: JurisdictionProfile) -> bool:
        """Time-driven transitions due at `at`. True when anything changed."""
        today = profile.local_date(at)
        before = self.sequence
        v = self.latest
        if v.state == State.PUBLIC_COMMENT and v.comment_window and today > v.comment_window.end:
            self.close_comment(principal, at, profile)
        for v in list(self.versions):
            p = v.promulgation
            if v.state == State.PROMULGATED and p and p.effective_date <= today:
                self._enter_into_force(v, principal, at)
        for v in self.versions:
            p = v.promulgation
            if v.state == State.IN_FORCE and p and p.validity_end and p.validity_end < today:
                self._move(
                    v,
                    State.EXPIRED,
                    Action.EXPIRE,
                    principal,
                    at,
                    reason=f"validity period ended on {p.validity_end}",
                )
                v.timeline.append(TimelineEntry(p.validity_end + dt.timedelta(days=1), "expired"))
            elif (
                v.state == State.IN_FORCE
                and p
                and p.validity_end
                and not v.evaluation_due_flagged
                and add_months(p.validity_end, -profile.evaluation_window_months) <= today
            ):
                v.evaluation_due_flagged = True
                self._record(
                    "evaluation_due",
                    v.number,
                    v.state,
                    v.state,
                    principal,
                    at,
                    details={"validity_end_date": str(p.validity_end)},
                )
            if (
                v.promulgation
                and self.kind in FILING_KINDS
                and v.filing is None
                and not v.filing_overdue_flagged
                and v.state in PROMULGATED_STATES
                and today > profile.filing_due(v.promulgation.promulgation_date)
            ):
                v.filing_overdue_flagged = True
                self._record(
                    "filing_overdue",
                    v.number,
                    v.state,
                    v.state,
                    principal,
                    at,
                    details={
                        "due_date": str(profile.filing_due(v.promulgation.promulgation_date)),
                    },
                )
        return self.sequence != before

    def _enter_into_force(self, v: Version, principal: Principal, at: dt.datetime) -> None:
        assert v.promulgation is not None
        effective = v.promulgation.effective_date
        previous = self.in_force_version()
        check_transition(Action.ENTER_INTO_FORCE, v.state, self.name)
        if previous is not None and previous.number != v.number:
            previous.amended_by = v.number
            self._move(
                previous,
                State.AMENDED,
                Action.SUPERSEDE,
                principal,
                at,
                reason=f"superseded by version {v.number}",
                details={"amended_by": self.version_name(v.number)},
            )
            previous.timeline.append(TimelineEntry(effective, "amended", "", self.version_name(v.number)))
        self._move(v, State.IN_FORCE, Action.ENTER_INTO_FORCE, principal, at)
        v.timeline.append(TimelineEntry(effective, "in_force"))

    # ---- after promulgation --------------------------------------------------------------------

    def start_amendment(self, principal: Principal, at: dt.datetime, evaluation: int | None) -> Version:
        access.authorize(principal, self, OPERATIONS[Op.START_AMENDMENT], "starting an amendment")
        return self._start_amendment(principal, at, evaluation)

    def _start_amendment(self, principal: Principal, at: dt.datetime, evaluation: int | None) -> Version:
        current = self.in_force_version()
        if current is None:
            raise FailedPrecondition(
                "NOT_IN_FORCE",
                f"only a document in force can be amended; {self.name} has no version in force",
                resource=self.name,
            )
        open_ = [v for v in self.versions if v.state in PRE_PROMULGATION | {State.PROMULGATED}]
        if open_:
            raise FailedPrecondition(
                "AMENDMENT_IN_PROGRESS",
                f"{self.version_name(open_[0].number)} is already on its way ({open_[0].state})",
                resource=self.name,
            )
        number = self.latest.number + 1
        new = Version(
            number,
            State.DRAFTING,
            current.title,
            current.body,
            at,
            at,
            drafters=[principal.subject],
            amends=current.number,
        )
        self.versions.append(new)
        details: dict[str, Any] = {"amends": self.version_name(current.number)}
        if evaluation is not None:
            self._link_evaluation(evaluation, self.version_name(number))
            details["evaluation"] = f"{self.name}/evaluations/{evaluation}"
        self._record("amendment_started", number, None, State.DRAFTING, principal, at, details=details)
        return new

    def repeal(
        self,
        principal: Principal,
        at: dt.datetime,
        reason: str,
        *,
        evaluation: int | None = None,
        repealed_by: str = "",
        today: dt.date,
    ) -> None:
        self._authorize_transition(principal, Action.REPEAL)
        self._end(Action.REPEAL, principal, at, reason, today, evaluation=evaluation, related=repealed_by)

    def declare_invalid(self, principal: Principal, at: dt.datetime, reason: str, today: dt.date) -> None:
        self._authorize_transition(principal, Action.DECLARE_INVALID)
        self._end(Action.DECLARE_INVALID, principal, at, reason, today)

    def _end(
        self,
        action: Action,
        principal: Principal,
        at: dt.datetime,
        reason: str,
        today: dt.date,
        *,
        evaluation: int | None = None,
        related: str = "",
    ) -> None:
        if not reason.strip():
            raise InvalidArgument("reason", f"{PHRASES[action]} needs a reason")
        v = self.in_force_version()
        if v is None:
            state = self.latest.state
            check_transition(action, state, self.name)  # raises with the current state named
            raise AssertionError("unreachable")
        target = check_transition(action, v.state, self.name)
        v.state_reason = reason
        v.repealed_by = related
        details: dict[str, Any] = {"repealed_by": related} if related else {}
        if evaluation is not None:
            self._link_evaluation(evaluation, f"{self.version_name(v.number)}#{action.value}")
            details["evaluation"] = f"{self.name}/evaluations/{evaluation}"
        self._move(v, target, action, principal, at, reason=reason, details=details)
        v.timeline.append(TimelineEntry(today, action.value, reason, related))

    def withdraw(self, principal: Principal, at: dt.datetime, reason: str) -> None:
        self._authorize_transition(principal, Action.WITHDRAW)
        v = self.latest
        target = check_transition(Action.WITHDRAW, v.state, self.name)
        v.state_reason = reason
        v.comment_window = None
        self._move(v, target, Action.WITHDRAW, principal, at, reason=reason)

    def record_filing(
        self,
        principal: Principal,
        at: dt.datetime,
        profile: JurisdictionProfile,
        *,
        version: int | None,
        filed_date: dt.date,
        recipient: str,
        materials: dict[str, bool],
    ) -> Version:
        access.authorize(principal, self, OPERATIONS[Op.RECORD_FILING], "recording a filing")
        v = self._filing_version(version)
        if v.state in {State.REPEALED, State.DECLARED_INVALID}:
            raise FailedPrecondition(
                "FILING_AFTER_REPEAL",
                f"{self.version_name(v.number)} is {v.state}; a document no longer in effect is not filed",
                resource=self.name,
            )
        if self.kind not in FILING_KINDS:
            raise FailedPrecondition("FILING_NOT_REQUIRED", f"{self.kind} documents are not filed", resource=self.name)
        assert v.promulgation is not None
        if v.filing is not None and v.filing.outcome != "CORRECTION_REQUIRED":
            raise FailedPrecondition(
                "FILING_ALREADY_RECORDED",
                f"{self.version_name(v.number)} was filed on {v.filing.filed_date}; "
                "a new filing is accepted only after the recipient required a correction",
                resource=self.name,
            )
        today = profile.local_date(at)
        if filed_date > today:
            raise InvalidArgument("filed_date", f"{filed_date} is in the future")
        if filed_date < v.promulgation.promulgation_date:
            raise InvalidArgument("filed_date", "a document cannot be filed before it is promulgated")
        due = profile.filing_due(v.promulgation.promulgation_date)
        refiling = v.filing is not None
        v.filing = Filing(filed_date, recipient, dict(materials), due)
        self._record(
            "filing_recorded",
            v.number,
            v.state,
            v.state,
            principal,
            at,
            details={
                "filed_date": str(filed_date),
                "due_date": str(due),
                "recipient": recipient,
                "materials": dict(materials),
                "complete": v.filing.complete,
                "on_time": v.filing.on_time,
                "refiling": refiling,
            },
        )
        return v

    def record_filing_review(
        self,
        principal: Principal,
        at: dt.datetime,
        *,
        version: int | None,
        outcome: str,
        note: str,
        today: dt.date,
    ) -> Version:
        access.authorize(principal, self, OPERATIONS[Op.RECORD_FILING_REVIEW], "recording a filing review")
        v = self._filing_version(version)
        if v.filing is None:
            raise FailedPrecondition(
                "NOT_FILED", f"{self.version_name(v.number)} has not been filed", resource=self.name
            )
        if v.filing.outcome:
            raise FailedPrecondition(
                "FILING_REVIEW_ALREADY_RECORDED",
                f"the recipient's outcome ({v.filing.outcome}) is already recorded",
                resource=self.name,
            )
        v.filing.outcome = outcome
        v.filing.outcome_note = note
        self._record(
            "filing_reviewed",
            v.number,
            v.state,
            v.state,
            principal,
            at,
            details={"outcome": outcome, "note": note},
        )
        if outcome == "REVOKED" and v.state == State.IN_FORCE:
            # The superior body revoked it: it stops having effect.
            self._end(Action.DECLARE_INVALID, principal, at, f"revoked by the filing authority: {note}", today)
        return v

    def _filing_version(self, version: int | None) -> Version:
        if version is not None:
            v = self.version(version)
            if v.promulgation is None:
                raise FailedPrecondition(
                    "NOT_PROMULGATED",
                    f"{self.version_name(version)} was never promulgated",
                    resource=self.name,
                )
            return v
        promulgated = [v for v in self.versions if v.promulgation is not None]
        if not promulgated:
            raise FailedPrecondition("NOT_PROMULGATED", f"{self.name} has not been promulgated", resource=self.name)
        return promulgated[-1]

    def record_evaluation(
        self,
        principal: Principal,
        at: dt.datetime,
        *,
        evaluator: str,
        method: str,
        findings: str,
        conclusion: str,
    ) -> Evaluation:
        access.authorize(principal, self, OPERATIONS[Op.RECORD_EVALUATION], "recording an evaluation")
        v = self.in_force_version()
        if v is None:
            raise FailedPrecondition(
                "NOT_IN_FORCE",
                f"post-enactment evaluation is of documents in force; {self.name} is {self.latest.state}",
                resource=self.name,
            )
        evaluation = Evaluation(len(self.evaluations) + 1, v.number, evaluator, method, findings, conclusion, at)
        self.evaluations.append(evaluation)
        self._record(
            "evaluation_recorded",
            v.number,
            v.state,
            v.state,
            principal,
            at,
            details={"evaluation": evaluation.id, "conclusion": conclusion},
        )
        return evaluation

    def _link_evaluation(self, evaluation_id: int, led_to: str) -> None:
        for e in self.evaluations:
            if e.id == evaluation_id:
                e.led_to = led_to
                return
        raise InvalidArgument("evaluation", f"{self.name}/evaluations/{evaluation_id} does not exist")

    # ---- cleanup -------------------------------------------------------------------------------

    def apply_cleanup(
        self, principal: Principal, at: dt.datetime, outcome: str, reason: str, campaign: str, today: dt.date
    ) -> None:
        """Performs a cleanup outcome; the campaign has already been authorised as a whole."""
        if self.in_force_version() is None:
            raise FailedPrecondition(
                "CLEANUP_DOCUMENT_NOT_IN_FORCE",
                f"{self.name} is no longer in force ({self.latest.state}); record its outcome again",
                resource=self.name,
            )
        note = f"cleanup {campaign}: {reason}"
        if outcome == "RETAIN":
            v = self.in_force_version()
            assert v is not None
            self._record("cleanup_retained", v.number, v.state, v.state, principal, at, reason=note)
        elif outcome == "AMEND":
            self._start_amendment(principal, at, None)
        elif outcome == "REPEAL":
            self._end(Action.REPEAL, principal, at, note, today)
        elif outcome == "DECLARE_INVALID":
            self._end(Action.DECLARE_INVALID, principal, at, note, today)
        else:
            raise InvalidArgument("outcome", f"unknown cleanup outcome {outcome}")

    # ---- import of existing rules (存量) --------------------------------------------------------

    @classmethod
    def imported(
        cls,
        *,
        id: str,
        kind: Kind,
        issuing_body: str,
        versions: list[ImportedVersion],
        principal: Principal,
        at: dt.datetime,
    ) -> Document:
        access.authorize_role(principal, OPERATIONS[Op.IMPORT], "importing documents")
        if not versions:
            raise InvalidArgument("versions", "at least one version")
        in_force = [v for v in versions if v.state == State.IN_FORCE]
        if len(in_force) > 1:
            raise InvalidArgument("versions", "at most one version can be in force")
        doc = cls(
            id=id,
            kind=kind,
            issuing_body=issuing_body,
            number_prefix="",
            drafting_org="",
            provisional=False,
            created_at=at,
            updated_at=at,
        )
        for i, iv in enumerate(versions, start=1):
            if iv.state not in PROMULGATED_STATES:
                raise InvalidArgument(f"versions[{i - 1}].state", "imported versions must be promulgated")
            version = Version(i, iv.state, iv.title, iv.body, at, at)
            version.promulgation = Promulgation(
                iv.number,
                "",
                iv.promulgation_date,
                iv.effective_date or iv.promulgation_date,
                iv.validity_end,
                "",
            )
            if i > 1:
                version.amends = i - 1
            version.timeline.append(TimelineEntry(iv.promulgation_date, "promulgated"))
            if iv.state != State.PROMULGATED:
                version.timeline.append(TimelineEntry(iv.effective_date or iv.promulgation_date, "in_force"))
            doc.versions.append(version)
        for prev, nxt in zip(doc.versions, doc.versions[1:], strict=False):
            prev.amended_by = nxt.number
            if prev.state == State.AMENDED:
                assert nxt.promulgation is not None
                prev.timeline.append(
                    TimelineEntry(nxt.promulgation.effective_date, "amended", "", doc.version_name(nxt.number))
                )
        # One change per version, oldest first: every version's snapshot reaches the event log.
        for v in doc.versions:
            doc._record("imported", v.number, None, v.state, principal, at, details={"versions": len(versions)})
        return doc

    # ---- bookkeeping ---------------------------------------------------------------------------

    def _authorize_transition(self, principal: Principal, action: Action) -> None:
        access.authorize(principal, self, TRANSITIONS[action], PHRASES[action])

    def _move(
        self,
        v: Version,
        target: State,
        action: Action,
        principal: Principal,
        at: dt.datetime,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        source = v.state
        v.state = target
        v.updated_at = at
        self._record(action.value, v.number, source, target, principal, at, reason=reason, details=details)

    def _record(
        self,
        action: str,
        version: int,
        source: State | None,
        target: State | None,
        principal: Principal,
        at: dt.datetime,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        self.sequence += 1
        self.updated_at = at
        self.changes.append(
            Change(action, version, source, target, str(principal), at, reason, details or {}, self.sequence)
        )

    def pop_changes(self) -> list[Change]:
        changes, self.changes = self.changes, []
        return changes


@dataclass(frozen=True)
class ImportedVersion:
    title: str
    body: str
    state: State
    promulgation_date: dt.date
    effective_date: dt.date | None = None
    validity_end: dt.date | None = None
    number: UniformNumber | None = None
