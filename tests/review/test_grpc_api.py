"""The ReviewService through a real gRPC server on loopback: who may do what, codes and reasons, and
that a refused request changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from normreg.v1 import review_service_pb2 as pb
from normreg_cli.dates import text as iso
from normreg_common.clock import FakeClock
from normreg_common.settings import Settings
from normreg_review.bootstrap import ReviewApp

from tests.conftest import SHANGHAI
from tests.review.grpc_client import Caller, approve, status_details
from tests.review.support import ORG, OTHER_ORG, Registry, drafter, review_rows

NAME = "reviews/doc1-v1-r1"
Code = grpc.StatusCode


@pytest.fixture
async def channel(app: ReviewApp) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.port}") as ch:
        yield ch


@pytest.fixture
def caller(channel: grpc.aio.Channel, token: Callable[..., str]) -> Callable[..., Caller]:
    def make(subject: str = "", *roles: str, org: str = "") -> Caller:
        return Caller(channel, token(subject, *roles, org=org) if subject else None)

    return make


@pytest.fixture
async def submitted(app: ReviewApp, registry: Registry) -> None:
    """doc1 of ORG, drafted by alice, waiting for review."""
    await registry.submit("doc1")
    await app.sync()


async def refused(call: object) -> tuple[grpc.StatusCode, str, list[str]]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call  # type: ignore[misc]
    reason, fields = status_details(error.value)
    return error.value.code(), reason, fields


# ---- who may do what -------------------------------------------------------------------------------

IDENTITIES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "reviewer": ("rita", ("reviewer",), "司法局"),
    "admin": ("root", ("admin",), ""),
    "drafter of the document's organisation": ("dan", ("drafter",), ORG),
    "drafter of another organisation": ("olga", ("drafter",), OTHER_ORG),
    "secretary": ("sam", ("secretary",), "政府办"),
    "registrar": ("reg", ("registrar",), "政府办"),
    "evaluator": ("eve", ("evaluator",), "某大学"),
    "public": ("", (), ""),
}
OK = "OK"
# rpc -> identity -> outcome; for list, OK means it sees doc1's review and EMPTY that it sees none.
MATRIX: dict[str, dict[str, object]] = {
    "list": {
        "reviewer": OK,
        "admin": OK,
        "drafter of the document's organisation": OK,
        "drafter of another organisation": "EMPTY",
        "secretary": Code.PERMISSION_DENIED,
        "registrar": Code.PERMISSION_DENIED,
        "evaluator": Code.PERMISSION_DENIED,
        "public": Code.PERMISSION_DENIED,
    },
    "get": {
        "reviewer": OK,
        "admin": OK,
        "drafter of the document's organisation": OK,
        "drafter of another organisation": Code.NOT_FOUND,
        "secretary": Code.NOT_FOUND,
        "registrar": Code.NOT_FOUND,
        "evaluator": Code.NOT_FOUND,
        "public": Code.NOT_FOUND,
    },
    "claim": {
        "reviewer": OK,
        "admin": OK,
        "drafter of the document's organisation": Code.PERMISSION_DENIED,
        "drafter of another organisation": Code.NOT_FOUND,
        "secretary": Code.NOT_FOUND,
        "registrar": Code.NOT_FOUND,
        "evaluator": Code.NOT_FOUND,
        "public": Code.NOT_FOUND,
    },
}
MATRIX["decide"] = dict(MATRIX["claim"])


@pytest.mark.parametrize(
    ("rpc", "who", "expected"),
    [(rpc, who, expected) for rpc, row in MATRIX.items() for who, expected in row.items()],
)
@pytest.mark.usefixtures("submitted")
async def test_who_may_list_get_claim_and_decide_reviews(
    caller: Callable[..., Caller], settings: Settings, rpc: str, who: str, expected: object
) -> None:
    subject, roles, org = IDENTITIES[who]
    me = caller(subject, *roles, org=org)
    if rpc == "decide" and expected == OK:
        await me.claim(NAME)
    before = review_rows(settings.data_dir)
    calls = {
        "list": lambda name: me.list(),
        "get": me.get,
        "claim": me.claim,
        "decide": lambda name: me.decide(approve(name)),
    }
    if expected in (OK, "EMPTY"):
        result = await calls[rpc](NAME)
        if rpc == "list":
            assert isinstance(result, pb.ListReviewsResponse)
            assert [r.name for r in result.reviews] == ([NAME] if expected == OK else [])
        else:
            assert isinstance(result, pb.Review)
            assert result.name == NAME
    else:
        code, _, _ = await refused(calls[rpc](NAME))
        assert code == expected
        assert review_rows(settings.data_dir) == before
        if code == Code.NOT_FOUND:
            # Indistinguishable from a review that does not exist.
            assert (await refused(calls[rpc]("reviews/nothing-v1-r1")))[0] == Code.NOT_FOUND


@pytest.mark.usefixtures("submitted")
async def test_a_drafter_lists_only_its_own_organisations_reviews(
    app: ReviewApp, registry: Registry, caller: Callable[..., Caller]
) -> None:
    await registry.submit("doc2", author=drafter("otto", OTHER_ORG))
    await app.sync()
    own = await caller("dan", "drafter", org=ORG).list()
    other = await caller("olga", "drafter", org=OTHER_ORG).list()
    everyone = await caller("rita", "reviewer").list()
    assert [r.name for r in own.reviews] == [NAME]
    assert [r.name for r in other.reviews] == ["reviews/doc2-v1-r1"]
    assert [r.name for r in everyone.reviews] == [NAME, "reviews/doc2-v1-r1"]


@pytest.mark.usefixtures("submitted")
async def test_the_drafter_of_a_version_cannot_claim_or_decide_its_review(
    caller: Callable[..., Caller], settings: Settings
) -> None:
    # alice drafted doc1 and also holds the reviewer role (or is an admin): she still may not review it.
    for roles in (("reviewer",), ("reviewer", "drafter"), ("admin",)):
        alice = caller("alice", *roles, org=ORG)
        before = review_rows(settings.data_dir)
        assert await refused(alice.claim(NAME)) == (Code.PERMISSION_DENIED, "REVIEWER_IS_DRAFTER", [])
        assert await refused(alice.decide(approve(NAME))) == (Code.PERMISSION_DENIED, "REVIEWER_IS_DRAFTER", [])
        assert review_rows(settings.data_dir) == before
    await caller("rita", "reviewer").claim(NAME)
    alice = caller("alice", "reviewer", org=ORG)
    assert await refused(alice.decide(approve(NAME))) == (Code.PERMISSION_DENIED, "REVIEWER_IS_DRAFTER", [])


# ---- the review's lifecycle through the API ----------------------------------------------------------


@pytest.mark.usefixtures("submitted")
async def test_a_reviewer_claims_and_decides_a_review(caller: Callable[..., Caller], clock: FakeClock) -> None:
    rita = caller("rita", "reviewer")
    opened = await rita.get(NAME)
    assert (opened.state, opened.etag, iso(opened.due_date), opened.overdue) == (
        pb.REVIEW_STATE_OPEN,
        "s1",
        "2026-03-23",
        False,
    )
    assert opened.create_time.ToDatetime(dt.UTC) == clock.now()
    claimed = await rita.claim(NAME)
    assert (claimed.state, claimed.assignee, claimed.etag) == (pb.REVIEW_STATE_CLAIMED, "rita", "s2")
    clock.advance(days=2)
    decided = await rita.decide(
        pb.DecideReviewRequest(
            name=NAME,
            decision=pb.REVIEW_DECISION_RETURN_FOR_REVISION,
            opinion="第三条设定行政许可，超越规范性文件权限。",
            problems=["设定行政许可", "缺少听证程序"],
            etag="s2",
        )
    )
    assert decided.state == pb.REVIEW_STATE_DECIDED
    assert decided.decision == pb.REVIEW_DECISION_RETURN_FOR_REVISION
    assert list(decided.problems) == ["设定行政许可", "缺少听证程序"]
    assert decided.decide_time.ToDatetime(dt.UTC) == clock.now()
    assert decided.etag == "s3"


@pytest.mark.usefixtures("submitted")
async def test_deciding_needs_the_claim_of_the_caller_and_happens_once(caller: Callable[..., Caller]) -> None:
    rita, ray = caller("rita", "reviewer"), caller("ray", "reviewer")
    assert await refused(rita.decide(approve(NAME))) == (Code.FAILED_PRECONDITION, "REVIEW_NOT_CLAIMED", [])
    await rita.claim(NAME)
    assert await refused(ray.claim(NAME)) == (Code.FAILED_PRECONDITION, "REVIEW_CLAIMED_BY_OTHER", [])
    assert await refused(ray.decide(approve(NAME))) == (Code.FAILED_PRECONDITION, "REVIEW_CLAIMED_BY_OTHER", [])
    await rita.decide(approve(NAME))
    assert await refused(rita.decide(approve(NAME))) == (Code.FAILED_PRECONDITION, "REVIEW_ALREADY_DECIDED", [])


async def test_a_withdrawn_drafts_review_is_cancelled_and_refuses_action(
    app: ReviewApp, registry: Registry, caller: Callable[..., Caller]
) -> None:
    doc = await registry.submit("doc1")
    await app.sync()
    rita = caller("rita", "reviewer")
    await rita.claim(NAME)
    await registry.withdraw(doc)
    await app.sync()
    assert (await rita.get(NAME)).state == pb.REVIEW_STATE_CANCELLED
    assert await refused(rita.decide(approve(NAME))) == (Code.FAILED_PRECONDITION, "REVIEW_CANCELLED", [])
    assert await refused(caller("ray", "reviewer").claim(NAME)) == (
        Code.FAILED_PRECONDITION,
        "REVIEW_CANCELLED",
        [],
    )


@pytest.mark.usefixtures("submitted")
async def test_a_stale_etag_is_aborted_and_changes_nothing(caller: Callable[..., Caller], settings: Settings) -> None:
    rita = caller("rita", "reviewer")
    read = await rita.get(NAME)
    await rita.claim(NAME)
    before = review_rows(settings.data_dir)
    code, reason, _ = await refused(rita.decide(approve(NAME, etag=read.etag)))
    assert (code, reason) == (Code.ABORTED, "ETAG_MISMATCH")
    assert review_rows(settings.data_dir) == before


# ---- bad input ---------------------------------------------------------------------------------------

BAD_DECISIONS: list[tuple[str, dict[str, object], str]] = [
    ("a name of another collection", {"name": "documents/doc1"}, "name"),
    ("a name with capitals", {"name": "reviews/Doc1-v1-r1"}, "name"),
    ("an overlong name", {"name": "reviews/" + "a" * 200}, "name"),
    ("no decision", {"decision": pb.REVIEW_DECISION_UNSPECIFIED}, "decision"),
    ("an unknown decision", {"decision": 42}, "decision"),
    ("a control character in the opinion", {"opinion": "合法\x00"}, "opinion"),
    ("an overlong opinion", {"opinion": "法" * 20_001}, "opinion"),
    ("too many problems", {"problems": ["问题"] * 101}, "problems"),
    ("a blank problem", {"problems": ["越权", "  "]}, "problems.1"),
    ("a control character in a problem", {"problems": ["越权\x07"]}, "problems.0"),
    ("an overlong etag", {"etag": "s" * 100}, "etag"),
    (
        "a rejection without an opinion",
        {"decision": pb.REVIEW_DECISION_REJECT, "opinion": " "},
        "opinion",
    ),
]


@pytest.mark.parametrize(("bad", "fields", "field"), BAD_DECISIONS, ids=[b[0] for b in BAD_DECISIONS])
@pytest.mark.usefixtures("submitted")
async def test_a_bad_decision_is_invalid_argument_naming_the_field_and_changes_nothing(
    caller: Callable[..., Caller], settings: Settings, bad: str, fields: dict[str, object], field: str
) -> None:
    rita = caller("rita", "reviewer")
    await rita.claim(NAME)
    before = review_rows(settings.data_dir)
    code, reason, violations = await refused(rita.decide(approve(NAME, **fields)))
    assert (code, reason, violations) == (Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", [field])
    assert review_rows(settings.data_dir) == before


BAD_LISTS: list[tuple[str, dict[str, object], str]] = [
    ("a negative page size", {"page_size": -1}, "page_size"),
    ("a made-up page token", {"page_token": "not-a-token"}, "page_token"),
    ("an overlong page token", {"page_token": "a" * 600}, "page_token"),
    ("an unknown state", {"state": 42}, "state"),
    ("a line break in the office", {"reviewing_office": "司法\n局"}, "reviewing_office"),
]


@pytest.mark.parametrize(("bad", "fields", "field"), BAD_LISTS, ids=[b[0] for b in BAD_LISTS])
async def test_a_bad_listing_is_invalid_argument_naming_the_field(
    caller: Callable[..., Caller], bad: str, fields: dict[str, object], field: str
) -> None:
    code, _, violations = await refused(caller("rita", "reviewer").list(**fields))
    assert (code, violations) == (Code.INVALID_ARGUMENT, [field])


async def test_a_bad_name_is_invalid_argument_for_get_and_claim(caller: Callable[..., Caller]) -> None:
    rita = caller("rita", "reviewer")
    assert (await refused(rita.get("")))[::2] == (Code.INVALID_ARGUMENT, ["name"])
    assert (await refused(rita.claim("reviews/a/b")))[::2] == (Code.INVALID_ARGUMENT, ["name"])


async def test_an_invalid_token_is_unauthenticated(channel: grpc.aio.Channel) -> None:
    code, reason, _ = await refused(Caller(channel, "not-a-jwt").list())
    assert (code, reason) == (Code.UNAUTHENTICATED, "INVALID_TOKEN")


# ---- listing -----------------------------------------------------------------------------------------


async def test_listing_pages_through_reviews_with_an_opaque_token(
    app: ReviewApp, registry: Registry, caller: Callable[..., Caller]
) -> None:
    for i in range(5):
        await registry.submit(f"doc{i}")
    await app.sync()
    rita = caller("rita", "reviewer")
    names, token, pages = [], "", 0
    while True:
        page = await rita.list(page_size=2, page_token=token)
        names += [r.name for r in page.reviews]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert names == [f"reviews/doc{i}-v1-r1" for i in range(5)]
    assert pages == 3
    first = await rita.list(page_size=2)
    code, _, fields = await refused(rita.list(page_size=2, page_token=first.next_page_token, overdue_only=True))
    assert (code, fields) == (Code.INVALID_ARGUMENT, ["page_token"])
    assert len((await rita.list(page_size=10_000)).reviews) == 5


async def test_listing_filters_by_state_office_and_overdue(
    app: ReviewApp, registry: Registry, caller: Callable[..., Caller], clock: FakeClock
) -> None:
    await registry.submit("doc1")
    clock.advance(days=7)
    await registry.submit("doc2")
    await app.sync()
    rita = caller("rita", "reviewer")
    await rita.claim("reviews/doc2-v1-r1")

    async def names(**fields: object) -> list[str]:
        return [r.name for r in (await rita.list(**fields)).reviews]

    assert await names(state=pb.REVIEW_STATE_CLAIMED) == ["reviews/doc2-v1-r1"]
    assert await names(state=pb.REVIEW_STATE_OPEN) == [NAME]
    assert await names(reviewing_office="司法局") == [NAME, "reviews/doc2-v1-r1"]
    assert await names(reviewing_office="市政府法制办") == []
    assert await names(overdue_only=True) == []
    # doc1 was due on Monday 23 March, doc2 on Monday 30 March.
    clock.set(dt.datetime(2026, 3, 24, 8, 0, tzinfo=SHANGHAI))
    assert await names(overdue_only=True) == [NAME]
    assert (await rita.get(NAME)).overdue
    assert not (await rita.get("reviews/doc2-v1-r1")).overdue
    clock.set(dt.datetime(2026, 3, 31, 8, 0, tzinfo=SHANGHAI))
    assert await names(overdue_only=True, state=pb.REVIEW_STATE_CLAIMED) == ["reviews/doc2-v1-r1"]


async def test_the_server_reports_itself_serving(channel: grpc.aio.Channel) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    response = await health.Check(health_pb2.HealthCheckRequest(service="normreg.v1.ReviewService"), timeout=5)
    assert response.status == health_pb2.HealthCheckResponse.SERVING
