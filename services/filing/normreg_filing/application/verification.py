"""Does what the senders were told agree with what the recipient holds?

The filing service keeps no hash-chained history of its own; what it has told each sender is its
outbox, and that is what can drift from its records unnoticed. So: every received filing's published
events are numbered 1..n without gaps (n = the filing's `published_sequence`), each is signed by this
jurisdiction with one of its keys, and replaying them gives the state the filing is in; no event
speaks of a filing the service does not hold; the events the log has not acknowledged yet are
counted (after a settled run, none)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from normreg_common.events import CloudEvent
from normreg_common.federation import Untrusted, verify
from pydantic import ValidationError

from normreg_filing.application.events import EVENT_TYPE_PREFIX
from normreg_filing.application.ports import OutboxEntry
from normreg_filing.domain.lifecycle import Action, FilingState
from normreg_filing.domain.received import ReceivedFiling

# The state each told step leaves a filing in; before any, it is RECEIVED (its arrival is not told).
AFTER: dict[str, FilingState] = {
    Action.REGISTER.value: FilingState.REGISTERED,
    Action.REQUEST_MATERIALS.value: FilingState.MATERIALS_REQUESTED,
    Action.COMPLETE_MATERIALS.value: FilingState.REGISTERED,
    Action.REQUIRE_CORRECTION.value: FilingState.CORRECTION_REQUIRED,
    Action.ANSWER_CORRECTION.value: FilingState.REGISTERED,
    Action.ACCEPT.value: FilingState.ACCEPTED,
    Action.REVOKE.value: FilingState.REVOKED,
}


@dataclass(frozen=True)
class Problem:
    filing: str
    problem: str


@dataclass
class Verification:
    filings_checked: int = 0
    events_checked: int = 0
    events_unsent: int = 0
    problems: list[Problem] = field(default_factory=list)


class Comparison:
    """Fed the outbox and then the filings a page at a time: of each event it keeps the number and
    the step it told, not the event, so a whole archive is checked in little more memory than its
    filings' names take."""

    def __init__(self, jurisdiction: str, keys: Iterable[str]) -> None:
        self._jurisdiction = jurisdiction
        self._keys = list(keys)
        self._told: dict[str, list[tuple[int, str]]] = {}
        self.result = Verification()

    def told(self, outbox: Iterable[OutboxEntry]) -> None:
        result = self.result
        for entry in outbox:
            result.events_checked += 1
            result.events_unsent += not entry.sent
            try:
                event = CloudEvent.from_bytes(entry.record.value)
                verify(event, self._jurisdiction, self._keys)
            except (ValidationError, ValueError) as exc:
                reason = exc.reason if isinstance(exc, Untrusted) else "UNREADABLE"
                result.problems.append(Problem("", f"outbox position {entry.position}: {reason}"))
                continue
            self._told.setdefault(event.subject, []).append((event.sequence, event.type))

    def held(self, filings: Iterable[ReceivedFiling]) -> None:
        result = self.result
        for f in filings:
            result.filings_checked += 1
            events = self._told.pop(f.name, [])
            numbers = [sequence for sequence, _ in events]
            if numbers != list(range(1, f.published_sequence + 1)):
                result.problems.append(
                    Problem(f.name, f"events numbered {numbers}, expected 1..{f.published_sequence} once each")
                )
                continue
            state = FilingState.RECEIVED
            for sequence, type in events:
                step = type.removeprefix(EVENT_TYPE_PREFIX)
                if step not in AFTER:
                    result.problems.append(Problem(f.name, f"event {sequence} is of an unknown type {type}"))
                    break
                state = AFTER[step]
            else:
                if state != f.state:
                    result.problems.append(Problem(f.name, f"the sender was told {state}, the filing is {f.state}"))

    def done(self) -> Verification:
        """After every filing is `held`: what is left was told of filings this service does not hold."""
        for subject in sorted(self._told):
            self.result.problems.append(
                Problem(subject, f"{len(self._told[subject])} events of a filing this service does not hold")
            )
        self._told.clear()
        return self.result
