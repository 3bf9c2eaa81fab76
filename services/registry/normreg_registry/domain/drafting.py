"""Drafting a version: creation, edits, public comment, procedures, submission, withdrawal."""

from __future__ import annotations

import datetime as dt
from typing import Self

from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import access, deadlines, gates, request_dates
from normreg_registry.domain.access import Op
from normreg_registry.domain.aggregate import DocumentState
from normreg_registry.domain.lifecycle import Action, Kind, Procedure, State
from normreg_registry.domain.versions import CommentWindow, ProcedureRecord, TimelineEntry, Version


class Drafting(DocumentState):
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
        filing_exemption_reason: str = "",
    ) -> Self:
        access.authorize_role(principal, access.OPERATIONS[Op.CREATE], "creating a draft")
        gates.DRAFTABLE_KIND.check(kind=kind)
        gates.DRAFTING_ORGANISATION.check(org=principal.org)
        doc = cls(
            id=id,
            kind=kind,
            issuing_body=issuing_body,
            number_prefix=number_prefix,
            drafting_org=principal.org,
            provisional=provisional,
            created_at=at,
            updated_at=at,
            filing_exemption_reason=filing_exemption_reason.strip(),
        )
        doc.versions.append(Version(1, State.DRAFTING, title, body, at, at, drafters=[principal.subject]))
        doc._record(
            "created",
            1,
            None,
            State.DRAFTING,
            principal,
            at,
            details={"filing_required": doc.filing_required, "filing_exemption_reason": doc.filing_exemption_reason},
        )
        return doc

    def update_draft(
        self, principal: Principal, at: dt.datetime, *, title: str | None, body: str | None, etag: str
    ) -> None:
        access.authorize_op(principal, self, Op.UPDATE_DRAFT, "editing a draft")
        self.check_etag(etag)
        v = self.latest
        gates.EDITABLE.check(self.name, v=v, version=self.version_name(v.number))
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
        self._check(Action.OPEN_COMMENT, v)
        request_dates.comment_window(start, end, profile.local_date(at))
        length, minimum, unit = deadlines.comment_period(self.kind, start, end, profile)
        gates.COMMENT_PERIOD_LONG_ENOUGH.check(
            self.name, kind=self.kind, start=start, end=end, length=length, minimum=minimum, unit=unit
        )
        v.comment_window = CommentWindow(start, end)
        self._move(v, Action.OPEN_COMMENT, principal, at, details={"start": str(start), "end": str(end)})
        v.timeline.append(TimelineEntry(start, "comment_opened", f"意见征集 {start} 至 {end}"))

    def close_comment(self, principal: Principal, at: dt.datetime, profile: JurisdictionProfile) -> None:
        self._authorize_transition(principal, Action.CLOSE_COMMENT)
        v = self.latest
        self._check(Action.CLOSE_COMMENT, v)
        gates.OPEN_FOR_COMMENT.check(self.name, v=v)
        window = v.comment_window
        assert window is not None
        today = profile.local_date(at)
        gates.COMMENT_PERIOD_OVER.check(self.name, window=window, today=today)
        v.completed_comment_windows.append(window)
        v.comment_window = None
        if Procedure.PUBLIC_PARTICIPATION not in v.procedures:
            v.procedures[Procedure.PUBLIC_PARTICIPATION] = ProcedureRecord(
                Procedure.PUBLIC_PARTICIPATION, f"public comment {window.start}..{window.end}", at
            )
        self._move(v, Action.CLOSE_COMMENT, principal, at)
        v.timeline.append(TimelineEntry(today, "comment_closed"))

    def check_comment_allowed(self, at: dt.datetime, profile: JurisdictionProfile) -> Version:
        v = self.latest
        gates.OPEN_FOR_COMMENT.check(self.name, v=v)
        assert v.comment_window is not None
        gates.INSIDE_COMMENT_WINDOW.check(self.name, window=v.comment_window, today=profile.local_date(at))
        return v

    def record_procedure(self, principal: Principal, at: dt.datetime, procedure: Procedure, summary: str) -> None:
        access.authorize_op(principal, self, Op.RECORD_PROCEDURE, "recording a procedure")
        v = self.latest
        gates.PROCEDURE_IN_TIME.check(self.name, v=v)
        v.procedures[procedure] = ProcedureRecord(procedure, summary, at)
        self._record(
            "procedure_recorded", v.number, v.state, v.state, principal, at, details={"procedure": procedure.value}
        )

    def submit_for_review(self, principal: Principal, at: dt.datetime, etag: str = "") -> None:
        self._authorize_transition(principal, Action.SUBMIT)
        self.check_etag(etag)
        v = self.latest
        self._check(Action.SUBMIT, v)
        gates.HAS_TEXT.check(self.name, v=v)
        v.review_round += 1
        v.review_requested_at = at
        v.review_outcome = ""
        v.review_decided_at = None
        v.sent_back = False
        self._move(
            v,
            Action.SUBMIT,
            principal,
            at,
            details={"review_round": v.review_round, "revision": v.revision, "drafters": list(v.drafters)},
        )

    def withdraw(self, principal: Principal, at: dt.datetime, reason: str) -> None:
        self._authorize_transition(principal, Action.WITHDRAW)
        v = self.latest
        self._check(Action.WITHDRAW, v)
        v.state_reason = reason
        v.comment_window = None
        self._move(v, Action.WITHDRAW, principal, at, reason=reason)
