"""`normreg verify` (registrar): is the past intact, and does the public index say what the registry says?

1. The history of every document (RegistryService.VerifyHistory): its hash chain, that the document
   is in the state its history ends in, and the database against the signed checkpoints the search
   service witnessed (SearchService.ListCheckpoints): a deleted newest entry, a rewritten chain, a
   state or text changed without an entry each show as a problem.
2. The registry against the search index. Every version in a public state is read back from the index
   (GetPublicDocument) and compared field by field; the index is walked (SearchDocuments over every
   public state) for versions the registry does not have in a public state; the drafts listed as open
   for comment are compared with the registry's, and a draft whose window contains today must be listed.

3. With `--received-filings`, the filing review service (which keeps no hash chain of its own): what each
   sender was told of its filing — the events in its outbox — is numbered without gaps, signed with
   this jurisdiction's key, and leads to the state the filing is in (VerifyReceivedFilings); events
   the event log has not acknowledged yet count as a difference.

Run it once writes have settled: an event still on its way shows as a difference.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import grpc
from google.protobuf import json_format
from normreg.v1 import document_pb2 as pb
from normreg.v1 import filing_review_service_pb2 as fpb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import search_service_pb2 as spb

from normreg_cli import dates, views_registry
from normreg_cli.command import Context, Subparsers, add_command
from normreg_cli.consistency import (
    ABSENT,
    PUBLIC_STATES,
    Difference,
    compare_consultation,
    compare_version,
    is_public,
    open_for_comment,
    state_word,
)
from normreg_cli.options import document_name
from normreg_cli.render import table

DIFFERS = 1
# Documents per ListDocuments page with their texts (the registry's maximum for the FULL view);
# halved while a page is too large for one message.
LIST_PAGE = 10
SEARCH_PAGE = 100
# SearchDocuments pages reach offset 9,900 (plus one page): a larger result set is split by date.
SEARCH_WINDOW = 10_000
FIRST_DAY = dt.date(1000, 1, 1)
LAST_DAY = dt.date(9999, 12, 31)
IN_FLIGHT = 16
CHECKPOINTS_PER_CALL = 10_000

T = TypeVar("T")
R = TypeVar("R")


@dataclass
class IndexReport:
    versions_compared: int = 0
    consultations_compared: int = 0
    versions_in_index: int = 0
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "versions_compared": self.versions_compared,
            "consultations_compared": self.consultations_compared,
            "versions_in_index": self.versions_in_index,
            "differences": [d.as_dict() for d in self.differences],
        }


async def _bounded(items: Iterable[T], call: Callable[[T], Awaitable[R]]) -> list[R]:
    """`call` on every item, at most IN_FLIGHT at a time, results in order."""
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(item: T) -> R:
        async with gate:
            return await call(item)

    return list(await asyncio.gather(*(one(i) for i in items)))


async def _registry_documents(ctx: Context, name: str) -> AsyncIterator[pb.Document]:
    """One document, or every document (a registrar sees every version of each)."""
    registry = ctx.clients.registry
    if name:
        yield await registry.GetDocument(rpb.GetDocumentRequest(name=name, view=rpb.DOCUMENT_VIEW_FULL))
        return
    token, size = "", LIST_PAGE
    while True:
        try:
            page = await registry.ListDocuments(
                rpb.ListDocumentsRequest(page_size=size, page_token=token, view=rpb.DOCUMENT_VIEW_FULL)
            )
        except grpc.aio.AioRpcError as exc:
            # Long laws: a page of them can exceed the client's message limit; ask for fewer.
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and size > 1:
                size //= 2
                continue
            raise
        for doc in page.documents:
            yield doc
        if not page.next_page_token:
            return
        token = page.next_page_token


async def _public(ctx: Context, name: str) -> spb.PublicDocument | None:
    try:
        found: spb.PublicDocument = await ctx.clients.search.GetPublicDocument(spb.GetPublicDocumentRequest(name=name))
    except grpc.aio.AioRpcError as exc:
        if exc.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return found


async def _indexed(
    ctx: Context, start: dt.date | None = None, end: dt.date | None = None
) -> tuple[dict[str, pb.VersionState.ValueType], int]:
    """Every searchable version in the index (name -> state) promulgated between start and end, and
    how many could not be reached (more than the search window on a single day)."""
    request = spb.SearchDocumentsRequest(
        states=sorted(PUBLIC_STATES), sort=spb.SORT_ORDER_PROMULGATION_DATE_DESC, page_size=SEARCH_PAGE
    )
    if start is not None and end is not None:
        request.promulgation_date.CopyFrom(spb.DateRange(from_date=dates.to_pb(start), to_date=dates.to_pb(end)))
    page = await ctx.clients.search.SearchDocuments(request)
    low, high = start or FIRST_DAY, end or LAST_DAY
    if page.total > SEARCH_WINDOW and low < high:
        middle = low + (high - low) // 2
        found, unreached = await _indexed(ctx, low, middle)
        later, more = await _indexed(ctx, middle + dt.timedelta(days=1), high)
        found.update(later)
        return found, unreached + more
    found = {h.name: h.state for h in page.hits}
    while page.next_page_token:
        request.page_token = page.next_page_token
        page = await ctx.clients.search.SearchDocuments(request)
        found.update((h.name, h.state) for h in page.hits)
    return found, max(0, page.total - len(found))


async def _consultations(ctx: Context) -> list[spb.Consultation]:
    out: list[spb.Consultation] = []
    token = ""
    while True:
        page = await ctx.clients.search.ListOpenConsultations(
            spb.ListOpenConsultationsRequest(page_size=SEARCH_PAGE, page_token=token)
        )
        out.extend(page.consultations)
        if not page.next_page_token:
            return out
        token = page.next_page_token


Pair = tuple[pb.Document, pb.Version]


async def compare_with_index(ctx: Context, name: str) -> IndexReport:
    """The registry (one document, or all) against the search index."""
    today = dt.datetime.now(ctx.tz).date()
    versions: dict[str, Pair] = {}
    async for doc in _registry_documents(ctx, name):
        for version in doc.versions:
            versions[version.name] = (doc, version)
    public = [(d, v) for d, v in versions.values() if is_public(v)]
    others = [(d, v) for d, v in versions.values() if not is_public(v)]

    async def check(pair: Pair) -> list[Difference]:
        doc, version = pair
        found = await _public(ctx, version.name)
        if found is None:
            return [Difference("missing", version.name, state_word(version.state), ABSENT)]
        return compare_version(doc, version, found)

    report = IndexReport(versions_compared=len(public))
    for found in await _bounded(public, check):
        report.differences.extend(found)
    if name:
        await _others_of_one_document(ctx, others, today, report)
    else:
        await _the_whole_index(ctx, versions, today, report)
    return report


async def _others_of_one_document(ctx: Context, others: list[Pair], today: dt.date, report: IndexReport) -> None:
    """One document: each of its non-public versions is asked for; the index must not show it,
    except a draft open for comment."""

    async def hidden(pair: Pair) -> tuple[bool, list[Difference]]:
        _, version = pair
        found = await _public(ctx, version.name)
        if found is None:
            if open_for_comment(version, today):
                return False, [Difference("consultation_missing", version.name, "open for comment", ABSENT)]
            return False, []
        if version.state != pb.VERSION_STATE_PUBLIC_COMMENT:
            return True, [Difference("unexpected", version.name, state_word(version.state), state_word(found.state))]
        # A public document carries no comment window: compare the text only.
        listed = spb.Consultation(name=found.name, title=found.title, body=found.body)
        listed.window.CopyFrom(version.comment_window)
        return True, compare_consultation(version, listed)

    shown = 0
    for in_index, found in await _bounded(others, hidden):
        shown += in_index
        report.differences.extend(found)
    missing = sum(1 for d in report.differences if d.what == "missing")
    report.versions_in_index = report.versions_compared - missing + shown
    report.consultations_compared = sum(1 for _, v in others if v.state == pb.VERSION_STATE_PUBLIC_COMMENT)


async def _the_whole_index(ctx: Context, versions: dict[str, Pair], today: dt.date, report: IndexReport) -> None:
    """Every document: the index is walked for versions it should not show, and the consultations
    it lists are compared with the registry's drafts open for comment."""
    indexed, unreached = await _indexed(ctx)
    if unreached:
        report.differences.append(
            Difference("unchecked", "(the index)", "", f"{unreached} versions beyond the search window")
        )
    report.versions_in_index = len(indexed) + unreached
    for version_name, state in sorted(indexed.items()):
        known = versions.get(version_name)
        if known is None or not is_public(known[1]):
            registry_state = state_word(known[1].state) if known else ABSENT
            report.differences.append(Difference("unexpected", version_name, registry_state, state_word(state)))

    listed = {c.name: c for c in await _consultations(ctx)}
    for version_name, consultation in sorted(listed.items()):
        known = versions.get(version_name)
        if known is None or known[1].state != pb.VERSION_STATE_PUBLIC_COMMENT:
            registry_state = state_word(known[1].state) if known else ABSENT
            report.differences.append(
                Difference("consultation_unexpected", version_name, registry_state, "open for comment")
            )
        else:
            report.differences.extend(compare_consultation(known[1], consultation))
    for _, version in versions.values():
        if open_for_comment(version, today) and version.name not in listed:
            report.differences.append(Difference("consultation_missing", version.name, "open for comment", ABSENT))
    report.consultations_compared = len(listed)


def _index_summary(report: IndexReport) -> str:
    counts = (
        f"{report.versions_compared} public versions and {report.consultations_compared} consultations compared, "
        f"{report.versions_in_index} versions in the index"
    )
    if not report.differences:
        return f"index: {counts}: agrees"
    rows = [[d.what, d.name, d.registry, d.index] for d in report.differences]
    n = len(report.differences)
    return "\n".join(
        [
            f"index: {counts}: {n} difference{'s' if n != 1 else ''}",
            table(["difference", "version", "registry", "index"], rows, max_width=60),
        ]
    )


async def witnessed_checkpoints(ctx: Context, name: str) -> list[str]:
    """The newest checkpoint the witness holds for each document (only `name`'s when given)."""
    newest: dict[str, tuple[int, str]] = {}
    token = ""
    while True:
        page = await ctx.clients.search.ListCheckpoints(spb.ListCheckpointsRequest(page_size=1000, page_token=token))
        for c in page.checkpoints:
            if (not name or c.document == name) and c.sequence >= newest.get(c.document, (0, ""))[0]:
                newest[c.document] = (c.sequence, c.token)
        token = page.next_page_token
        if not token:
            return [t for _, t in newest.values()]


async def verify_history(ctx: Context, name: str) -> rpb.VerifyHistoryResponse:
    checkpoints = await witnessed_checkpoints(ctx, name)
    result: rpb.VerifyHistoryResponse | None = None
    # One call per CHECKPOINTS_PER_CALL witnessed documents (the first even without any).
    for start in range(0, max(len(checkpoints), 1), CHECKPOINTS_PER_CALL):
        part = await ctx.clients.registry.VerifyHistory(
            rpb.VerifyHistoryRequest(name=name, checkpoints=checkpoints[start : start + CHECKPOINTS_PER_CALL])
        )
        if result is None:
            result = part
            continue
        # Every call checks every chain again: only the witness problems are new.
        seen = set(result.problems)
        result.problems.extend(p for p in part.problems if p not in seen)
        result.intact = result.intact and part.intact
    assert result is not None
    return result


async def verify(ctx: Context, args: argparse.Namespace) -> int:
    if args.history_only and not args.received_filings:
        # Without the search service, so without its witnessed checkpoints.
        history = await ctx.clients.registry.VerifyHistory(rpb.VerifyHistoryRequest(name=args.name))
        ctx.show(history, lambda: views_registry.verification(history))
        return 0 if history.intact else DIFFERS
    if args.history_only:
        history = await ctx.clients.registry.VerifyHistory(rpb.VerifyHistoryRequest(name=args.name))
        report = None
    else:
        history = await verify_history(ctx, args.name)
        report = await compare_with_index(ctx, args.name)
    agrees = history.intact and not (report and report.differences)
    filings = None
    if args.received_filings:
        filings = await ctx.clients.filing.VerifyReceivedFilings(fpb.VerifyReceivedFilingsRequest())
        agrees = agrees and not filings.problems and not filings.events_unsent
    if ctx.as_json:
        body = {
            "agrees": agrees,
            "history": json_format.MessageToDict(
                history, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            ),
        }
        if report is not None:
            body["index"] = report.as_dict()
        if filings is not None:
            body["filings"] = json_format.MessageToDict(
                filings, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
            )
        ctx.print(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        ctx.print(f"history: {views_registry.verification(history)}")
        if report is not None:
            ctx.print(_index_summary(report))
        if filings is not None:
            ctx.print(_filings_summary(filings))
    return 0 if agrees else DIFFERS


def _filings_summary(result: fpb.VerifyReceivedFilingsResponse) -> str:
    head = f"filings: {result.filings_checked} received filings, {result.events_checked} events told to senders"
    if not result.problems and not result.events_unsent:
        return f"{head}: agrees"
    lines = [f"{head}: DIFFERS"]
    if result.events_unsent:
        lines.append(f"  {result.events_unsent} events not yet acknowledged by the event log")
    lines += [table(["filing", "problem"], [[p.filing or "-", p.problem] for p in result.problems])]
    return "\n".join(lines)


def register(subparsers: Subparsers) -> None:
    p = add_command(
        subparsers,
        "verify",
        verify,
        "registrar: check the hash chains of the history and compare the registry with the public index "
        "(exit code 1 when anything differs)",
        epilog="Run it once writes have settled: an event still on its way to the index shows as a difference.",
    )
    p.add_argument(
        "name", type=document_name, nargs="?", default="", metavar="DOCUMENT", help="default: every document"
    )
    p.add_argument(
        "--history-only",
        action="store_true",
        help="only the registry's own checks (chains, states): not the index, not the witness",
    )
    p.add_argument(
        "--received-filings",
        action="store_true",
        help="also the filing review service: what senders were told agrees with the received filings "
        "(needs the role reviewer there)",
    )
