"""What the public reads for the API's enums and timeline events, in Chinese."""

from __future__ import annotations

from normreg.v1 import document_pb2 as pb
from normreg_common.filing_materials import FILED_KINDS

STATE_LABELS: dict[int, str] = {
    pb.VERSION_STATE_PROMULGATED: "尚未生效",
    pb.VERSION_STATE_IN_FORCE: "现行有效",
    pb.VERSION_STATE_AMENDED: "已被修改",
    pb.VERSION_STATE_REPEALED: "已废止",
    pb.VERSION_STATE_DECLARED_INVALID: "已失效",
    pb.VERSION_STATE_EXPIRED: "已失效",
    pb.VERSION_STATE_PUBLIC_COMMENT: "征求意见中",
}
# A CSS class per badge colour; declared-invalid and expired read the same to the public.
STATE_CLASSES: dict[int, str] = {
    pb.VERSION_STATE_PROMULGATED: "pending",
    pb.VERSION_STATE_IN_FORCE: "in-force",
    pb.VERSION_STATE_AMENDED: "amended",
    pb.VERSION_STATE_REPEALED: "repealed",
    pb.VERSION_STATE_DECLARED_INVALID: "invalid",
    pb.VERSION_STATE_EXPIRED: "invalid",
    pb.VERSION_STATE_PUBLIC_COMMENT: "consultation",
}
# The status filter of the search page: URL value -> (label, states).
STATUS_FILTERS: dict[str, tuple[str, tuple[pb.VersionState.ValueType, ...]]] = {
    "in_force": ("现行有效", (pb.VERSION_STATE_IN_FORCE,)),
    "pending": ("尚未生效", (pb.VERSION_STATE_PROMULGATED,)),
    "amended": ("已被修改", (pb.VERSION_STATE_AMENDED,)),
    "repealed": ("已废止", (pb.VERSION_STATE_REPEALED,)),
    "invalid": ("已失效", (pb.VERSION_STATE_DECLARED_INVALID, pb.VERSION_STATE_EXPIRED)),
    "all": (
        "全部",
        (
            pb.VERSION_STATE_PROMULGATED,
            pb.VERSION_STATE_IN_FORCE,
            pb.VERSION_STATE_AMENDED,
            pb.VERSION_STATE_REPEALED,
            pb.VERSION_STATE_DECLARED_INVALID,
            pb.VERSION_STATE_EXPIRED,
        ),
    ),
}
STATE_TO_FILTER: dict[int, str] = {
    state: key for key, (_, states) in STATUS_FILTERS.items() if key != "all" for state in states
}
KIND_LABELS: dict[int, str] = {
    pb.DOCUMENT_KIND_NATIONAL_LAW: "法律",
    pb.DOCUMENT_KIND_ADMINISTRATIVE_REGULATION: "行政法规",
    pb.DOCUMENT_KIND_LOCAL_REGULATION: "地方性法规",
    pb.DOCUMENT_KIND_GOVERNMENT_RULE: "政府规章",
    pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT: "行政规范性文件",
    pb.DOCUMENT_KIND_MAJOR_DECISION: "重大行政决策",
}
# URL values of the kind filter: stable, lower-case, independent of the enum's numbers.
KIND_SLUGS: dict[str, pb.DocumentKind.ValueType] = {
    "national_law": pb.DOCUMENT_KIND_NATIONAL_LAW,
    "administrative_regulation": pb.DOCUMENT_KIND_ADMINISTRATIVE_REGULATION,
    "local_regulation": pb.DOCUMENT_KIND_LOCAL_REGULATION,
    "government_rule": pb.DOCUMENT_KIND_GOVERNMENT_RULE,
    "normative_document": pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
    "major_decision": pb.DOCUMENT_KIND_MAJOR_DECISION,
}
SLUG_OF_KIND: dict[int, str] = {v: k for k, v in KIND_SLUGS.items()}
TIMELINE_LABELS: dict[str, str] = {
    "comment_opened": "公开征求意见",
    "comment_closed": "征求意见结束",
    "promulgated": "公布",
    "in_force": "施行",
    "amended": "被修改",
    "repealed": "废止",
    "declared_invalid": "宣布失效",
    "expired": "有效期届满",
}


def state_label(state: int) -> str:
    return STATE_LABELS.get(state, "")


def state_class(state: int) -> str:
    return STATE_CLASSES.get(state, "other")


def kind_label(kind: int) -> str:
    return KIND_LABELS.get(kind, "")


def enum_value(enum_name: str, full: str) -> int:
    """Facet values arrive as enum names (VERSION_STATE_IN_FORCE); 0 when unknown."""
    enum = {"state": pb.VersionState, "kind": pb.DocumentKind}[enum_name]
    try:
        return int(enum.Value(full))
    except ValueError:
        return 0


# The kinds filed for review, on which a review suggestion (审查建议) may be made here: a national law or
# an administrative regulation is reviewed by the NPC Standing Committee, a major decision is not filed.
REVIEWED_KINDS = frozenset(pb.DocumentKind.Value(f"DOCUMENT_KIND_{kind}") for kind in FILED_KINDS)
