"""How long one search may run: the service's budget (NORMREG_SEARCH_TIME_BUDGET_S), or what is left
of the caller's own deadline if that is sooner. Past it the index stops the search (SQLite inside
the statement, Elasticsearch by the request's `timeout`) and the caller is told to narrow it.

RESOURCE_EXHAUSTED, not DEADLINE_EXCEEDED: the search used up the time one search is given, which
is a limit of the service, like the anonymous callers' quota; DEADLINE_EXCEEDED is what a client
hears when its own deadline expires, retry policies resend it as it is, and the service's
observers count it as a failure of the service. The reason tells a client to change the query
rather than send it again.

The second search of a query that found nothing (PublicSearch: any of its words instead of most) runs
in what the first left of the same budget; past it, the answer to the query as read, nothing, is
given. The budget counts the searches' running, not their wait for a turn: a query gets the same
answer from a busy service as from an idle one.
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


# A search stopped at the caller's deadline is stopped this much before it (at most a tenth of what
# is left), so that the refusal, which says why, reaches the caller before its own expiry, which
# says nothing: the portal gives up at 5 s, as long as the default budget.
ANSWER_MARGIN_S = 0.25


def deadline(remaining_s: float | None) -> float | None:
    """The time.monotonic() instant a search must end by for its caller (whose deadline is
    `remaining_s` from now), or None for a caller without one. The budget is another bound: of the
    search's own running time, counted by the index from when it starts (time spent waiting behind
    other searches is the caller's deadline's business, not the search's)."""
    if remaining_s is None:
        return None
    return time.monotonic() + max(0.0, remaining_s - min(ANSWER_MARGIN_S, remaining_s / 10))
