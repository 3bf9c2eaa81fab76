"""Readable lower-case words for the API's enums, both ways: `in_force` <-> VERSION_STATE_IN_FORCE.

The words come from the proto descriptors (prefix stripped, lower case), so a value added to a proto
is accepted without touching this module. Chinese labels are for people reading a terminal.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Generic, TypeVar

from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as filing_pb
from normreg.v1 import review_service_pb2 as review_pb
from normreg.v1 import search_service_pb2 as search_pb

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

V = TypeVar("V", bound=int)


class Words(Generic[V]):
    def __init__(
        self,
        wrapper: _EnumTypeWrapper[V],
        prefix: str,
        chinese: Mapping[str, str] | None = None,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        self._wrapper = wrapper
        self._prefix = prefix
        self._chinese = dict(chinese or {})
        self._aliases = dict(aliases or {})
        self.choices = [name[len(prefix) :].lower() for name, number in wrapper.items() if number != 0]

    def parse(self, text: str) -> str:
        """argparse `type=`: a known word (case and `-` forgiven), or a usage error listing the words."""
        word = text.strip().lower().replace("-", "_")
        word = self._aliases.get(word, word)
        if word not in self.choices:
            raise argparse.ArgumentTypeError(f"{text!r} is not one of: {', '.join(self.choices)}")
        return word

    def value(self, word: str) -> V:
        return self._wrapper.Value(self._prefix + self.parse(word).upper())

    def optional(self, word: str | None) -> V:
        """The value of the word, or the unspecified value (no filter) when there is none."""
        return self.value(word) if word else self._wrapper.Value(self._prefix + "UNSPECIFIED")

    def word(self, value: V) -> str:
        """`in_force`; empty for the unspecified value; the number for a value this client does not know."""
        if value == 0:
            return ""
        try:
            return self._wrapper.Name(value)[len(self._prefix) :].lower()
        except ValueError:
            return str(int(value))

    def label(self, value: V) -> str:
        """`in_force（现行有效）`."""
        word = self.word(value)
        chinese = self._chinese.get(word)
        return f"{word}（{chinese}）" if chinese else word

    def help(self) -> str:
        names = list(self.choices)
        names += [f"{alias}={target}" for alias, target in self._aliases.items()]
        return ", ".join(names)


KIND = Words(
    pb.DocumentKind,
    "DOCUMENT_KIND_",
    {
        "national_law": "法律",
        "administrative_regulation": "行政法规",
        "local_regulation": "地方性法规",
        "government_rule": "政府规章",
        "normative_document": "行政规范性文件",
        "major_decision": "重大行政决策",
    },
)
STATE = Words(
    pb.VersionState,
    "VERSION_STATE_",
    {
        "drafting": "起草中",
        "public_comment": "征求意见",
        "legality_review": "合法性审查",
        "awaiting_deliberation": "待集体审议",
        "adopted": "已审议通过",
        "promulgated": "尚未生效",
        "in_force": "现行有效",
        "amended": "已被修改",
        "repealed": "已废止",
        "declared_invalid": "宣布失效",
        "expired": "有效期届满",
        "rejected": "审查不予通过",
        "withdrawn": "已撤回",
    },
)
PROCEDURE = Words(
    pb.Procedure,
    "PROCEDURE_",
    {"public_participation": "公众参与", "expert_argumentation": "专家论证", "risk_assessment": "风险评估"},
)
FILING_OUTCOME = Words(
    pb.FilingOutcome,
    "FILING_OUTCOME_",
    {"accepted": "准予备案", "correction_required": "责令纠正", "revoked": "撤销"},
)
CONCLUSION = Words(
    pb.EvaluationConclusion,
    "EVALUATION_CONCLUSION_",
    {"continue": "继续施行", "amend": "修改", "repeal": "废止"},
)
CLEANUP_OUTCOME = Words(
    pb.CleanupOutcomeKind,
    "CLEANUP_OUTCOME_KIND_",
    {"retain": "保留", "amend": "修改", "repeal": "废止", "declare_invalid": "宣布失效"},
)
REVIEW_STATE = Words(review_pb.ReviewState, "REVIEW_STATE_")
REVIEW_DECISION = Words(
    review_pb.ReviewDecision,
    "REVIEW_DECISION_",
    {"approve": "合法", "return_for_revision": "退回修改", "reject": "不合法"},
)
SORT = Words(
    search_pb.SortOrder,
    "SORT_ORDER_",
    aliases={"promulgated": "promulgation_date_desc", "effective": "effective_date_desc"},
)
RECEIVED_STATE = Words(
    filing_pb.ReceivedFilingState,
    "RECEIVED_FILING_STATE_",
    {
        "received": "已接收",
        "materials_requested": "补充报送",
        "registered": "已登记",
        "correction_required": "要求纠正",
        "accepted": "准予备案",
        "revoked": "撤销",
    },
)
REVIEW_OUTCOME = Words(
    filing_pb.FilingReviewOutcome,
    "FILING_REVIEW_OUTCOME_",
    {"accepted": "准予备案", "correction_required": "要求纠正", "revoked": "予以撤销"},
)
REQUESTER_KIND = Words(
    filing_pb.RequesterKind,
    "REQUESTER_KIND_",
    {"citizen": "公民", "organisation": "组织", "state_body": "国家机关"},
)
MISSING_STATUS = Words(
    filing_pb.MissingFilingStatus,
    "MISSING_FILING_STATUS_",
    {"before_deadline": "未到期", "after_deadline": "已逾期（漏报）"},
    aliases={"before": "before_deadline", "after": "after_deadline", "overdue": "after_deadline"},
)
