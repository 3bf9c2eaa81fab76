"""The document aggregate's state and bookkeeping: identity, lookup, and the one way a version's
state changes — by the row of the lifecycle table for the action, never by a state named here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from normreg_common.errors import Aborted, InvalidArgument
from normreg_common.principal import Principal

from normreg_registry.domain import access, gates, names
from normreg_registry.domain.lifecycle import FILING_KINDS, TRANSITIONS, Action, Kind, State, check_transition
from normreg_registry.domain.versions import Evaluation, Version


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
class DocumentState:
    id: str
    kind: Kind
    issuing_body: str
    number_prefix: str
    drafting_org: str
    provisional: bool
    created_at: dt.datetime
    # Set at drafting when the document need not be filed (an internal working document): why not.
    filing_exemption_reason: str = ""
    versions: list[Version] = field(default_factory=list)
    evaluations: list[Evaluation] = field(default_factory=list)
    sequence: int = 0
    updated_at: dt.datetime | None = None
    changes: list[Change] = field(default_factory=list, repr=False, compare=False)
    # The day the document is read on, set by the use case that loads it: visibility rules that depend
    # on the date (a comment window announced for later) read it. Never stored.
    read_on: dt.date | None = field(default=None, repr=False, compare=False)

    # ---- identity and lookup -------------------------------------------------------------------

    @property
    def name(self) -> str:
        return names.document(self.id)

    @property
    def filing_required(self) -> bool:
        """Its kind is filed, and no one said at drafting why this one is not (报备率 counts only these)."""
        return self.kind in FILING_KINDS and not self.filing_exemption_reason

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
        return names.version(self.id, number)

    def check_etag(self, etag: str) -> None:
        if etag and etag != self.etag:
            raise Aborted(f"{self.name} changed (etag {self.etag}, you sent {etag}); read it again")

    # ---- the table decides ---------------------------------------------------------------------

    def _authorize_transition(self, principal: Principal, action: Action) -> None:
        access.authorize_transition(principal, self, action)

    def _check(self, action: Action, v: Version) -> State:
        """The target of the action's row, or FAILED_PRECONDITION when `v` is not in one of its sources."""
        return check_transition(action, v.state, self.name)

    def _can(self, action: Action, v: Version) -> bool:
        return v.state in TRANSITIONS[action].sources

    def _in_order(self, day: dt.date, field: str, *earlier: tuple[dt.date | None, str]) -> None:
        """A step is not dated before the steps it follows (each given as its date and its name)."""
        for previous, what in earlier:
            gates.STEP_IN_ORDER.check(self.name, day=day, previous=previous, field=field, what=what)

    def _move(
        self,
        v: Version,
        action: Action,
        principal: Principal,
        at: dt.datetime,
        *,
        reason: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        source = v.state
        check_transition(action, source, self.name)
        target = TRANSITIONS[action].target
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
        for v in self.versions:
            if v.number == version:
                v.last_change = self.sequence
        self.changes.append(
            Change(action, version, source, target, str(principal), at, reason, details or {}, self.sequence)
        )

    def pop_changes(self) -> list[Change]:
        changes, self.changes = self.changes, []
        return changes
