"""The published catalogue of ErrorInfo reasons (normreg.v1.ErrorReason) is exactly the set of
reasons the code can raise, and says for each whether a retry can help."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from normreg.v1 import error_reason_pb2

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "services", ROOT / "cli"]
REASON = re.compile(r"^[A-Z][A-Z_]{3,}$")
# Errors whose first positional argument is the reason, and the registry's gates of the law, which
# raise FailedPrecondition with theirs.
REASON_FIRST = {"FailedPrecondition", "PermissionDenied", "AlreadyExists", "Gate"}


def _constant(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and REASON.match(node.value):
        return node.value
    return None


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _reasons_in(node: ast.AST) -> set[str]:
    found: set[str] = set()
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in REASON_FIRST and node.args and (r := _constant(node.args[0])):
            found.add(r)
        found |= {r for kw in node.keywords if kw.arg == "reason" and (r := _constant(kw.value))}
        # REFUSED.get(key, "DEFAULT_REASON")
        refused_get = isinstance(node.func, ast.Attribute) and "REFUSED" in ast.unparse(node.func.value)
        if name == "get" and refused_get and len(node.args) == 2 and (r := _constant(node.args[1])):
            found.add(r)
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign):
        targets = [node.target]
    value = getattr(node, "value", None)
    for target in targets:
        named = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
        if named == "reason" and (r := _constant(value)):
            found.add(r)
        if "REFUSED" in named and isinstance(value, ast.Dict):
            found |= {r for v in value.values if (r := _constant(v))}
    return found


def raised_reasons() -> set[str]:
    """Every reason literal the code hands to an error: constructor arguments, `reason=`,
    `reason` class attributes and assignments, and the review lifecycle's refusal tables."""
    found: set[str] = set()
    for root in SOURCES:
        for path in root.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                found |= _reasons_in(node)
    return found


def catalogue() -> dict[str, int]:
    descriptor = error_reason_pb2.ErrorReason.DESCRIPTOR
    return {v.name: v.GetOptions().Extensions[error_reason_pb2.retry] for v in descriptor.values if v.number != 0}


def test_every_reason_the_code_raises_is_in_the_published_catalogue() -> None:
    missing = raised_reasons() - set(catalogue())
    assert not missing, f"add to protos/normreg/v1/error_reason.proto: {sorted(missing)}"


def retired() -> set[str]:
    """Reasons kept in the catalogue, marked deprecated, after the code stopped raising them: a client
    built before still reads the number."""
    descriptor = error_reason_pb2.ErrorReason.DESCRIPTOR
    return {v.name for v in descriptor.values if v.GetOptions().deprecated}


def test_the_catalogue_lists_no_reason_the_code_cannot_raise() -> None:
    stale = set(catalogue()) - raised_reasons() - retired()
    assert not stale, f"no code raises {sorted(stale)}: mark it deprecated in error_reason.proto, or raise it"
    assert not retired() & raised_reasons(), "a reason marked deprecated is raised again: remove the mark"


def test_every_reason_says_whether_a_retry_can_help() -> None:
    undecided = [name for name, retry in catalogue().items() if retry == error_reason_pb2.RETRY_UNSPECIFIED]
    assert undecided == []
    assert catalogue()["LEGALITY_REVIEW_NOT_APPROVED"] == error_reason_pb2.RETRY_AFTER_CHANGE
    assert catalogue()["UNAVAILABLE"] == error_reason_pb2.RETRY_LATER
    assert catalogue()["COMMENT_PERIOD_TOO_SHORT"] == error_reason_pb2.RETRY_NEVER
