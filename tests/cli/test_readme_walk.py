"""README's walk through a document's life is run as written, line by line, against the registry,
review and search services: a command that drifts from what the CLI or the services accept fails
here, and the refusal README quotes must be the one the walk prints.

The block's shell dates ($TODAY, $(date …)) become the test clock's day; DOC, DRAFT, REVIEW and
CAMPAIGN are read from what the commands before them printed, as a reader would. Not run: the lines
that need the national-law corpus or a generated one (`make corpus`, `bench.synthetic`, the imports)
and the retry of a dead letter, whose position only a real dead letter gives."""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from normreg_common.clock import FakeClock

from tests.cli.conftest import Cli, cli_for
from tests.harness import System

README = Path(__file__).resolve().parents[2] / "README.md"
NOT_RUN = ("make corpus", "bench.synthetic", "synthetic-100k", "dead-letters retry")
BODY = "第一条 为规范共享单车停放，制定本办法。\n第二条 本办法适用于本市行政区域。\n"


def walk() -> list[tuple[str, bool]]:
    """The block's commands, continuation lines joined, each with whether README says it is refused."""
    text = README.read_text()
    block = text.split("## A document's life with the CLI", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands: list[tuple[str, bool]] = []
    pending = ""
    for raw in block.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        code, _, comment = raw.partition("  #")
        if code.endswith("\\"):
            pending += code[:-1] + " "
            continue
        line = (pending + code).strip()
        pending = ""
        if line.startswith("$N "):
            commands.append((line, "refused" in comment))
    return commands


def refusal_quoted() -> str:
    text = README.read_text().split("## A document's life with the CLI", 1)[1]
    [line] = re.findall(r"^`(error: [^`]+)`$", text, re.MULTILINE)[:1]
    return line


def _dated(line: str, today: dt.date) -> str:
    line = line.replace("$TODAY", today.isoformat()).replace("$(date +%Y)", str(today.year))
    line = line.replace("$(date +%F)", today.isoformat())
    return re.sub(
        r"\$\(date -d '\+(\d+) days' \+%F\)", lambda m: (today + dt.timedelta(days=int(m[1]))).isoformat(), line
    )


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    # As `make run` starts them: `dead-letters list` asks the filing service too.
    s = System(tmp_path, clock, services=("registry", "review", "search", "filing"))
    await s.start()
    yield s
    await s.stop()


def test_the_walk_is_read_from_the_readme() -> None:
    lines = [line for line, _ in walk()]
    assert any(" create " in line for line in lines) and any(" promulgate " in line for line in lines)
    # One step is refused on purpose: deliberating before legality review, ahead of the review itself.
    refused = [i for i, (line, is_refused) in enumerate(walk()) if is_refused]
    decided = next(i for i, line in enumerate(lines) if " review-decide " in line)
    assert len(refused) == 1 and " deliberate " in lines[refused[0]] and refused[0] < decided


async def test_every_command_of_the_readme_walk_does_what_it_says(
    system: System, tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "draft.txt").write_text(BODY)
    cli: Cli = cli_for(system, tmp_path)
    today = clock.now().date()
    names: dict[str, str] = {}
    refusals: list[str] = []
    ran = 0
    for line, refused in walk():
        if any(skip in line for skip in NOT_RUN):
            continue
        for placeholder in ("DRAFT", "CAMPAIGN", "REVIEW", "DOC"):
            if placeholder in names:
                line = re.sub(rf"\b{placeholder}\b", names[placeholder], line)
        argv = shlex.split(_dated(line, today))[1:]
        assert not any(re.fullmatch(r"DOC|DRAFT|REVIEW|CAMPAIGN", a) for a in argv), f"nothing printed it: {line}"
        result = await cli(*argv)
        await system.pump()
        ran += 1
        if refused:
            assert result.code == 1, f"README says `{line}` is refused; it ran"
            refusals.append(result.err.strip())
            continue
        assert result.code == 0, f"`{line}` failed: {result.err}"
        if (created := re.search(r"^name\s+documents/(\S+)", result.out, re.MULTILINE)) and " create " in line:
            names["DRAFT" if "DOC" in names else "DOC"] = created[1]
        if (review := re.search(r"(reviews/\S+)", result.out)) and " reviews " in line:
            names["REVIEW"] = review[1]
        if (campaign := re.search(r"(cleanupCampaigns/\S+)", result.out)) and " cleanup create " in line:
            names["CAMPAIGN"] = campaign[1]
    assert ran >= 30
    # The refusal README quotes is the one its walk prints, but for the document's id and the day.
    [printed] = refusals
    quoted = refusal_quoted().replace("documents/…", "documents/DOC")
    quoted = re.sub(r"\d{4}-\d{2}-\d{2}", "DAY", quoted)
    assert re.sub(r"\d{4}-\d{2}-\d{2}", "DAY", printed.replace(f"documents/{names['DOC']}", "documents/DOC")) == quoted
