"""Resource names of the registry's API (AIP-122), built and parsed in one place.

>>> version("a1b2", 3)
'documents/a1b2/versions/3'
>>> parse_version("documents/a1b2/versions/3")
('a1b2', 3)
>>> parse_document_or_version("documents/a1b2")
('a1b2', None)
>>> parse_comments_parent("documents/a1b2/versions/-")
('a1b2', None)
>>> parse_comment(comment("a1b2", 1, 42))
('a1b2', 1, 42)
>>> parse_evaluation(evaluation("a1b2", 2), "a1b2")
2
>>> parse_document("documents/A B")
Traceback (most recent call last):
...
normreg_common.errors.InvalidArgument: name: expected documents/{id}, got 'documents/A B'
"""

from __future__ import annotations

import re

from normreg_common.errors import InvalidArgument

_ID = r"[a-z0-9][a-z0-9-]{0,62}"
_DOCUMENT = re.compile(rf"^documents/({_ID})\Z")
_VERSION = re.compile(rf"^documents/({_ID})/versions/([1-9][0-9]{{0,3}})\Z")
_COMMENT = re.compile(rf"^documents/({_ID})/versions/([1-9][0-9]{{0,3}})/comments/([1-9][0-9]{{0,15}})\Z")
_EVALUATION = re.compile(rf"^documents/({_ID})/evaluations/([1-9][0-9]{{0,5}})\Z")
_CAMPAIGN = re.compile(rf"^cleanupCampaigns/({_ID})\Z")


def document(doc_id: str) -> str:
    return f"documents/{doc_id}"


def version(doc_id: str, number: int) -> str:
    return f"{document(doc_id)}/versions/{number}"


def comment(doc_id: str, version_number: int, comment_id: int) -> str:
    return f"{version(doc_id, version_number)}/comments/{comment_id}"


def evaluation(doc_id: str, evaluation_id: int) -> str:
    return f"{document(doc_id)}/evaluations/{evaluation_id}"


def campaign(campaign_id: str) -> str:
    return f"cleanupCampaigns/{campaign_id}"


def parse_document(name: str, field: str = "name") -> str:
    match = _DOCUMENT.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"expected documents/{{id}}, got {name!r}")
    return match[1]


def parse_version(name: str, field: str = "name") -> tuple[str, int]:
    match = _VERSION.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"expected documents/{{document}}/versions/{{version}}, got {name!r}")
    return match[1], int(match[2])


def parse_document_or_version(name: str, field: str = "name") -> tuple[str, int | None]:
    match = _VERSION.fullmatch(name)
    if match is not None:
        return match[1], int(match[2])
    return parse_document(name, field), None


def parse_comments_parent(name: str, field: str = "parent") -> tuple[str, int | None]:
    """The parent of a list of comments: one version, or every version (`versions/-`, AIP-159, or the
    document itself)."""
    if name.endswith("/versions/-"):
        return parse_document(name.removesuffix("/versions/-"), field), None
    return parse_document_or_version(name, field)


def parse_comment(name: str, field: str = "name") -> tuple[str, int, int]:
    match = _COMMENT.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"expected documents/{{d}}/versions/{{v}}/comments/{{c}}, got {name!r}")
    return match[1], int(match[2]), int(match[3])


def parse_evaluation(name: str, doc_id: str, field: str = "evaluation") -> int:
    match = _EVALUATION.fullmatch(name)
    if match is None or match[1] != doc_id:
        raise InvalidArgument(field, f"expected documents/{doc_id}/evaluations/{{n}}, got {name!r}")
    return int(match[2])


def parse_campaign(name: str, field: str = "name") -> str:
    match = _CAMPAIGN.fullmatch(name)
    if match is None:
        raise InvalidArgument(field, f"expected cleanupCampaigns/{{id}}, got {name!r}")
    return match[1]
