"""Review suggestions (审查建议, 立法法 art. 110): anyone may ask the recipient to review a filed
document; the recipient registers, studies and answers each. The requester's contact is kept for the
answer and never shown to anyone but the recipient's reviewers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from normreg_common.errors import FailedPrecondition, InvalidArgument, NotFound
from normreg_common.filing_materials import FILED_KINDS
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile
from normreg_common.text import blank

from normreg_filing.domain.received import authorize

# What a suggestion may be about (立法法 第一百一十条: the review of a filed text): a version
# promulgated, in force or not yet. A draft was never filed, and a text no longer in force leaves
# nothing to review.
SUGGESTIBLE_STATES = frozenset({"PROMULGATED", "IN_FORCE"})
_NAME = re.compile(r"^(documents/[^/]+)(?:/versions/([0-9]+))?\Z")


def document_parts(name: str) -> tuple[str, int | None]:
    """documents/{d} -> (documents/{d}, None); documents/{d}/versions/{n} -> (documents/{d}, n)."""
    m = _NAME.match(name)
    if m is None:
        raise InvalidArgument("document", "expected documents/{document} or documents/{document}/versions/{version}")
    return m.group(1), None if m.group(2) is None else int(m.group(2))


def of_document(name: str, document: str, version: int | None) -> bool:
    """Whether `name` (a document's or a version's) names `document`, or its version `version`."""
    m = _NAME.match(name)
    if m is None or m.group(1) != document:
        return False
    return version is None or (m.group(2) is not None and int(m.group(2)) == version)


def require_suggestible(name: str, states: dict[int, str], kind: str = "") -> None:
    """The rule for a suggestion about this deployment's own document: one of its versions (the
    version named, when one is) is promulgated and not yet out of force. `states` are the states its
    versions are known to be in, from the registry's stream; a draft never appears there."""
    _, version = document_parts(name)
    if not states:
        raise NotFound(
            name, "no promulgated document of this deployment has this name (a draft takes comments, not suggestions)"
        )
    if version is not None and version not in states:
        raise NotFound(name, f"no version {version} of it is known here as promulgated; name the document itself")
    require_not_ended(name, states, kind)


def require_not_ended(name: str, states: dict[int, str], kind: str = "") -> None:
    """A suggestion names a document of a kind reviewed here, and not one every named version of
    which has left force (repealed, amended, declared invalid, expired). Versions whose state is not
    known say nothing."""
    _, version = document_parts(name)
    if kind and kind not in FILED_KINDS:
        raise FailedPrecondition(
            "SUGGESTION_NOT_REVIEWED_HERE",
            f"{name} is a {kind}, which is not filed here: a review suggestion about a national law or an "
            "administrative regulation goes to the NPC Standing Committee (立法法 第一百一十条); a major "
            "decision is not filed for review",
            resource=name,
        )
    named = states if version is None else {version: states[version]} if version in states else {}
    if named and not SUGGESTIBLE_STATES & set(named.values()):
        raise FailedPrecondition(
            "SUGGESTION_ON_TEXT_NOT_IN_FORCE",
            f"{name} is no longer in force: a review suggestion asks for the review of a text in force "
            "or promulgated and not yet in force",
            resource=name,
        )


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
