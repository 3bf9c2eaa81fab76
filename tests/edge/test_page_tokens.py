"""Page tokens are typed and bound to their list and query: whatever a caller forges is
INVALID_ARGUMENT on page_token, never an error further down."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from normreg.v1 import document_pb2 as pb
from normreg.v1 import registry_service_pb2 as rpb
from normreg.v1 import review_service_pb2 as vpb
from normreg_common.clock import FakeClock
from normreg_common.errors import InvalidArgument
from normreg_common.paging import IdCursor, IntCursor, PageTokens, fingerprint

from tests.harness import System, field_violations

INTS: PageTokens[int] = PageTokens("t.ints", IntCursor(maximum=10**6))
IDS: PageTokens[str] = PageTokens("t.ids", IdCursor())


def forge(payload: Any) -> str:
    return "t1." + base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(payload=_JSON, raw=st.text(max_size=80))
def test_a_forged_token_is_invalid_argument_on_page_token_and_nothing_else(payload: Any, raw: str) -> None:
    for tokens in (INTS, IDS):
        for token in (forge(payload), raw, "t1." + raw):
            if not token:
                continue
            try:
                position = tokens.decode(token, {"q": 1})
            except InvalidArgument as refused:
                assert refused.field == "page_token"
            else:  # only a well-formed token of this list and query decodes, to a cursor of its type
                assert isinstance(position, int if tokens is INTS else str)


@pytest.mark.parametrize("position", [10**30, 2**63, -1, "12", True, 1.5, None, "９"])
def test_an_integer_cursor_outside_its_type_or_range_is_refused(position: object) -> None:
    with pytest.raises(InvalidArgument):
        INTS.decode(forge({"k": "t.ints", "p": position, "q": fingerprint({})}), {})


def test_a_token_pages_only_the_list_and_the_query_it_was_issued_for() -> None:
    token = INTS.encode(7, {"state": "OPEN"})
    assert INTS.decode(token, {"state": "OPEN"}) == 7
    with pytest.raises(InvalidArgument, match="query changed"):
        INTS.decode(token, {"state": "CLOSED"})
    with pytest.raises(InvalidArgument):
        PageTokens("t.other", IntCursor()).decode(token, {"state": "OPEN"})
    with pytest.raises(InvalidArgument):
        IDS.decode(IDS.encode("abc", {}).replace("t1.", "t1.x"), {})


@pytest.fixture
async def system(tmp_path: Path, clock: FakeClock) -> AsyncIterator[System]:
    s = System(tmp_path, clock, services=("registry", "review"))
    await s.start()
    yield s
    await s.stop()


def _legacy(cursor: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{cursor}".encode()).decode()


async def test_forged_page_tokens_of_the_audit_are_invalid_argument(system: System) -> None:
    drafter = system.stub("registry", system.token("alice", "drafter", org="市城管局"))
    doc = await drafter.CreateDocument(
        rpb.CreateDocumentRequest(
            kind=pb.DOCUMENT_KIND_NORMATIVE_DOCUMENT,
            title="赤峰市共享单车停放管理办法",
            body="第一条 为了规范管理，制定本办法。",
            issuing_body="赤峰市人民政府",
            number_prefix="赤政规",
        )
    )
    reviewer = system.stub("review", system.token("rita", "reviewer", org="司法局"))
    listed = await drafter.ListDocuments(rpb.ListDocumentsRequest(page_size=1))
    forged_comments = [
        _legacy("9" * 30),
        _legacy("é"),
        forge({"k": "registry.comments", "p": 10**30, "q": ""}),
        forge({"k": "registry.comments", "p": "9" * 30, "q": ""}),
    ]
    for token in forged_comments:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await drafter.ListComments(rpb.ListCommentsRequest(name=doc.name, page_token=token))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, token
        assert field_violations(caught.value) == ["page_token"]
    forged_reviews = [
        base64.urlsafe_b64encode(json.dumps({"after": 2**63, "filters": ""}).encode()).decode(),
        forge({"k": "review.reviews", "p": 2**63, "q": ""}),
    ]
    for token in forged_reviews:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await reviewer.ListReviews(vpb.ListReviewsRequest(page_token=token))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(caught.value) == ["page_token"]
    # A token of one list does not page another.
    document_token = listed.next_page_token or forge({"k": "registry.documents", "p": doc.name.split("/")[1], "q": ""})
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await drafter.ListComments(rpb.ListCommentsRequest(name=doc.name, page_token=document_token))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
