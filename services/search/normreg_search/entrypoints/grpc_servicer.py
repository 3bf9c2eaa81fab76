"""SearchService over gRPC: check the request, ask the use case, convert. Needs no token."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Awaitable, Callable

import grpc
from normreg.v1 import document_pb2 as pb
from normreg.v1 import search_service_pb2 as spb
from normreg.v1 import search_service_pb2_grpc as sgrpc
from normreg_common import proto_dates
from normreg_common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from normreg_common.grpc_server import current_principal
from normreg_common.paging import IntCursor, PageTokens, fits, page_size
from normreg_common.principal import Role
from normreg_common.validation import parse, resource_id

from normreg_search import paging
from normreg_search.entrypoints import requests as rq
from normreg_search.model import CONSULTATION_STATE, KINDS, SEARCHABLE_STATES, PublicVersion
from normreg_search.query import DateRange, SearchQuery, Sort
from normreg_search.service import FoundVersion, PublicSearch
from normreg_search.witness import Witnessed

_VERSION_NAME = re.compile(r"^(documents/[a-z0-9][a-z0-9-]{0,62})/versions/([1-9][0-9]{0,3})\Z")

STATE_TO_PB = {s: pb.VersionState.Value(f"VERSION_STATE_{s}") for s in [*SEARCHABLE_STATES, CONSULTATION_STATE]}
# Any state may be asked for; states that are never searchable (drafts, withdrawn, open for comment)
# simply match nothing, so a client can pass "all states" without knowing which are public.
STATE_FROM_PB: dict[int, str] = {
    value: name.removeprefix("VERSION_STATE_") for name, value in pb.VersionState.items() if value != 0
}
KIND_TO_PB = {k: pb.DocumentKind.Value(f"DOCUMENT_KIND_{k}") for k in KINDS}
KIND_FROM_PB: dict[int, str] = {v: k for k, v in KIND_TO_PB.items()}
SORT_FROM_PB = {
    spb.SORT_ORDER_UNSPECIFIED: Sort.RELEVANCE,
    spb.SORT_ORDER_RELEVANCE: Sort.RELEVANCE,
    spb.SORT_ORDER_PROMULGATION_DATE_DESC: Sort.PROMULGATION_DATE_DESC,
    spb.SORT_ORDER_EFFECTIVE_DATE_DESC: Sort.EFFECTIVE_DATE_DESC,
}


def _enum_values(values: list[int], mapping: dict[int, str], field: str, what: str) -> frozenset[str]:
    out = set()
    for i, value in enumerate(values):
        if value not in mapping:
            raise InvalidArgument(f"{field}[{i}]", f"{value} is not a {what}")
        out.add(mapping[value])
    return frozenset(out)


def summary_pb(v: PublicVersion) -> spb.PublicVersionSummary:
    out = spb.PublicVersionSummary(
        name=v.name,
        version_number=v.version_number,
        title=v.title,
        state=STATE_TO_PB.get(v.state, pb.VERSION_STATE_UNSPECIFIED),
        uniform_number=v.uniform_number,
    )
    proto_dates.fill(out, "promulgation_date", v.promulgation_date)
    proto_dates.fill(out, "effective_date", v.effective_date)
    proto_dates.fill(out, "valid_from", v.valid_from)
    proto_dates.fill(out, "valid_to", v.valid_to)
    return out


def _window(start: dt.date | None, end: dt.date | None) -> pb.PublicCommentWindow:
    window = pb.PublicCommentWindow()
    proto_dates.fill(window, "start_date", start)
    proto_dates.fill(window, "end_date", end)
    return window


def public_document_pb(v: PublicVersion, versions: list[PublicVersion] | None = None) -> spb.PublicDocument:
    out = spb.PublicDocument(
        name=v.name,
        document=v.document,
        title=v.title,
        kind=KIND_TO_PB.get(v.kind, pb.DOCUMENT_KIND_UNSPECIFIED),
        state=STATE_TO_PB.get(v.state, pb.VERSION_STATE_UNSPECIFIED),
        issuing_body=v.issuing_body,
        uniform_number=v.uniform_number,
        body=v.body,
        articles=[pb.Article(label=a.label, text=a.text) for a in v.articles],
        timeline=[_timeline_event(e.date, e.event, e.note, e.related) for e in v.timeline],
        amends=v.amends,
        amended_by=v.amended_by,
        repealed_by=v.repealed_by,
        versions=[summary_pb(x) for x in versions or ()],
        comment_window=_window(v.comment_start, v.comment_end),
        comment_count=v.comment_count,
    )
    proto_dates.fill(out, "promulgation_date", v.promulgation_date)
    proto_dates.fill(out, "effective_date", v.effective_date)
    proto_dates.fill(out, "validity_end_date", v.validity_end_date)
    return out


def _timeline_event(day: str, event: str, note: str, related: str) -> spb.TimelineEvent:
    out = spb.TimelineEvent(event=event, note=note, related=related)
    proto_dates.fill(out, "date", dt.date.fromisoformat(day) if day else None)
    return out


def hit_pb(found: FoundVersion) -> spb.SearchHit:
    v = found.version
    out = spb.SearchHit(
        name=v.name,
        document=v.document,
        title=v.title,
        kind=KIND_TO_PB.get(v.kind, pb.DOCUMENT_KIND_UNSPECIFIED),
        state=STATE_TO_PB.get(v.state, pb.VERSION_STATE_UNSPECIFIED),
        issuing_body=v.issuing_body,
        uniform_number=v.uniform_number,
        score=found.score,
        snippets=[spb.Snippet(field=s.field, text=s.text) for s in found.snippets],
    )
    proto_dates.fill(out, "promulgation_date", v.promulgation_date)
    proto_dates.fill(out, "effective_date", v.effective_date)
    return out


def _facet(values: tuple[tuple[str, int], ...], to_name: Callable[[str], str] = str) -> list[spb.FacetCount]:
    return [spb.FacetCount(value=to_name(value), count=count) for value, count in values]


def _state_name(state: str) -> str:
    return f"VERSION_STATE_{state}"


def _kind_name(kind: str) -> str:
    return f"DOCUMENT_KIND_{kind}"


def consultation_pb(v: PublicVersion) -> spb.Consultation:
    window = pb.PublicCommentWindow()
    proto_dates.fill(window, "start_date", v.comment_start)
    proto_dates.fill(window, "end_date", v.comment_end)
    return spb.Consultation(
        name=v.name,
        document=v.document,
        title=v.title,
        body=v.body,
        kind=KIND_TO_PB.get(v.kind, pb.DOCUMENT_KIND_UNSPECIFIED),
        issuing_body=v.issuing_body,
        window=window,
        comment_count=v.comment_count,
    )


CHECKPOINT_PAGES: PageTokens[int] = PageTokens("search.checkpoints", IntCursor())


class SearchServicer(sgrpc.SearchServiceServicer):
    def __init__(
        self,
        service: PublicSearch,
        rebuild: Callable[[], Awaitable[None]] | None = None,
        witnessed: Callable[[int, int], Awaitable[list[Witnessed]]] | None = None,
    ) -> None:
        self._s = service
        self._rebuild = rebuild
        self._witnessed = witnessed

    async def ListCheckpoints(
        self, request: spb.ListCheckpointsRequest, context: grpc.aio.ServicerContext
    ) -> spb.ListCheckpointsResponse:
        if not current_principal().has(Role.REGISTRAR):
            raise PermissionDenied("ROLE_NOT_ALLOWED", "reading witnessed checkpoints needs the role registrar")
        if self._witnessed is None:
            raise FailedPrecondition("WITNESS_UNAVAILABLE", "this search service keeps no checkpoints")
        size = page_size(request.page_size, default=500, maximum=1000)
        after = CHECKPOINT_PAGES.decode(request.page_token, {}) or 0
        found = await self._witnessed(after, size + 1)
        shown = found[:size]
        return spb.ListCheckpointsResponse(
            checkpoints=[
                spb.WitnessedCheckpoint(document=w.document, sequence=w.sequence, token=w.token) for w in shown
            ],
            next_page_token=CHECKPOINT_PAGES.encode(shown[-1].id, {}) if len(found) > size else "",
        )

    async def RebuildIndex(
        self, request: spb.RebuildIndexRequest, context: grpc.aio.ServicerContext
    ) -> spb.RebuildIndexResponse:
        if Role.ADMIN not in current_principal().roles:
            raise PermissionDenied("ROLE_NOT_ALLOWED", "rebuilding the search index needs the role admin")
        if self._rebuild is None:
            raise FailedPrecondition("REBUILD_UNAVAILABLE", "this search service was started without rebuild support")
        started = time.monotonic()
        await self._rebuild()
        return spb.RebuildIndexResponse(seconds=time.monotonic() - started)

    async def SearchDocuments(
        self, request: spb.SearchDocumentsRequest, context: grpc.aio.ServicerContext
    ) -> spb.SearchDocumentsResponse:
        req = parse(
            rq.SearchDocuments,
            query=request.query,
            issuing_bodies=list(request.issuing_bodies),
            promulgation_date=_date_range(request.promulgation_date, "promulgation_date."),
            effective_date=_date_range(request.effective_date, "effective_date."),
            valid_on=proto_dates.read(request, "valid_on", selects=True),
            uniform_number=request.uniform_number,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        states = _enum_values(list(request.states), STATE_FROM_PB, "states", "version state")
        kinds = _enum_values(list(request.kinds), KIND_FROM_PB, "kinds", "document kind")
        if request.sort not in SORT_FROM_PB:
            raise InvalidArgument("sort", f"unknown sort order {request.sort}")
        sort = SORT_FROM_PB[request.sort]
        fingerprint = paging.fingerprint(
            {
                "query": req.query,
                "states": sorted(states),
                "kinds": sorted(kinds),
                "issuing_bodies": sorted(set(req.issuing_bodies)),
                "promulgation": req.promulgation_date.model_dump(mode="json"),
                "effective": req.effective_date.model_dump(mode="json"),
                "valid_on": req.valid_on.isoformat() if req.valid_on else "",
                "uniform_number": req.uniform_number,
                "sort": sort.value,
            }
        )
        offset = paging.decode(req.page_token, fingerprint)
        size = rq.page_size(req.page_size)
        p_from, p_to = req.promulgation_date.bounds()
        e_from, e_to = req.effective_date.bounds()
        query = SearchQuery(
            text=req.query,
            states=states,
            kinds=kinds,
            issuing_bodies=frozenset(req.issuing_bodies),
            promulgation=DateRange(p_from, p_to),
            effective=DateRange(e_from, e_to),
            valid_on=req.valid_on,
            uniform_number=req.uniform_number,
            sort=sort,
            offset=offset,
            limit=size,
        )
        page = await self._s.search(query, remaining_s=context.time_remaining())
        facets = page.facets
        return spb.SearchDocumentsResponse(
            hits=[hit_pb(h) for h in page.hits],
            total=page.total,
            facets=spb.Facets(
                states=_facet(facets.get("states", ()), _state_name),
                kinds=_facet(facets.get("kinds", ()), _kind_name),
                issuing_bodies=_facet(facets.get("issuing_bodies", ())),
                years=_facet(facets.get("years", ())),
            ),
            next_page_token=paging.next_token(offset, size, page.total, fingerprint),
        )

    async def GetPublicDocument(
        self, request: spb.GetPublicDocumentRequest, context: grpc.aio.ServicerContext
    ) -> spb.PublicDocument:
        req = parse(
            rq.GetPublicDocument,
            name=request.name,
            uniform_number=request.uniform_number,
            valid_on=proto_dates.read(request, "valid_on", selects=True),
        )
        if req.name and req.uniform_number:
            raise InvalidArgument("uniform_number", "give either name or uniform_number, not both")
        if req.valid_on and not req.name:
            raise InvalidArgument("valid_on", "valid_on picks a version of a document: name the document")
        if req.uniform_number:
            chosen = await self._s.by_uniform_number(req.uniform_number)
        elif not req.name:
            raise InvalidArgument("name", "a document or version name (or a uniform_number) is required")
        elif _VERSION_NAME.match(req.name):
            if req.valid_on:
                raise InvalidArgument("valid_on", "valid_on picks a version of a document: name the document")
            chosen = await self._s.version(req.name)
        else:
            document = resource_id(req.name, "documents")
            try:
                chosen = await self._s.document(f"documents/{document}", req.valid_on)
            except NotFound:
                asked = proto_dates.as_sent(request, "valid_on")
                if asked is None or asked == req.valid_on:
                    raise
                # Said with the date asked, not the bound a date outside the stored range was brought to.
                raise NotFound(f"documents/{document} on {asked.isoformat()}") from None
        return public_document_pb(chosen, await self._s.public_versions(chosen.document))

    async def ListOpenConsultations(
        self, request: spb.ListOpenConsultationsRequest, context: grpc.aio.ServicerContext
    ) -> spb.ListOpenConsultationsResponse:
        req = parse(rq.ListOpenConsultations, page_size=request.page_size, page_token=request.page_token)
        # The day is part of the request: a token from yesterday's list does not page today's.
        fingerprint = paging.fingerprint({"consultations": self._s.today().isoformat()})
        offset = paging.decode(req.page_token, fingerprint)
        size = rq.page_size(req.page_size)
        found, total = await self._s.consultations(offset, size)
        consultations = [consultation_pb(v) for v in found]
        # Drafts open for comment carry their whole text: a page also ends before 4 MiB.
        kept = fits(consultations, lambda c: c.ByteSize())
        return spb.ListOpenConsultationsResponse(
            consultations=consultations[:kept],
            next_page_token=paging.next_token(offset, kept, total, fingerprint),
        )


def _date_range(value: spb.DateRange, path: str) -> dict[str, dt.date | None]:
    return {
        "from_date": proto_dates.read(value, "from_date", path=path, selects=True),
        "to_date": proto_dates.read(value, "to_date", path=path, selects=True),
    }


def register(servicer: SearchServicer) -> Callable[[grpc.aio.Server], str]:
    def add(server: grpc.aio.Server) -> str:
        sgrpc.add_SearchServiceServicer_to_server(servicer, server)
        return str(spb.DESCRIPTOR.services_by_name["SearchService"].full_name)

    return add
