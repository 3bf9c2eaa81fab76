"""A filing as its recipient holds it: what arrived from the sender, the recipient's registration,
requests for materials, decision and the sender's answers. Only the recipient's filing reviewers act
on it; what the sender may see of it is `sender_view` (never the internal notes)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from normreg_common.errors import InvalidArgument, PermissionDenied
from normreg_common.filing_materials import MATERIALS, required_materials
from normreg_common.principal import Principal, Role
from normreg_common.profile import JurisdictionProfile
from normreg_common.text import blank

from normreg_filing.domain.lifecycle import DECISIONS, Action, FilingState, Outcome, check_transition

# The sender sent some of the materials asked for, not all: the filing stays MATERIALS_REQUESTED.
PARTLY_COMPLETED = "materials_partly_completed"
# Who reviews filings at the recipient: its legal affairs office's reviewers (the same role as
# legality review; the organisation is the recipient's own).
REVIEWERS = frozenset({Role.REVIEWER, Role.ADMIN})


@dataclass(frozen=True)
class Change:
    action: str
    at: dt.datetime
    actor: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReceivedFiling:
    id: str
    # Who sent it: the subordinate jurisdiction (its profile name) and the document as it names it.
    sender: str
    issuing_body: str
    document: str
    title: str
    kind: str
    uniform_number: str
    promulgation_date: dt.date
    due_date: dt.date
    filed_date: dt.date
    recipient: str
    materials: dict[str, bool]
    received_at: dt.datetime
    state: FilingState = FilingState.RECEIVED
    # Complete at first arrival: what 规范率 judges (a completion later does not make it conforming).
    complete_on_arrival: bool = False
    registered_on: dt.date | None = None
    review_due: dt.date | None = None
    materials_requested: list[str] = field(default_factory=list)
    completion_due: dt.date | None = None
    outcome: str = ""
    decided_on: dt.date | None = None
    reasons: str = ""
    provisions: list[str] = field(default_factory=list)
    correction_due: dt.date | None = None
    ever_corrected: bool = False
    # The recipient asked for materials at least once (补充报送).
    materials_requested_once: bool = False
    responses: list[str] = field(default_factory=list)
    # The recipient's own working notes: never sent to the sender, never public.
    internal_notes: list[str] = field(default_factory=list)
    sequence: int = 0
    # The sequence of the last event the sender was sent about this filing: only some changes are
    # told (application.events), and the sender's stream of them is numbered without gaps.
    published_sequence: int = 0
    changes: list[Change] = field(default_factory=list, repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"receivedFilings/{self.id}"

    @property
    def asked_for_materials(self) -> bool:
        """The recipient asked for materials at least once. A completion date is set by that request
        and never cleared, so it answers for filings stored before `materials_requested_once` was."""
        return self.materials_requested_once or self.completion_due is not None

    @property
    def on_time(self) -> bool:
        return self.filed_date <= self.due_date

    @classmethod
    def receive(
        cls,
        *,
        id: str,
        sender: str,
        issuing_body: str,
        document: str,
        title: str,
        kind: str,
        uniform_number: str,
        promulgation_date: dt.date,
        due_date: dt.date,
        filed_date: dt.date,
        recipient: str,
        materials: dict[str, bool],
        at: dt.datetime,
    ) -> ReceivedFiling:
        f = cls(
            id=id,
            sender=sender,
            issuing_body=issuing_body,
            document=document,
            title=title,
            kind=kind,
            uniform_number=uniform_number,
            promulgation_date=promulgation_date,
            due_date=due_date,
            filed_date=filed_date,
            recipient=recipient,
            materials={m: bool(materials.get(m)) for m in MATERIALS},
            received_at=at,
        )
        f.complete_on_arrival = f.complete
        f._record("received", at, "sender", {"document": document, "filed_date": str(filed_date)})
        return f

    @property
    def required(self) -> tuple[str, ...]:
        """The materials a filing of its kind carries (a legality review opinion: normative documents)."""
        return required_materials(self.kind)

    @property
    def complete(self) -> bool:
        return all(self.materials.get(m, False) for m in self.required)

    @property
    def missing(self) -> list[str]:
        return [m for m in self.required if not self.materials.get(m, False)]

    def register(
        self, principal: Principal, at: dt.datetime, profile: JurisdictionProfile, *, missing: list[str], note: str
    ) -> None:
        """登记, or — when materials are missing — a request to complete them (补充报送)."""
        authorize(principal, "registering a filing")
        unknown = [m for m in missing if m not in MATERIALS]
        if unknown:
            raise InvalidArgument("missing_materials", f"unknown material {', '.join(unknown)}")
        unasked = [m for m in missing if m not in self.required]
        if unasked:
            raise InvalidArgument("missing_materials", f"a filing of a {self.kind} does not carry {', '.join(unasked)}")
        today = profile.local_date(at)
        wanted = sorted(set(missing) | set(self.missing), key=MATERIALS.index)
        if wanted:
            # Asked for, so not conforming (规范率) however complete it looked when it arrived.
            self.materials_requested_once = True
            self._move(Action.REQUEST_MATERIALS)
            self.materials_requested = wanted
            self.completion_due = profile.completion_due(today)
            for m in wanted:
                self.materials[m] = False
            details = {"missing": wanted, "completion_due": str(self.completion_due)}
        else:
            self._move(Action.REGISTER)
            self.registered_on = today
            self.review_due = profile.recipient_review_due(today)
            details = {"registered_on": str(today), "review_due": str(self.review_due)}
        self._note(note)
        self._record(self.state_action, at, str(principal), details)

    def complete_materials(self, at: dt.datetime, profile: JurisdictionProfile, materials: dict[str, bool]) -> None:
        """The sender sent what was missing (an event from the sender, not a person here)."""
        for m in MATERIALS:
            if materials.get(m):
                self.materials[m] = True
        if not self.complete:
            # Still asked for, by the same date: the sender is told what is left, so it can send it.
            self.materials_requested = self.missing
            details = {"missing": self.missing, "completion_due": str(self.completion_due or "")}
            self._record(PARTLY_COMPLETED, at, "sender", details)
            return
        self._move(Action.COMPLETE_MATERIALS)
        today = profile.local_date(at)
        self.registered_on = today
        self.review_due = profile.recipient_review_due(today)
        self.materials_requested = []
        self._record(Action.COMPLETE_MATERIALS.value, at, "sender", {"review_due": str(self.review_due)})

    def decide(
        self,
        principal: Principal,
        at: dt.datetime,
        profile: JurisdictionProfile,
        *,
        outcome: Outcome,
        reasons: str,
        provisions: list[str],
        note: str,
    ) -> None:
        authorize(principal, "deciding a filing review")
        if outcome != Outcome.ACCEPTED and blank(reasons):
            raise InvalidArgument("reasons", f"a decision of {outcome} must say why")
        if outcome != Outcome.ACCEPTED and not provisions:
            raise InvalidArgument("provisions", f"a decision of {outcome} must name the provisions concerned")
        self._move(DECISIONS[outcome])
        today = profile.local_date(at)
        self.outcome = outcome.value
        self.decided_on = today
        self.reasons = reasons.strip()
        self.provisions = list(provisions)
        details: dict[str, Any] = {
            "outcome": outcome.value,
            "decided_on": str(today),
            "reasons": self.reasons,
            "provisions": self.provisions,
        }
        if outcome == Outcome.CORRECTION_REQUIRED:
            self.ever_corrected = True
            self.correction_due = profile.correction_due(today)
            details["correction_due"] = str(self.correction_due)
        self._note(note)
        self._record(DECISIONS[outcome].value, at, str(principal), details)

    def answer_correction(self, at: dt.datetime, answer: str, actor: str = "sender", *, amended_by: str = "") -> None:
        """The issuing body's answer to a required correction (amended, repealed or explained);
        `amended_by` names the amending version when it answered by amending."""
        if blank(answer):
            raise InvalidArgument("response", "the answer to a correction says what was done")
        self._move(Action.ANSWER_CORRECTION)
        self.responses.append(answer.strip())
        self.outcome = ""
        details = {"response": answer.strip()} | ({"amended_by": amended_by} if amended_by else {})
        self._record(Action.ANSWER_CORRECTION.value, at, actor, details)

    def sender_view(self) -> dict[str, Any]:
        """What goes back to the sender: state, requests, outcome, deadlines — not the notes."""
        return {
            "state": self.state.value,
            "missing": list(self.materials_requested),
            "completion_due": str(self.completion_due or ""),
            "outcome": self.outcome,
            "reasons": self.reasons,
            "provisions": list(self.provisions),
            "correction_due": str(self.correction_due or ""),
        }

    @property
    def state_action(self) -> str:
        return Action.REQUEST_MATERIALS.value if self.state == FilingState.MATERIALS_REQUESTED else "registered"

    def _move(self, action: Action) -> None:
        self.state = check_transition(self.state, action, self.name)

    def _note(self, note: str) -> None:
        if note.strip():
            self.internal_notes.append(note.strip())

    def _record(self, action: str, at: dt.datetime, actor: str, details: dict[str, Any]) -> None:
        self.sequence += 1
        self.changes.append(Change(action, at, actor, details))


def authorize(principal: Principal, what: str) -> None:
    if not principal.roles & REVIEWERS:
        raise PermissionDenied("ROLE_NOT_ALLOWED", f"{what} needs the role reviewer (the recipient's filing reviewers)")
