"""The gates of the law: each refuses a step with FAILED_PRECONDITION, its ErrorInfo reason, and the rule
in people's words after what it found (`gate.Gate`). A predicate reads only the facts its caller names;
what it needs computed (periods, a review's situation) comes from `deadlines` and `legality`."""

from __future__ import annotations

from normreg_common.text import blank

from normreg_registry.domain import legality
from normreg_registry.domain.gate import Gate
from normreg_registry.domain.lifecycle import FILING_KINDS, IMPORT_ONLY_KINDS, Kind, State

_BEFORE_DELIBERATION = {State.DRAFTING, State.PUBLIC_COMMENT, State.LEGALITY_REVIEW, State.AWAITING_DELIBERATION}

# fmt: off
# Deliberation. 审议的议题未经合法性审查或审查不合法的，不得提交讨论.
LEGALITY_REVIEW_APPROVED = Gate("LEGALITY_REVIEW_NOT_APPROVED",
    "a topic not reviewed for legality, or found unlawful, may not be deliberated",
    lambda v, **_: not legality.approved(v),
    "{version} revision {v.revision} has no approved legality review: {words}", ("situation", "since", "revision"))
PROCEDURES_RECORDED = Gate("MAJOR_DECISION_PROCEDURES_MISSING",
    "a major administrative decision needs public participation, expert argumentation, risk assessment and legality "
    "review before deliberation", lambda kind, missing, **_: kind == Kind.MAJOR_DECISION and bool(missing),
    "missing: {names}", ("missing",))
STEP_IN_ORDER = Gate("DATE_BEFORE_PREVIOUS_STEP", "a step cannot be dated before the one it follows (a document "
    "promulgated before it was registered is registered with ImportDocument)",
    lambda day, previous, **_: previous is not None and day < previous,
    "{field} {day} is before {what} ({previous})", ("field", "previous"))

# Drafting and public comment.
DRAFTABLE_KIND = Gate("KIND_IMPORT_ONLY", "register them with ImportDocument",
    lambda kind, **_: kind in IMPORT_ONLY_KINDS, "{kind} documents are made by national bodies")
DRAFTING_ORGANISATION = Gate("NO_ORGANISATION", "a draft belongs to the organisation that drafts it",
    lambda org, **_: not org, "the caller's token names no drafting organisation")
EDITABLE = Gate("NOT_EDITABLE", "only a version in DRAFTING can be edited",
    lambda v, **_: v.state != State.DRAFTING, "{version} is {v.state}")
HAS_TEXT = Gate("EMPTY_DRAFT", "legality review reads a text",
    lambda v, **_: not v.body.strip(), "{resource} has no text to review")
PROCEDURE_IN_TIME = Gate("PROCEDURE_TOO_LATE", "procedures are recorded before deliberation",
    lambda v, **_: v.state not in _BEFORE_DELIBERATION, "{resource} is {v.state}")
COMMENT_PERIOD_LONG_ENOUGH = Gate("COMMENT_PERIOD_TOO_SHORT",
    "a comment period on a {kind} must last at least {minimum} {unit}",
    lambda length, minimum, **_: length < minimum, "{start}..{end} is {length} {unit}")
COMMENT_PERIOD_OVER = Gate("COMMENT_PERIOD_NOT_OVER", "it cannot be shortened below what was announced",
    lambda window, today, **_: today <= window.end, "the comment period of {resource} runs until {window.end}")
OPEN_FOR_COMMENT = Gate("NOT_OPEN_FOR_COMMENT", "comments are received only while a draft is open for public comment",
    lambda v, **_: v.state != State.PUBLIC_COMMENT or v.comment_window is None,
    "{resource} is not open for public comment")
INSIDE_COMMENT_WINDOW = Gate("OUTSIDE_COMMENT_WINDOW",
    "comments on {resource} are accepted from {window.start} to {window.end}",
    lambda window, today, **_: not window.contains(today), "today is {today}")

# Promulgation and after.
EARLY_EFFECT_EXPLAINED = Gate("EARLY_EFFECT_REASON_REQUIRED", "the effective date defaults to {delay} days after "
    "promulgation ({default}); an earlier date needs a recorded reason",
    lambda effective, default, reason, **_: effective < default and blank(reason),
    "no reason is recorded for {effective}")
VALIDITY_WITHIN_MAXIMUM = Gate("VALIDITY_TOO_LONG", "a {which}normative document is valid for at most {maximum} years",
    lambda years, maximum, **_: years > maximum, "{years} requested")
IN_FORCE = Gate("NOT_IN_FORCE", "{step} is of a document in force",
    lambda version, **_: version is None, "{resource} has no version in force (it is {state})")
NO_AMENDMENT_UNDER_WAY = Gate("AMENDMENT_IN_PROGRESS", "one amendment at a time",
    lambda under_way, **_: under_way is not None, "{version} is already on its way ({under_way.state})")

# Filing with the superior body.
PROMULGATED = Gate("NOT_PROMULGATED", "only what was promulgated is filed",
    lambda v, **_: v is None or v.promulgation is None, "{version} was never promulgated")
FILED_KIND = Gate("FILING_NOT_REQUIRED", "local regulations, government rules and normative documents are filed",
    lambda kind, **_: kind not in FILING_KINDS, "{kind} documents are not filed")
NOT_YET_FILED = Gate("FILING_ALREADY_RECORDED",
    "a new filing is accepted only after the recipient required a correction or asked for materials",
    lambda earlier, **_: earlier is not None and not earlier.open_to_refiling,
    "{version} was filed with {earlier.recipient} on {earlier.filed_date}")
FILED = Gate("NOT_FILED", "an outcome is recorded for a filing",
    lambda filing, **_: filing is None, "{version} has not been filed{to}")
TYPED_IN_OUTCOME = Gate("FILING_OUTCOME_REPORTED_BY_RECIPIENT", "its recipient reports it by event",
    lambda filing, **_: bool(filing.reported_by), "{reported_by} reports on {version}", ("recipient", "reported_by"))
OUTCOME_OPEN = Gate("FILING_REVIEW_ALREADY_RECORDED", "a recipient records one outcome per filing",
    lambda filing, **_: bool(filing.outcome), "the outcome of {filing.recipient} ({filing.outcome}) is recorded")

# Cleanup campaigns.
CAMPAIGN_OPEN = Gate("CLEANUP_ALREADY_APPLIED", "a campaign is applied once",
    lambda applied, **_: applied, "{resource} was already applied")
OUTCOMES_COMPLETE = Gate("CLEANUP_OUTCOMES_INCOMPLETE", "every document of a campaign needs its outcome",
    lambda missing, **_: bool(missing), "{count} document(s) have no outcome yet, e.g. {first}")
REMEDIES_RECORDED = Gate("CLEANUP_REMEDY_MISSING", "a missing procedure needs a recorded remedy (补正)",
    lambda unremedied, **_: bool(unremedied), "{first} was flagged for a missing procedure and has no remedy")
STILL_IN_FORCE = Gate("CLEANUP_DOCUMENT_NOT_IN_FORCE", "record its outcome again",
    lambda version, **_: version is None, "{resource} is no longer in force ({state})")
# fmt: on
