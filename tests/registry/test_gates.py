"""The gates of the law are one module of declarations: every FAILED_PRECONDITION the registry's
domain raises for a rule of the law is a gate there (the lifecycle table raises the other one), each
with a reason from the published catalogue and the rule in words in its refusal."""

from __future__ import annotations

import ast
import inspect
import re
import string
from pathlib import Path

import pytest
from normreg.v1 import error_reason_pb2
from normreg_common.errors import FailedPrecondition
from normreg_registry.domain import gate, gates, lifecycle
from normreg_registry.domain.gate import Gate

DOMAIN = Path(gates.__file__).parent
GATES = {name: g for name, g in vars(gates).items() if isinstance(g, Gate)}


def test_every_refusal_of_the_law_in_the_domain_is_a_gate() -> None:
    allowed = {Path(gate.__file__).name, Path(lifecycle.__file__).name}
    raised = [
        f"{path.name}:{node.lineno}"
        for path in sorted(DOMAIN.glob("*.py"))
        if path.name not in allowed
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", "")) == "FailedPrecondition"
    ]
    assert raised == []


def test_the_gates_fit_one_screen() -> None:
    # A terminal's screen: the whole law the registry enforces, read without scrolling far.
    assert len(inspect.getsource(gates).splitlines()) <= 100


def test_every_gate_reason_is_in_the_published_catalogue() -> None:
    catalogue = set(error_reason_pb2.ErrorReason.keys())
    assert GATES
    assert {g.reason for g in GATES.values()} <= catalogue


def test_a_refusal_says_what_was_found_then_the_rule_and_carries_the_reason() -> None:
    err = gates.EDITABLE.refusal(
        "documents/d", v=type("V", (), {"state": "ADOPTED"})(), version="documents/d/versions/1"
    )
    assert err.reason == "NOT_EDITABLE"
    assert err.message == "documents/d/versions/1 is ADOPTED; only a version in DRAFTING can be edited"
    assert err.metadata == {"resource": "documents/d"}


def test_a_gate_refuses_exactly_what_its_predicate_refuses() -> None:
    facts = {"kind": "GOVERNMENT_RULE", "start": "s", "end": "e", "minimum": 30, "unit": "days"}
    gates.COMMENT_PERIOD_LONG_ENOUGH.check("documents/d", length=30, **facts)
    with pytest.raises(FailedPrecondition) as err:
        gates.COMMENT_PERIOD_LONG_ENOUGH.check("documents/d", length=29, **facts)
    assert err.value.reason == "COMMENT_PERIOD_TOO_SHORT"
    assert err.value.message.endswith("a comment period on a GOVERNMENT_RULE must last at least 30 days")


def _needs(gate: Gate) -> set[str]:
    """The facts a gate reads: its predicate's named parameters and the fields of its two texts."""
    named = {
        p.name
        for p in inspect.signature(gate.refuses).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    fields = {
        re.split(r"[.\[]", name)[0]
        for text in (gate.rule, gate.found)
        for _, name, _, _ in string.Formatter().parse(text)
        if name
    }
    return (named | fields) - {"resource"}


def test_every_call_of_a_gate_names_every_fact_the_gate_reads() -> None:
    # A fact left out or misspelt would be a TypeError or KeyError at run time: INTERNAL, not the rule.
    calls = [
        (path.name, node.lineno, node.func.value.attr, {k.arg for k in node.keywords if k.arg is not None})
        for path in sorted(DOMAIN.glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "check"
        and isinstance(node.func.value, ast.Attribute)
        and isinstance(node.func.value.value, ast.Name)
        and node.func.value.value.id == "gates"
    ]
    assert {gate for _, _, gate, _ in calls} == set(GATES), "a gate no call checks, or a call of no gate"
    missing = [
        f"{file}:{line} gates.{gate} lacks {sorted(_needs(GATES[gate]) - passed)}"
        for file, line, gate, passed in calls
        if not _needs(GATES[gate]) <= passed
    ]
    assert missing == []
