"""Errors with a stable reason, raised by domain and use cases, mapped to gRPC once at the edge.

Standard library only: the pure domains import this module.
"""

from __future__ import annotations


class NormregError(Exception):
    """Base class. `reason` is a stable UPPER_SNAKE identifier clients can switch on."""

    code = "INTERNAL"
    reason = "INTERNAL"

    def __init__(self, message: str, *, reason: str | None = None, **metadata: str) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason
        self.metadata = metadata


class InvalidArgument(NormregError):
    code = "INVALID_ARGUMENT"
    reason = "INVALID_ARGUMENT"

    def __init__(self, field: str, description: str) -> None:
        super().__init__(f"{field}: {description}", field=field)
        self.field = field
        self.description = description


class FailedPrecondition(NormregError):
    """A rule of the law or of the lifecycle forbids the step."""

    code = "FAILED_PRECONDITION"

    def __init__(self, reason: str, message: str, **metadata: str) -> None:
        super().__init__(message, reason=reason, **metadata)


class NotFound(NormregError):
    code = "NOT_FOUND"
    reason = "NOT_FOUND"

    def __init__(self, resource: str, why: str = "") -> None:
        super().__init__(f"{resource} not found" + (f": {why}" if why else ""), resource=resource)
        self.resource = resource


class AlreadyExists(NormregError):
    code = "ALREADY_EXISTS"
    reason = "ALREADY_EXISTS"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)


class PermissionDenied(NormregError):
    code = "PERMISSION_DENIED"
    reason = "PERMISSION_DENIED"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)


class Unauthenticated(NormregError):
    code = "UNAUTHENTICATED"
    reason = "INVALID_TOKEN"


class Aborted(NormregError):
    """Optimistic concurrency: the caller's etag is stale."""

    code = "ABORTED"
    reason = "ETAG_MISMATCH"

    def __init__(self, message: str = "the resource changed since it was read; read it again") -> None:
        super().__init__(message)


class Unavailable(NormregError):
    """Something the call depends on is unreachable; the same call may succeed later."""

    code = "UNAVAILABLE"
    reason = "UNAVAILABLE"
