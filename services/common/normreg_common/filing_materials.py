"""Which kinds are filed (报送备案), and what a filing carries by its kind: the text, the drafting
explanation (起草说明), the legal basis (制定依据), and for a normative document the legality review
opinion (合法性审核意见). Both sides judge completeness (规范率) by the same list: the sender's registry
when it records a filing, the recipient's filing service when it registers one.

The filing report (备案报告) and the promulgation order or issuing notice (公布令) are not listed: the
filing is its report, and the order is the registry's own promulgation record."""

from __future__ import annotations

# The kinds filed with a superior body (报送备案), and so reviewed by it: the registry's obligations, the
# recipient's review suggestions and the portal's suggestion form all read them here. A national law
# or an administrative regulation is reviewed by the NPC Standing Committee; a major decision is not
# filed.
FILED_KINDS = frozenset({"LOCAL_REGULATION", "GOVERNMENT_RULE", "NORMATIVE_DOCUMENT"})
MATERIALS = ("text", "drafting_explanation", "legal_basis", "legality_review_opinion")
_LEGALITY_OPINION_KINDS = frozenset({"NORMATIVE_DOCUMENT"})


def required_materials(kind: str) -> tuple[str, ...]:
    """The materials a filing of a document of `kind` must carry to be complete; every one for a kind
    not known (a filing stored without it is judged as before)."""
    if kind and kind not in _LEGALITY_OPINION_KINDS:
        return MATERIALS[:3]
    return MATERIALS
