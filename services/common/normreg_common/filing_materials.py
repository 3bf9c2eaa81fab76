"""What a filing (报送备案) carries, by the kind of document filed: the text, the drafting explanation
(起草说明), the legal basis (制定依据), and for a normative document the legality review opinion
(合法性审核意见). Both sides judge completeness (规范率) by the same list: the sender's registry when it
records a filing, the recipient's filing service when it registers one.

The filing report (备案报告) and the promulgation order or issuing notice (公布令) are not listed: the
filing is its report, and the order is the registry's own promulgation record."""

from __future__ import annotations

MATERIALS = ("text", "drafting_explanation", "legal_basis", "legality_review_opinion")
_LEGALITY_OPINION_KINDS = frozenset({"NORMATIVE_DOCUMENT"})


def required_materials(kind: str) -> tuple[str, ...]:
    """The materials a filing of a document of `kind` must carry to be complete; every one for a kind
    not known (a filing stored without it is judged as before)."""
    if kind and kind not in _LEGALITY_OPINION_KINDS:
        return MATERIALS[:3]
    return MATERIALS
