"""DeadLetterService over gRPC, the same in every service that consumes events: list what its
consumer set aside, retry one. Administrators only."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import grpc
from google.protobuf import timestamp_pb2
from normreg.v1 import dead_letter_service_pb2 as pb
from normreg.v1 import dead_letter_service_pb2_grpc as pb_grpc

from normreg_common.consuming import Consuming
from normreg_common.deadletters import DeadLetter
from normreg_common.errors import InvalidArgument, NotFound, PermissionDenied, Unavailable
from normreg_common.grpc_server import current_principal
from normreg_common.paging import OFFSET_MAX, IntCursor, PageTokens, page_size
from normreg_common.principal import Role

_NAME = re.compile(r"^deadLetters/([A-Za-z0-9._-]{1,249}):([0-9]{1,9}):([0-9]{1,18})\Z")
PAGES: PageTokens[int] = PageTokens("deadletters", IntCursor(maximum=OFFSET_MAX))


def _time(text: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(dt.datetime.fromisoformat(text).astimezone(dt.UTC))
    return stamp


def letter_pb(letter: DeadLetter, group: str) -> pb.DeadLetter:
    return pb.DeadLetter(
        name=letter.name,
        consumer=group,
        topic=letter.topic,
        partition=letter.partition,
        offset=letter.offset,
        key=letter.key,
        value=letter.value,
        stage=letter.stage,
        error=letter.error,
        first_time=_time(letter.first_time),
        last_time=_time(letter.last_time),
        attempts=letter.attempts,
    )


def _admin() -> None:
    if Role.ADMIN not in current_principal().roles:
        raise PermissionDenied("ROLE_NOT_ALLOWED", "dead letters are for the role admin")


class DeadLetterServicer(pb_grpc.DeadLetterServiceServicer):
    """The dead letters of a service's consumers: one (most services), or several whose records name
    their streams apart (the filing service's, one per subordinate: their topics carry the prefix)."""

    def __init__(self, *consumers: Consuming[Any]) -> None:
        # None at all is a filing service with no peer yet: it lists nothing, retries nothing.
        self._consumers = list(consumers)

    async def ListDeadLetters(
        self, request: pb.ListDeadLettersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDeadLettersResponse:
        _admin()
        size = page_size(request.page_size, default=50, maximum=200)
        skip = PAGES.decode(request.page_token, {}) or 0
        # Consumer after consumer, each in its own order (a page may span two of them); no more than
        # the page's end is read of any.
        every: list[pb.DeadLetter] = []
        for c in self._consumers:
            store = c.dead_letters
            every.extend(letter_pb(x, store.group) for x in await store.list(skip + size + 1 - len(every)))
            if len(every) > skip + size:
                break
        page = every[skip:]
        more = len(page) > size
        return pb.ListDeadLettersResponse(
            dead_letters=page[:size],
            next_page_token=PAGES.encode(skip + size, {}) if more else "",
        )

    async def RetryDeadLetter(
        self, request: pb.RetryDeadLetterRequest, context: grpc.aio.ServicerContext
    ) -> pb.RetryDeadLetterResponse:
        _admin()
        match = _NAME.match(request.name)
        if match is None:
            raise InvalidArgument(
                "name", f"expected deadLetters/{{topic}}:{{partition}}:{{offset}}, got {request.name!r}"
            )
        topic, partition, offset = match[1], int(match[2]), int(match[3])
        for consumer in self._consumers:
            store = consumer.dead_letters
            letter = await store.get(topic, partition, offset)
            if letter is not None:
                break
        else:
            raise NotFound(request.name)
        try:
            error = await consumer.retry(letter)
        except Exception as exc:  # only the infrastructure's failures come out of retry
            raise Unavailable(f"retrying {request.name} needs the service's storage: {type(exc).__name__}") from exc
        if not error:
            return pb.RetryDeadLetterResponse(applied=True)
        kept = await store.get(topic, partition, offset)
        return pb.RetryDeadLetterResponse(applied=False, dead_letter=letter_pb(kept or letter, store.group))


def register(servicer: DeadLetterServicer) -> Callable[[grpc.aio.Server], str]:
    def add(server: grpc.aio.Server) -> str:
        pb_grpc.add_DeadLetterServiceServicer_to_server(servicer, server)
        return str(pb.DESCRIPTOR.services_by_name["DeadLetterService"].full_name)

    return add
