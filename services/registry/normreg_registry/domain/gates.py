"""The gates of the law, as pure functions: each takes what it judges and raises the rule's
FAILED_PRECONDITION (or INVALID_ARGUMENT for a date that cannot be) — or returns what it decided."""

from __future__ import annotations

import datetime as dt

from normreg_common.errors import FailedPrecondition, InvalidArgument
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import deadlines
from normreg_registry.domain.lifecycle import (
    FILING_KINDS,
    MAJOR_DECISION_PROCEDURES,
    PROCEDURE_NAMES,
    RULE_KINDS,
    Kind,
    State,
)
from normreg_registry.domain.versions import Filing, Version

# States in which a version has not (or no longer) passed legality review, and could still.
_BEFORE_APPROVAL = frozenset({State.DRAFTING, State.PUBLIC_COMMENT, State.LEGALITY_REVIEW, State.REJECTED})


def awaits_legality_review(v: Version) -> bool:
    return v.state in _BEFORE_APPROVAL or (v.state == State.AWAITING_DELIBERATION and v.approved_revision != v.revision)


def legality_situation(v: Version) -> tuple[str, str, dict[str, str]]:
    """Where legality review of `v` stands: (code, words, details). Never the draft's text."""
    if v.state == State.REJECTED or v.review_outcome == "REJECTED":
        day = _day(v.review_decided_at)
        return "REJECTED", f"legality review rejected it{' on ' + day if day else ''}", {"since": day}
    if v.state == State.LEGALITY_REVIEW:
        day = _day(v.review_requested_at)
        return "IN_REVIEW", f"it is in legality review{' since ' + day if day else ''}", {"since": day}
    if v.review_round == 0:
        return "NEVER_SUBMITTED", "it was never submitted for legality review", {}
    if v.last_approved_revision and v.last_approved_revision != v.revision:
        voided_by = v.last_approved_revision + 1
        return (
            "APPROVAL_VOIDED",
            f"the approval of revision {v.last_approved_revision} was voided by the edit of revision {voided_by}",
            {"revision": str(voided_by)},
        )
    if v.sent_back:
        return "SENT_BACK", "deliberation sent it back; it must pass legality review again", {}
    if v.review_outcome == "RETURNED":
        day = _day(v.review_decided_at)
        return "RETURNED", f"legality review returned it for revision{' on ' + day if day else ''}", {"since": day}
    return "NOT_APPROVED", "it has no approval for this revision", {}


def _day(at: dt.datetime | None) -> str:
    return at.date().isoformat() if at is not None else ""


def legality_review_approved(v: Version, version_name: str, resource: str) -> None:
    # 审议的议题未经合法性审查或审查不合法的，不得提交讨论.
    if v.approved_revision == 0 or v.approved_revision != v.revision:
        code, words, details = legality_situation(v)
        raise FailedPrecondition(
            "LEGALITY_REVIEW_NOT_APPROVED",
            f"{version_name} revision {v.revision} has no approved legality review: {words}; "
            "a topic not reviewed for legality, or found unlawful, may not be deliberated",
            resource=resource,
            situation=code,
            **{k: val for k, val in details.items() if val},
        )


def major_decision_procedures(kind: Kind, v: Version, resource: str) -> None:
    if kind != Kind.MAJOR_DECISION:
        return
    missing = [p for p in MAJOR_DECISION_PROCEDURES if p not in v.procedures]
    if missing:
        raise FailedPrecondition(
            "MAJOR_DECISION_PROCEDURES_MISSING",
            "a major administrative decision needs public participation, expert argumentation, "
            "risk assessment and legality review before deliberation; missing: "
            + ", ".join(PROCEDURE_NAMES[p] for p in missing),
            resource=resource,
            missing=",".join(p.value for p in missing),
        )


def comment_period(
    kind: Kind, start: dt.date, end: dt.date, today: dt.date, profile: JurisdictionProfile, resource: str
) -> None:
    if start < today:
        raise InvalidArgument("start_date", f"a comment period cannot start in the past ({start} < {today})")
    if end < start:
        raise InvalidArgument("end_date", "the comment period ends before it starts")
    if kind in RULE_KINDS:
        days = (end - start).days + 1
        minimum = profile.comment_min_days_rules
        if days < minimum:
            raise FailedPrecondition(
                "COMMENT_PERIOD_TOO_SHORT",
                f"a comment period on a {kind} must last at least {minimum} days; {start}..{end} is {days} days",
                resource=resource,
            )
        return
    working = profile.calendar.working_days_between(start, end)
    minimum = profile.comment_min_working_days_normative
    if working < minimum:
        raise FailedPrecondition(
            "COMMENT_PERIOD_TOO_SHORT",
            f"a comment period on a {kind} must last at least {minimum} working days; {start}..{end} has {working}",
            resource=resource,
        )


def comment_period_over(v: Version, today: dt.date, resource: str) -> None:
    window = v.comment_window
    if window is not None and today <= window.end:
        raise FailedPrecondition(
            "COMMENT_PERIOD_NOT_OVER",
            f"the comment period of {resource} runs until {window.end}; "
            "it cannot be shortened below what was announced",
            resource=resource,
        )


def comment_accepted(v: Version, today: dt.date, resource: str) -> None:
    if v.state != State.PUBLIC_COMMENT or v.comment_window is None:
        raise FailedPrecondition(
            "NOT_OPEN_FOR_COMMENT", f"{resource} is not open for public comment", resource=resource
        )
    if not v.comment_window.contains(today):
        raise FailedPrecondition(
            "OUTSIDE_COMMENT_WINDOW",
            f"comments on {resource} are accepted from {v.comment_window.start} to "
            f"{v.comment_window.end}; today is {today}",
            resource=resource,
        )


def editable(v: Version, version_name: str, resource: str) -> None:
    if v.state != State.DRAFTING:
        raise FailedPrecondition(
            "NOT_EDITABLE",
            f"{version_name} is {v.state}; only a version in DRAFTING can be edited",
            resource=resource,
        )


def has_text(v: Version, resource: str) -> None:
    if not v.body.strip():
        raise FailedPrecondition("EMPTY_DRAFT", f"{resource} has no text to review", resource=resource)


def effective_date(
    promulgation_date: dt.date,
    requested: dt.date | None,
    early_effect_reason: str,
    today: dt.date,
    profile: JurisdictionProfile,
    resource: str,
) -> dt.date:
    """The effective date: the profile's default delay, or an earlier one with a recorded reason."""
    if promulgation_date > today:
        raise InvalidArgument("promulgation_date", f"{promulgation_date} is in the future")
    default = deadlines.default_effective_date(promulgation_date, profile)
    effective = requested or default
    if effective < promulgation_date:
        raise InvalidArgument("effective_date", "a document cannot take effect before it is promulgated")
    if effective < default and not early_effect_reason.strip():
        raise FailedPrecondition(
            "EARLY_EFFECT_REASON_REQUIRED",
            f"the effective date defaults to {profile.effective_delay_days} days after promulgation "
            f"({default}); an earlier date ({effective}) needs a recorded reason",
            resource=resource,
        )
    return effective


def validity_years(kind: Kind, provisional: bool, requested: int, profile: JurisdictionProfile, resource: str) -> int:
    """Years of validity of a normative document (0 for kinds without a validity period)."""
    if kind != Kind.NORMATIVE_DOCUMENT:
        if requested:
            raise InvalidArgument("validity_years", f"a validity period applies to normative documents, not {kind}")
        return 0
    maximum = profile.validity_years_provisional if provisional else profile.validity_years_max
    default = profile.validity_years_provisional if provisional else profile.validity_years_default
    years = requested or default
    if years > maximum:
        raise FailedPrecondition(
            "VALIDITY_TOO_LONG",
            f"a {'provisional (暂行/试行) ' if provisional else ''}normative document is valid "
            f"for at most {maximum} years; {years} requested",
            resource=resource,
        )
    return years


def procedure_in_time(v: Version, resource: str) -> None:
    if v.state not in {State.DRAFTING, State.PUBLIC_COMMENT, State.LEGALITY_REVIEW, State.AWAITING_DELIBERATION}:
        raise FailedPrecondition(
            "PROCEDURE_TOO_LATE",
            f"procedures are recorded before deliberation; {resource} is {v.state}",
            resource=resource,
        )


def filing_allowed(kind: Kind, v: Version, earlier: Filing | None, version_name: str, resource: str) -> None:
    """`earlier` is the filing already sent to the same recipient, if any."""
    if v.state in {State.REPEALED, State.DECLARED_INVALID}:
        raise FailedPrecondition(
            "FILING_AFTER_REPEAL",
            f"{version_name} is {v.state}; a document no longer in effect is not filed",
            resource=resource,
        )
    if kind not in FILING_KINDS:
        raise FailedPrecondition("FILING_NOT_REQUIRED", f"{kind} documents are not filed", resource=resource)
    if earlier is not None and earlier.outcome != "CORRECTION_REQUIRED":
        raise FailedPrecondition(
            "FILING_ALREADY_RECORDED",
            f"{version_name} was filed with {earlier.recipient} on {earlier.filed_date}; "
            "a new filing is accepted only after the recipient required a correction",
            resource=resource,
        )


def filed_date(filed: dt.date, promulgated: dt.date, today: dt.date) -> None:
    if filed > today:
        raise InvalidArgument("filed_date", f"{filed} is in the future")
    if filed < promulgated:
        raise InvalidArgument("filed_date", "a document cannot be filed before it is promulgated")


def filing_review_open(filing: Filing | None, recipient: str, version_name: str, resource: str) -> Filing:
    if filing is None:
        to = f" with {recipient}" if recipient else ""
        raise FailedPrecondition("NOT_FILED", f"{version_name} has not been filed{to}", resource=resource)
    if filing.outcome:
        raise FailedPrecondition(
            "FILING_REVIEW_ALREADY_RECORDED",
            f"the outcome of {filing.recipient} ({filing.outcome}) is already recorded",
            resource=resource,
        )
    return filing


def step_date(day: dt.date, field: str, earlier: list[tuple[dt.date | None, str]], today: dt.date | None) -> None:
    """A step's date is not in the future and not before the steps it follows (each given as its date and
    a name). A document promulgated before it was registered is imported (ImportDocument), not promulgated."""
    if today is not None and day > today:
        raise InvalidArgument(field, f"{day} is in the future")
    for before, what in earlier:
        if before is not None and day < before:
            raise FailedPrecondition(
                "DATE_BEFORE_PREVIOUS_STEP",
                f"{field} {day} is before {what} ({before}); a step cannot be dated before the one it follows "
                "(a document promulgated before it was registered is registered with ImportDocument)",
                field=field,
                previous=str(before),
            )
