"""Each RPC's comment in the .proto names the reasons it refuses with, and those are the reasons its
code can raise: a comment naming a reason the method can never raise fails, and so does a reason
the method can raise that its comment does not name.

What "can raise" means here is read from the code, not run: from the servicer's method, every call
is followed by name to every function or method of that name in the service's package (adapters
included: a store refuses a taken number) and in the parts of normreg_common a request runs
through (COMMON_ON_A_REQUEST), and a function raises the
reasons written in it — an error's reason argument, a `reason` it sets, an error class whose reason
is fixed (Aborted: ETAG_MISMATCH), or a module-level declaration it reads (a gate of the law, a
refusal table). Following calls by name over-approximates, so the first check (nothing documented
that cannot be raised) is sound for reasons written as literals; the second may list a reason only
reachable through a same-named function of another class, and such a pairing would have to be
listed below with why. What it cannot see: a reason computed at run time from data, and whether a
path that reaches a reason can actually be taken (a branch no input reaches still counts).

Reasons every method shares (INVALID_TOKEN, REQUEST_TOO_LARGE, ...) and those named like a status
code (NOT_FOUND, INVALID_ARGUMENT, ...) are said once per service, not per method, and are left out.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.common.test_error_reasons import _call_name, _reasons_in, catalogue

ROOT = Path(__file__).resolve().parents[2]
PROTOS = ROOT / "protos" / "normreg" / "v1"
COMMON = ROOT / "services" / "common" / "normreg_common"
RPC = re.compile(r"((?:^[ \t]*//[^\n]*\n)*)^[ \t]*rpc (\w+)\(", re.MULTILINE)
WORD = re.compile(r"\b[A-Z][A-Z_]{3,}\b")
SHARED = {
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "INTERNAL",
    "UNAVAILABLE",
    "INVALID_TOKEN",
    "REQUEST_TOO_LARGE",
    "TOO_MANY_ANONYMOUS_REQUESTS",
    "CLIENT_NOT_ALLOWED",
}
# service proto -> (package folder, servicer module)
SERVICES = {
    "registry_service.proto": (ROOT / "services/registry/normreg_registry", "entrypoints/grpc_servicer.py"),
    "review_service.proto": (ROOT / "services/review/normreg_review", "entrypoints/grpc_servicer.py"),
    "search_service.proto": (ROOT / "services/search/normreg_search", "entrypoints/grpc_servicer.py"),
    "filing_review_service.proto": (ROOT / "services/filing/normreg_filing", "entrypoints/grpc_servicer.py"),
    "dead_letter_service.proto": (COMMON, "deadletter_api.py"),
}
# Reasons no caller of any method can meet, with why.
NOT_FROM_A_CALLER = {
    "ACTOR_NOT_ALLOWED": "refuses a step to the wrong kind of actor: a person never takes a step only the "
    "system takes over gRPC, and no token makes a system principal (test_a_token_subject_starting_with_"
    "system_is_not_the_scheduler); the clock's own steps inside Promulgate are taken as the scheduler",
    "REQUEST_ID_TAKEN": "a store's guard behind idempotency: the use case reads the request id first in the "
    "same transaction (under the key's lock on PostgreSQL), so the insert never finds it taken",
}
_ROLE_TABLE = "the rule of this operation is not limited to the drafting organisation (access.OPERATIONS)"
_TABLE = "the refusal table names this reason only for another action"
# (service proto, RPC, reason) the reading reaches but the method cannot raise, with why.
UNREACHABLE: dict[tuple[str, str, str], str] = {
    ("registry_service.proto", "ClosePublicComment", "NOT_OPEN_FOR_COMMENT"): "the table first refuses a "
    "version not in PUBLIC_COMMENT (INVALID_STATE_TRANSITION), and a version in it always has its window",
    ("registry_service.proto", "Promulgate", "COMMENT_PERIOD_NOT_OVER"): "the clock run after promulgating "
    "closes only a window that has ended, of a version open for comment; the promulgated one is not",
    ("registry_service.proto", "Promulgate", "NOT_OPEN_FOR_COMMENT"): "the same clock run: it closes only "
    "a version it found open for comment",
    **{
        ("registry_service.proto", "ImportDocument", reason): why
        for reason, why in {
            "COMMENT_PERIOD_NOT_OVER": "the clock run inside an import closes only an ended window of a version "
            "open for comment, and an imported version is promulgated",
            "NOT_OPEN_FOR_COMMENT": "the same clock run: it closes only a version it found open for comment",
            "INVALID_STATE_TRANSITION": "the same clock run takes a step only from a state the table allows it "
            "from, checked first (Document._can)",
            "NOT_OWN_ORGANISATION": "the clock's steps inside an import are taken as the scheduler, which no "
            "organisation rule binds",
        }.items()
    },
    ("registry_service.proto", "RecordFilingReview", "INVALID_STATE_TRANSITION"): "a revocation declares "
    "the version invalid only from the states that step starts from, checked first (Filings._revoked)",
    ("registry_service.proto", "ApplyCleanupCampaign", "INVALID_STATE_TRANSITION"): "each outcome is "
    "applied to the version in force (CLEANUP_DOCUMENT_NOT_IN_FORCE otherwise), where repeal and "
    "invalidation start",
    ("registry_service.proto", "ApplyCleanupCampaign", "NOT_IN_FORCE"): "the amendment an outcome starts "
    "is of the version in force, checked first as CLEANUP_DOCUMENT_NOT_IN_FORCE",
    ("registry_service.proto", "RecordDeliberation", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("registry_service.proto", "Promulgate", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("registry_service.proto", "RecordFiling", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("registry_service.proto", "RecordFilingReview", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("registry_service.proto", "RecordEvaluation", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("registry_service.proto", "ListEvaluations", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("registry_service.proto", "Repeal", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("registry_service.proto", "DeclareInvalid", "NOT_OWN_ORGANISATION"): _ROLE_TABLE,
    ("review_service.proto", "ClaimReview", "REVIEW_NOT_CLAIMED"): _TABLE,
    ("review_service.proto", "ClaimReview", "INVALID_REVIEW_TRANSITION"): "every state a claim can meet "
    "has its own reason in the refusal tables",
    ("review_service.proto", "DecideReview", "INVALID_REVIEW_TRANSITION"): "every state a decision can meet "
    "has its own reason in the refusal tables",
    ("filing_review_service.proto", "RegisterReceivedFiling", "FILING_MATERIALS_MISSING"): _TABLE,
    ("filing_review_service.proto", "RegisterReceivedFiling", "FILING_NOT_REGISTERED"): _TABLE,
    ("filing_review_service.proto", "RecordCorrectionResponse", "FILING_MATERIALS_MISSING"): _TABLE,
    ("filing_review_service.proto", "RecordCorrectionResponse", "FILING_NOT_REGISTERED"): _TABLE,
    **{
        ("search_service.proto", method, "SEARCH_TOO_LONG"): "only a search of the index (SearchIndex.search) is "
        "given a time budget; the reading reaches it through other calls named search (a regular expression's)"
        for method in ("GetPublicDocument", "ListOpenConsultations", "ListCheckpoints")
    },
}


def _written_in(node: ast.AST) -> set[str]:
    return {r for inner in ast.walk(node) for r in _reasons_in(inner)}


def specific() -> set[str]:
    return set(catalogue()) - SHARED


@dataclass
class Code:
    """Functions and methods by name (all of one name together), and the declarations that carry reasons."""

    bodies: dict[str, list[ast.AST]] = field(default_factory=lambda: defaultdict(list))
    # Module-level names and error classes that carry reasons: a gate, a refusal table, Aborted.
    carriers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    carrier_modules: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    methods: dict[tuple[str, str], ast.AST] = field(default_factory=dict)

    def read(self, path: Path) -> None:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and (found := _written_in(node)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        self.carriers[target.id] |= found
                        self.carrier_modules[target.id].add(path.stem)
            if isinstance(node, ast.ClassDef):
                fixed = {r for stmt in node.body if not isinstance(stmt, ast.FunctionDef) for r in _written_in(stmt)}
                if fixed:
                    self.carriers[node.name] |= fixed
        # Functions of a module and methods of its classes; a nested function (the `work` of a use
        # case) is read as part of the function that holds it, never by its own name.
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            for item in cls.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    self.methods[(cls.name, item.name)] = item
                    functions.append(item)
        for node in functions:
            self.bodies[node.name].append(node)

    def references(self, node: ast.AST) -> set[str]:
        """What a function calls (by name), and the declarations it reads: `gates.EDITABLE` or a
        bare `REFUSED`, but not `State.IN_FORCE`, which only shares a gate's name."""
        found: set[str] = set()
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                found.add(_call_name(inner))
            elif isinstance(inner, ast.Name) and inner.id in self.carriers:
                found.add(inner.id)
            elif (
                isinstance(inner, ast.Attribute)
                and isinstance(inner.value, ast.Name)
                and inner.value.id in self.carrier_modules.get(inner.attr, ())
            ):
                found.add(inner.attr)
        return found

    def reachable(self, start: ast.AST) -> set[str]:
        seen: set[str] = set()
        reasons = _written_in(start)
        pending = list(self.references(start))
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            reasons |= self.carriers.get(name, set())
            for body in self.bodies.get(name, ()):
                reasons |= _written_in(body)
                pending += self.references(body)
        return reasons


# What a request runs through besides its service's own domain, use cases, stores and servicer. The
# rest of normreg_common (units of work, servers, event logs, consumers) refuses with no reason of its
# own but the shared ones, and reading it by name would join every use case to every other through
# `run` and `read`.
COMMON_ON_A_REQUEST = ["errors", "idempotency", "paging", "validation", "deadletter_api", "deadletters", "dates"]
NOT_ON_A_REQUEST = {"__main__.py", "bootstrap.py"}


def _code(package: Path) -> Code:
    code = Code()
    for path in sorted(package.rglob("*.py")):
        if path.name not in NOT_ON_A_REQUEST:
            code.read(path)
    for module in COMMON_ON_A_REQUEST:
        code.read(COMMON / f"{module}.py")
    return code


def _documented() -> list[tuple[str, str, set[str]]]:
    out = []
    for proto in SERVICES:
        for comment, rpc in RPC.findall((PROTOS / proto).read_text()):
            if "Deprecated" in comment:
                continue  # "same rules and refusals" as the method that replaces it
            out.append((proto, rpc, set(WORD.findall(comment)) & specific()))
    return out


CODE = {proto: _code(package) for proto, (package, _) in SERVICES.items()}


def _raisable(proto: str, rpc: str) -> set[str]:
    package, servicer = SERVICES[proto]
    code = CODE[proto]
    classes = {n.name for n in ast.walk(ast.parse((package / servicer).read_text())) if isinstance(n, ast.ClassDef)}
    [method] = [m for (cls, name), m in code.methods.items() if cls in classes and name == rpc]
    return code.reachable(method) & specific()


@pytest.mark.parametrize(("proto", "rpc", "documented"), _documented(), ids=lambda v: v if isinstance(v, str) else "")
def test_an_rpc_documents_no_reason_it_cannot_raise(proto: str, rpc: str, documented: set[str]) -> None:
    never = documented - _raisable(proto, rpc)
    assert not never, f"{proto} {rpc}: the comment names {sorted(never)}, which the method never raises"


@pytest.mark.parametrize(("proto", "rpc", "documented"), _documented(), ids=lambda v: v if isinstance(v, str) else "")
def test_an_rpc_documents_every_reason_it_can_raise(proto: str, rpc: str, documented: set[str]) -> None:
    unreachable = set(NOT_FROM_A_CALLER) | {r for (p, m, r) in UNREACHABLE if (p, m) == (proto, rpc)}
    raisable = _raisable(proto, rpc) - unreachable
    silent = raisable - documented
    assert not silent, f"{proto} {rpc}: the method can raise {sorted(silent)}; its comment does not name them"


def test_every_exception_still_names_what_the_reading_reaches() -> None:
    # An entry that no longer matches the code is stale: the method does not even seem to raise it.
    stale = [key for key in UNREACHABLE if key[2] not in _raisable(key[0], key[1])]
    assert stale == []


def test_the_reading_follows_a_use_case_to_the_gates_it_calls() -> None:
    # The analysis itself: RecordDeliberation reaches the legality gate through the service and the
    # aggregate, and ListDocuments (a read) reaches none of the gates of the law.
    assert "LEGALITY_REVIEW_NOT_APPROVED" in _raisable("registry_service.proto", "RecordDeliberation")
    assert "DATE_BEFORE_PREVIOUS_STEP" in _raisable("registry_service.proto", "Promulgate")
    assert "LEGALITY_REVIEW_NOT_APPROVED" not in _raisable("registry_service.proto", "ListDocuments")
