"""Post-enactment evaluation (立法后评估) of a version in force, linked to what it led to."""

from __future__ import annotations

import datetime as dt

from normreg_common.errors import InvalidArgument
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import access, deadlines, gates
from normreg_registry.domain.access import Op
from normreg_registry.domain.aggregate import DocumentState
from normreg_registry.domain.versions import Evaluation, Version


def evaluated_since(evaluations: list[Evaluation], v: Version, day: dt.date, profile: JurisdictionProfile) -> bool:
    """Whether `v` has an evaluation recorded on or after `day`: the one due before its validity ends
    is made in the window before the end, and one made years before (a mid-term one) is not it."""
    return any(e.version == v.number and profile.local_date(e.at) >= day for e in evaluations)


class Evaluations(DocumentState):
    def evaluation_due(self, today: dt.date, profile: JurisdictionProfile) -> tuple[Version, dt.date] | None:
        """The version in force whose validity ends within the evaluation window and that has no
        evaluation from that window yet, with the day from which it is due; None when nothing is due."""
        v = self.in_force_version()
        if v is None or v.promulgation is None or v.promulgation.validity_end is None:
            return None
        due_from = deadlines.evaluation_due_from(v.promulgation.validity_end, profile)
        if due_from > today or evaluated_since(self.evaluations, v, due_from, profile):
            return None
        return v, due_from

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
        access.authorize_op(principal, self, Op.RECORD_EVALUATION, "recording an evaluation")
        v = self.in_force_version()
        gates.IN_FORCE.check(self.name, version=v, state=self.latest.state, step="post-enactment evaluation")
        assert v is not None
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
