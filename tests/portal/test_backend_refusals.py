"""What a reader is shown when a backend refuses: the reason decides where the code alone would
mislead (a search stopped at its time budget is not a reader submitting too often)."""

from __future__ import annotations

import grpc
from grpc_status import rpc_status
from normreg_common.errors import NormregError
from normreg_common.grpc_server import Busy, to_status
from normreg_portal.errors import TooMany, TooSlow
from normreg_portal.gateway import portal_error
from normreg_search.budget import SearchTooLong


def refused(error: NormregError) -> grpc.aio.AioRpcError:
    """The error as a client receives it from a normreg service."""
    status = rpc_status.to_status(to_status(error, "normreg.search"))
    return grpc.aio.AioRpcError(
        status.code, grpc.aio.Metadata(), grpc.aio.Metadata(*status.trailing_metadata), status.details
    )


def test_a_search_stopped_at_its_time_budget_tells_the_reader_to_narrow_it() -> None:
    shown = portal_error(refused(SearchTooLong()))
    assert isinstance(shown, TooSlow)
    assert shown.status == 504
    assert "增加关键词" in shown.message


def test_too_many_anonymous_requests_still_asks_the_reader_to_come_back() -> None:
    assert isinstance(portal_error(refused(Busy())), TooMany)
    bare = grpc.aio.AioRpcError(grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.aio.Metadata(), grpc.aio.Metadata(), "busy")
    assert isinstance(portal_error(bare), TooMany)
