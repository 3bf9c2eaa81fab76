"""Consumers of the registry's events depend on the published messages only: no module of the
search, review or filing services (nor the shared code they run on) imports the registry's code,
so a change inside the registry cannot change what they read."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
CONSUMERS = ("search/normreg_search", "review/normreg_review", "filing/normreg_filing", "common/normreg_common")
# The producers' own packages: a consumer reads what they publish, never their code.
PRODUCERS = ("normreg_registry",)


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize("package", CONSUMERS)
def test_no_consumer_module_imports_the_registry(package: str) -> None:
    modules = sorted((SERVICES / package).rglob("*.py"))
    assert modules, f"no modules under {package}"
    offending = [
        f"{path.relative_to(SERVICES)}: {name}"
        for path in modules
        for name in sorted(imported_modules(path))
        if name.split(".")[0] in PRODUCERS
    ]
    assert offending == []


def test_the_consumers_run_without_the_registry_loaded() -> None:
    """Imports made at run time count too (a module importing one that imports the registry)."""
    entrypoints = [
        "normreg_search.entrypoints.consumer",
        "normreg_search.bootstrap",
        "normreg_review.entrypoints.document_events",
        "normreg_review.bootstrap",
        "normreg_filing.entrypoints.subordinate_events",
        "normreg_filing.application.service",
        "normreg_filing.bootstrap",
    ]
    code = "import sys\n" + "".join(f"import {m}\n" for m in entrypoints)
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] == 'normreg_registry'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert result.stdout.strip() == "[]"
