"""What ends or replaces a version in force: amendment, repeal, declaration of invalidity, and the
outcomes of a cleanup campaign that perform them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from normreg_common.errors import InvalidArgument
from normreg_common.principal import Principal
from normreg_common.text import blank

from normreg_registry.domain import access, gates
from normreg_registry.domain.access import Op
from normreg_registry.domain.evaluation import Evaluations
from normreg_registry.domain.lifecycle import PHRASES, PRE_PROMULGATION, Action, State
from normreg_registry.domain.versions import TimelineEntry, Version


class Amendment(Evaluations):
    def start_amendment(self, principal: Principal, at: dt.datetime, evaluation: int | None) -> Version:
        access.authorize_op(principal, self, Op.START_AMENDMENT, "starting an amendment")
        return self._start_amendment(principal, at, evaluation)

    def _start_amendment(self, principal: Principal, at: dt.datetime, evaluation: int | None) -> Version:
        current = self.in_force_version()
        gates.IN_FORCE.check(self.name, version=current, state=self.latest.state, step="an amendment")
        assert current is not None
        under_way = next((v for v in self.versions if v.state in PRE_PROMULGATION | {State.PROMULGATED}), None)
        gates.NO_AMENDMENT_UNDER_WAY.check(
            self.name, under_way=under_way, version=self.version_name(under_way.number) if under_way else ""
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
        if blank(reason):
            raise InvalidArgument("reason", f"{PHRASES[action]} needs a reason")
        # The version this ends is the one the action's row can end (the version in force).
        v = next((v for v in self.versions if self._can(action, v)), self.latest)
        self._check(action, v)
        # The document takes its amendment under way with it: one promulgated and not yet in force is
        # ended by the same decision (else the scheduler would bring it into force, and the document
        # back with it), one still being drafted is withdrawn.
        pending = [w for w in self.versions if w is not v and self._can(action, w)]
        for w in (v, *pending):
            w.state_reason = reason
            w.repealed_by = related
            details: dict[str, Any] = {"repealed_by": related} if related else {}
            if w is not v:
                details["with"] = self.version_name(v.number)
            elif evaluation is not None:
                self._link_evaluation(evaluation, f"{self.version_name(v.number)}#{action.value}")
                details["evaluation"] = f"{self.name}/evaluations/{evaluation}"
            self._move(w, action, principal, at, reason=reason, details=details)
            w.timeline.append(TimelineEntry(today, action.value, reason, related))
        why = f"the document was ended ({PHRASES[action]}): {reason}"
        for w in self.versions:
            if w.state in PRE_PROMULGATION:
                w.state_reason = why
                self._move(w, Action.WITHDRAW, principal, at, reason=why, details={"with": self.version_name(v.number)})

    def apply_cleanup(
        self, principal: Principal, at: dt.datetime, outcome: str, reason: str, campaign: str, today: dt.date
    ) -> None:
        """Performs a cleanup outcome; the campaign has already been authorised as a whole."""
        v = self.in_force_version()
        gates.STILL_IN_FORCE.check(self.name, version=v, state=self.latest.state)
        assert v is not None
        note = f"cleanup {campaign}: {reason}"
        if outcome == "RETAIN":
            self._record("cleanup_retained", v.number, v.state, v.state, principal, at, reason=note)
        elif outcome == "AMEND":
            self._start_amendment(principal, at, None)
        elif outcome == "REPEAL":
            self._end(Action.REPEAL, principal, at, note, today)
        elif outcome == "DECLARE_INVALID":
            self._end(Action.DECLARE_INVALID, principal, at, note, today)
        else:
            raise InvalidArgument("outcome", f"unknown cleanup outcome {outcome}")
