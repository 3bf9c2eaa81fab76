"""Idempotent requests: a retried request gets the first one's result, and nothing else does.

A request id is remembered under (caller, method, request id), so the same id from another caller
or for another method is another request, and with a hash of the request, so the same id with a
different body is refused (INVALID_ARGUMENT on request_id, reason REQUEST_ID_REUSED) instead of
silently answering the first. Callers authorise before they look a request id up: a replay gives
nobody a result they could not have obtained. Standard library only.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from normreg_common.errors import InvalidArgument
from normreg_common.events import canonical_json
from normreg_common.principal import Principal

_SEPARATOR = "#"


class Memory(Protocol):
    def remembered(self, scope: str, request_id: str) -> str | None: ...

    def remember(self, scope: str, request_id: str, resource: str) -> None: ...


def caller_of(principal: Principal) -> str:
    """Who asked: the subject within its organisation (the same subject elsewhere is someone else)."""
    return f"{principal.subject}@{principal.org}"


def request_hash(**fields: object) -> str:
    return hashlib.sha256(canonical_json(fields).encode()).hexdigest()[:32]


def fields_of(value: object) -> Any:
    """What `dataclasses.asdict` makes of a value, as far as its JSON goes (dataclasses as dicts of
    their fields, recursively; sequences as lists), so a request hashes as it always did; without
    asdict's deep copy of every field, which was a third of an import's request hash."""
    names = _FIELD_NAMES.get(type(value))
    if names is None and dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in dataclasses.fields(value))
    if names is not None:
        return {name: fields_of(getattr(value, name)) for name in names}
    if isinstance(value, list | tuple):
        return [fields_of(item) for item in value]
    if isinstance(value, dict):
        return {key: fields_of(item) for key, item in value.items()}
    return value


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Request:
    caller: str
    method: str
    request_id: str
    hash: str

    @property
    def scope(self) -> str:
        return f"{self.method}:{self.caller}"

    def replayed(self, memory: Memory) -> str | None:
        """The resource the first request with this id made, or None when it is new."""
        if not self.request_id:
            return None
        stored = memory.remembered(self.scope, self.request_id)
        if stored is None:
            return None
        resource, _, first_hash = stored.partition(_SEPARATOR)
        if first_hash != self.hash:
            error = InvalidArgument(
                "request_id", f"{self.request_id!r} was used for a different {self.method} request; use a new id"
            )
            error.reason = "REQUEST_ID_REUSED"
            raise error
        return resource

    def remember(self, memory: Memory, resource: str) -> None:
        if self.request_id:
            memory.remember(self.scope, self.request_id, f"{resource}{_SEPARATOR}{self.hash}")
