"""The review aggregate: one legality review of one revision of one version of a document.

Every change is checked against the lifecycle table and recorded as a Change; the aggregate never
publishes anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from normreg_common.errors import Aborted, FailedPrecondition, InvalidArgument
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile
from normreg_common.text import blank

from normreg_review.domain import access
from normreg_review.domain.ids import review_id
from normreg_review.domain.lifecycle import (
    ACTIVE,
    OPINION_REQUIRED,
    Action,
    Decision,
    ReviewState,
    check_transition,
)


@dataclass(frozen=True)
class Change:
    """One recorded change: becomes an event on the reviews topic."""

    action: Action
    sequence: int
    at: dt.datetime
    actor: str
    reason: str = ""


@dataclass
class Review:
    id: str
    document: str
    version_number: int
    review_round: int
    revision: int
    title: str
    body: str
    drafting_org: str
    drafters: tuple[str, ...]
    reviewing_office: str
    create_time: dt.datetime
    due_date: dt.date
    state: ReviewState = ReviewState.OPEN
    assignee: str = ""
    decision: Decision | None = None
    opinion: str = ""
    problems: tuple[str, ...] = ()
    claim_time: dt.datetime | None = None
    decide_time: dt.datetime | None = None
    cancel_reason: str = ""
    update_time: dt.datetime | None = None
    # Per-review event counter; also the etag.
    sequence: int = 0
    changes: list[Change] = field(default_factory=list, repr=False, compare=False)

    @property
    def name(self) -> str:
        return f"reviews/{self.id}"

    @property
    def etag(self) -> str:
        return f"s{self.sequence}"

    def is_overdue(self, today: dt.date) -> bool:
        return self.state in ACTIVE and today > self.due_date

    @classmethod
    def request(
        cls,
        *,
        document_id: str,
        version_number: int,
        review_round: int,
        revision: int,
        title: str,
        body: str,
        drafting_org: str,
        drafters: Sequence[str],
        reviewing_office: str,
        requested_by: str,
        at: dt.datetime,
        profile: JurisdictionProfile,
    ) -> Review:
        review = cls(
            id=review_id(document_id, version_number, review_round),
            document=f"documents/{document_id}",
            version_number=version_number,
            review_round=review_round,
            revision=revision,
            title=title,
            body=body,
            drafting_org=drafting_org,
            drafters=tuple(drafters),
            reviewing_office=reviewing_office,
            create_time=at,
            # The time limit runs in working days from the day of the request, in the jurisdiction's time.
            due_date=profile.review_due(profile.local_date(at)),
        )
        review._record(Action.CREATE, at, requested_by)
        return review

    def claim(self, principal: Principal, at: dt.datetime) -> None:
        access.authorize_act(principal, self, "claiming a review")
        if self.state == ReviewState.CLAIMED and self.assignee == principal.subject:
            return  # a retried claim
        self.state = check_transition(self.state, Action.CLAIM, self.name)
        self.assignee = principal.subject
        self.claim_time = at
        self._record(Action.CLAIM, at, principal.subject)

    def decide(
        self,
        principal: Principal,
        at: dt.datetime,
        *,
        decision: Decision,
        opinion: str,
        problems: Sequence[str],
        etag: str = "",
    ) -> None:
        access.authorize_act(principal, self, "deciding a review")
        if decision in OPINION_REQUIRED and blank(opinion):
            raise InvalidArgument("opinion", f"{decision} needs an opinion saying why")
        if etag and etag != self.etag:
            raise Aborted(f"{self.name} changed (etag {self.etag}, you sent {etag}); read it again")
        if self.state == ReviewState.CLAIMED and self.assignee != principal.subject:
            raise FailedPrecondition(
                "REVIEW_CLAIMED_BY_OTHER",
                f"{self.name} is claimed by {self.assignee}; only the assignee decides it",
                resource=self.name,
            )
        self.state = check_transition(self.state, Action.DECIDE, self.name)
        self.decision = decision
        self.opinion = opinion
        self.problems = tuple(problems)
        self.decide_time = at
        self._record(Action.DECIDE, at, principal.subject)

    def cancel(self, at: dt.datetime, actor: str, reason: str) -> None:
        self.state = check_transition(self.state, Action.CANCEL, self.name)
        self.cancel_reason = reason
        self._record(Action.CANCEL, at, actor, reason)

    def _record(self, action: Action, at: dt.datetime, actor: str, reason: str = "") -> None:
        self.sequence += 1
        self.update_time = at
        self.changes.append(Change(action, self.sequence, at, actor, reason))

    def pop_changes(self) -> list[Change]:
        changes, self.changes = self.changes, []
        return changes
