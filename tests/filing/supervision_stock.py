"""A generated stock of what a recipient holds (promulgations seen, filings in every state, review
suggestions, in any order of arrival) and the check that the paged missed filings and the counted
reports answer exactly what the whole-list folds of domain.supervision answer over the same store."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import strategies as st
from normreg_common.clock import FakeClock
from normreg_filing.application.ports import UnitOfWork
from normreg_filing.application.service import FilingReviewService
from normreg_filing.domain.lifecycle import FilingState, Outcome
from normreg_filing.domain.received import ReceivedFiling
from normreg_filing.domain.suggestions import ReviewSuggestion
from normreg_filing.domain.supervision import SeenPromulgation, missing_filings, subordinate_report

from tests.filing.test_filing_review_domain import ALL, PROVINCE, REVIEWER, at

# Names that sort differently by bytes and by a language's collation, and versions past 9.
SENDERS = ("chifeng", "wuhai", "赤峰市", "Baotou")
RECIPIENTS = ("内蒙古自治区人民政府", "内蒙古自治区人大常委会", "国务院")
# Days from a Monday in March 2026: two years, and deadlines, filings and today close enough together
# that a filing on its deadline day and a deadline of today come up often.
DAYS = st.integers(min_value=-70, max_value=10)
_examples = itertools.count()


@dataclass(frozen=True)
class Sighting:
    sender: int
    document: int
    recipient: int
    promulgated: int
    due_in: int


@dataclass(frozen=True)
class Arrival:
    sender: int
    document: int
    recipient: int
    promulgated: int
    due_in: int
    filed_in: int
    complete: bool
    outcome: Outcome | None
    # The reviewers asked for a material again, however complete the filing arrived (not conforming).
    asked: bool = False


@dataclass(frozen=True)
class Suggestion:
    sender: int
    submitted: int
    answered_in: int | None


_key = {
    "sender": st.integers(0, len(SENDERS) - 1),
    "document": st.integers(0, 11),
    "recipient": st.integers(0, len(RECIPIENTS) - 1),
    "promulgated": DAYS,
    "due_in": st.integers(0, 5),
}
sighting = st.builds(Sighting, **_key)
arrival = st.builds(
    Arrival,
    **_key,
    filed_in=st.integers(0, 8),
    complete=st.booleans(),
    outcome=st.none() | st.sampled_from(Outcome),
    asked=st.booleans(),
)
suggestion = st.builds(
    Suggestion,
    sender=_key["sender"],
    submitted=DAYS,
    # Around the reply deadline, and well within it.
    answered_in=st.none() | st.sampled_from([0, *(PROVINCE.suggestion_reply_days + d for d in (-1, 0, 1))]),
)
stocks = st.lists(st.one_of(sighting, arrival, suggestion), max_size=40)


def _document(example: int, i: int) -> str:
    return f"documents/e{example}d{i % 4}/versions/{1 + i * 3}"


def _day(days: int) -> dt.date:
    return at(days).date()


async def store(uow: UnitOfWork, stock: list[Sighting | Arrival | Suggestion]) -> None:
    """Writes the stock in its order (a filing may arrive before its promulgation is seen). Each call
    names its documents afresh, so one store can take several stocks."""
    example = next(_examples)
    filed: set[tuple[str, str, str]] = set()
    for n, item in enumerate(stock):
        if isinstance(item, Sighting):
            p = SeenPromulgation(
                sender=SENDERS[item.sender],
                document=_document(example, item.document),
                title="某办法",
                issuing_body=f"{SENDERS[item.sender]}人民政府",
                kind="NORMATIVE_DOCUMENT",
                uniform_number="",
                promulgation_date=_day(item.promulgated),
                due_date=_day(item.promulgated + item.due_in),
                recipient=RECIPIENTS[item.recipient],
            )
            await uow.write(lambda r, p=p: r.see(p))
        elif isinstance(item, Arrival):
            key = (SENDERS[item.sender], _document(example, item.document), RECIPIENTS[item.recipient])
            if key in filed:
                continue
            filed.add(key)
            f = _filing(f"e{example}f{n}", key, item)
            await uow.write(lambda r, f=f: r.save_filing(f))
        else:
            s = ReviewSuggestion.submit(
                id=f"e{example}s{n}",
                document="documents/a1",
                sender=SENDERS[item.sender],
                provisions=["第三条"],
                reasons="与上位法抵触",
                contact="13800000000",
                requester_kind="citizen",
                at=at(item.submitted),
                profile=PROVINCE,
            )
            if item.answered_in is not None:
                s.answer(REVIEWER, at(item.submitted + item.answered_in), PROVINCE, "已研究")
            await uow.write(lambda r, s=s: r.save_suggestion(s))


def _filing(id: str, key: tuple[str, str, str], a: Arrival) -> ReceivedFiling:
    sender, document, recipient = key
    f = ReceivedFiling.receive(
        id=id,
        sender=sender,
        issuing_body=f"{sender}人民政府",
        document=document,
        title="某办法",
        kind="NORMATIVE_DOCUMENT",
        uniform_number="",
        promulgation_date=_day(a.promulgated),
        due_date=_day(a.promulgated + a.due_in),
        filed_date=_day(a.promulgated + a.filed_in),
        recipient=recipient,
        materials=ALL if a.complete else {**ALL, "legal_basis": False},
        at=at(a.promulgated + a.filed_in),
    )
    if a.asked:
        f.register(REVIEWER, at(a.promulgated + a.filed_in + 1), PROVINCE, missing=["legality_review_opinion"], note="")
    elif a.outcome is not None:
        later = at(a.promulgated + a.filed_in + 1)
        f.register(REVIEWER, later, PROVINCE, missing=[], note="")
        if f.state == FilingState.REGISTERED:
            f.decide(REVIEWER, later, PROVINCE, outcome=a.outcome, reasons="理由", provisions=["第一条"], note="")
    return f


async def check_against_whole_lists(uow: UnitOfWork, today: int, size: int) -> None:
    """Every listing of missed filings (by sender, before/after the deadline, paged by `size`) and
    every report (each sender, each year of the stock) equals the old answer over whole lists."""
    clock = FakeClock(at(today))
    service = FilingReviewService(uow, clock, PROVINCE, key=Ed25519PrivateKey.generate())
    seen, filings, suggestions = await uow.read(lambda r: (r.seen(), r.filings(), r.suggestions()))
    for sender in ("", *SENDERS):
        whole = missing_filings(
            [p for p in seen if not sender or p.sender == sender],
            [f for f in filings if not sender or f.sender == sender],
            service.today(),
        )
        for overdue in (None, True, False):
            listed = [m for m in whole if overdue is None or m.overdue == overdue]
            paged, after, more = [], 0, True
            while more:
                page, more = await service.missing_page(REVIEWER, sender, overdue, after=after, size=size)
                assert len(page) <= size
                assert page or not more
                paged += [m for _, m in page]
                after = page[-1][0] if page else after
            assert paged == listed, (sender, overdue)
            assert await service.missing(REVIEWER, sender, overdue) == listed
    known = await service.jurisdictions()
    for year in (2025, 2026):
        expected = {sender: subordinate_report(sender, year, seen, filings, suggestions) for sender in known}
        assert {r.sender: r for r in await service.reports(REVIEWER, year)} == expected
        for sender in set(SENDERS) & set(known):
            assert await service.report(REVIEWER, sender, year) == expected[sender]
