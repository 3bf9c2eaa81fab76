"""How long one search may run: the service's budget (NORMREG_SEARCH_TIME_BUDGET_S), or what is left
of the caller's own deadline if that is sooner. Past it the index stops the search (SQLite inside
the statement, Elasticsearch by the request's `timeout`) and the caller is told to narrow it.

RESOURCE_EXHAUSTED, not DEADLINE_EXCEEDED: the search used up the time one search is given, which
is a limit of the service, like the anonymous callers' quota; DEADLINE_EXCEEDED is what a client
hears when its own deadline expires, retry policies resend it as it is, and the service's
observers count it as a failure of the service. The reason tells a client to change the query
rather than send it again.
"""

from __future__ import annotations

import time

from normreg_common.errors import NormregError

DEFAULT_BUDGET_S = 5.0


class SearchTooLong(NormregError):
    code = "RESOURCE_EXHAUSTED"
    reason = "SEARCH_TOO_LONG"

    def __init__(self) -> None:
        super().__init__(
            "the search took too long and was stopped; add words or filters (kind, issuing body, dates) "
            "to narrow it, then search again"
        )


def deadline(budget_s: float, remaining_s: float | None) -> float:
    """The time.monotonic() instant a search must end by: its budget, or the caller's deadline."""
    allowed = budget_s if remaining_s is None else min(budget_s, max(remaining_s, 0.0))
    return time.monotonic() + allowed
