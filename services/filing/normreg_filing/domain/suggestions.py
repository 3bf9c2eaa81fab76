"""Review suggestions (审查建议, 立法法 art. 110): anyone may ask the recipient to review a filed
document; the recipient registers, studies and answers each. The requester's contact is kept for the
answer and never shown to anyone but the recipient's reviewers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from normreg_common.errors import FailedPrecondition, InvalidArgument
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile
from normreg_common.text import blank

from normreg_filing.domain.received import authorize


@dataclass
class ReviewSuggestion:
    id: str
    # The document as its sender names it, and the subordinate jurisdiction that issued it.
    document: str
    sender: str
    provisions: list[str]
    reasons: str
    contact: str
    submitted_on: dt.date
    reply_due: dt.date
    # "citizen", "organisation" or "state_body": what the yearly counts distinguish.
    requester_kind: str = "citizen"
    reply: str = ""
    replied_on: dt.date | None = None
    internal_notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"reviewSuggestions/{self.id}"

    @property
    def answered(self) -> bool:
        return self.replied_on is not None

    @property
    def answered_on_time(self) -> bool:
        return self.replied_on is not None and self.replied_on <= self.reply_due

    @classmethod
    def submit(
        cls,
        *,
        id: str,
        document: str,
        sender: str,
        provisions: list[str],
        reasons: str,
        contact: str,
        requester_kind: str,
        at: dt.datetime,
        profile: JurisdictionProfile,
    ) -> ReviewSuggestion:
        if blank(reasons):
            raise InvalidArgument("reasons", "say which superior law the document conflicts with, and how")
        if blank(contact):
            raise InvalidArgument("contact", "a contact is needed for the answer (it is never made public)")
        if requester_kind not in ("citizen", "organisation", "state_body"):
            raise InvalidArgument("requester_kind", "citizen, organisation or state_body")
        today = profile.local_date(at)
        return cls(
            id=id,
            document=document,
            sender=sender,
            provisions=list(provisions),
            reasons=reasons.strip(),
            contact=contact.strip(),
            submitted_on=today,
            reply_due=profile.suggestion_reply_due(today),
            requester_kind=requester_kind,
        )

    def answer(self, principal: Principal, at: dt.datetime, profile: JurisdictionProfile, reply: str) -> None:
        authorize(principal, "answering a review suggestion")
        if self.answered:
            raise FailedPrecondition(
                "SUGGESTION_ALREADY_ANSWERED", f"{self.name} was answered on {self.replied_on}", resource=self.name
            )
        if blank(reply):
            raise InvalidArgument("reply", "the answer to the requester (反馈)")
        self.reply = reply.strip()
        self.replied_on = profile.local_date(at)

    def public_view(self) -> dict[str, object]:
        """What anyone but the recipient's reviewers may know: never who asked or how to reach them."""
        return {
            "name": self.name,
            "document": self.document,
            "provisions": list(self.provisions),
            "submitted_on": str(self.submitted_on),
            "answered": self.answered,
        }
