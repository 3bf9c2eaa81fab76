"""What the recipient takes from a subordinate registry's document events (their published messages,
normreg.events.v1), translated at the edge:
a promulgation naming one of this jurisdiction's bodies among its recipients, a filing sent to one
of them, the completion of requested materials (a refiling with the same recipient), and the
filing of an amending version that answers a required correction of the version it amends. Everything
else on the stream is of no concern here and is skipped."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from google.type import date_pb2
from normreg.events.v1 import document_events_pb2 as dev
from normreg_common import document_events
from normreg_common.event_data import UnreadableData
from normreg_common.event_fields import date_of
from normreg_common.events import CloudEvent
from normreg_common.federation import CROSSING_REGISTRY_EVENTS, verify
from normreg_common.profile import JurisdictionProfile

from normreg_filing.domain.supervision import SeenPromulgation

REGISTRY_TYPE_PREFIX = document_events.TYPE_PREFIX
_DOCUMENT = re.compile(r"documents/[^/\s]{1,64}")
PROMULGATED = REGISTRY_TYPE_PREFIX + "promulgated"
FILING_RECORDED = REGISTRY_TYPE_PREFIX + "filing_recorded"
# The steps that take a promulgated version into force or out of it: what says whether a review
# suggestion may still be made on it.
VERSION_STATE_EVENTS = frozenset(
    REGISTRY_TYPE_PREFIX + action
    for action in ("promulgated", "entered_into_force", "amended", "repealed", "declared_invalid", "expired")
)

# Those that carry nothing but a version's state.
STATE_ONLY_EVENTS = VERSION_STATE_EVENTS - {PROMULGATED}


@dataclass(frozen=True)
class FilingSent:
    sender: str
    document: str
    title: str
    issuing_body: str
    kind: str
    uniform_number: str
    promulgation_date: dt.date
    due_date: dt.date
    filed_date: dt.date
    recipient: str
    materials: dict[str, bool]
    refiling: bool
    at: dt.datetime
    # The earlier version of the same document whose required correction this filing of an
    # amending version answers ("" when it answers none).
    answers_version: str = ""


@dataclass(frozen=True)
class VersionState:
    """What a registry's stream says of one of its versions (this deployment's own, or a
    subordinate's): the state it is now in."""

    source: str
    # The document (documents/{d}): a document's events are its stream.
    subject: str
    sequence: int
    version: int
    state: str
    # The document's kind (NORMATIVE_DOCUMENT, NATIONAL_LAW ...): what says which are reviewed here.
    kind: str = ""

    @property
    def document(self) -> str:
        return self.subject


@dataclass(frozen=True)
class Inbound:
    source: str
    subject: str
    sequence: int
    messages: tuple[SeenPromulgation | FilingSent | VersionState, ...]


def translate(event: CloudEvent, sender: str, bodies: frozenset[str]) -> Inbound:
    """`sender` is the jurisdiction whose stream this is; `bodies` are the recipients this deployment
    receives for. Read with the published messages (normreg.events.v1 DocumentPromulgated,
    DocumentFilingRecorded); raises for data that is not what the registry publishes (a dead letter)."""
    messages: list[SeenPromulgation | FilingSent | VersionState] = []
    if event.type == PROMULGATED:
        promulgated = document_events.read(event, dev.DocumentPromulgated)
        p = _promulgation(event, promulgated.version)
        if promulgated.filing_required:
            due = _required_date(event, promulgated.filing_due_date, "filing_due_date")
            for recipient in promulgated.filing_recipients:
                if recipient in bodies:
                    messages.append(
                        SeenPromulgation(
                            sender=sender,
                            document=promulgated.version.name,
                            title=promulgated.version.title,
                            issuing_body=promulgated.document.issuing_body,
                            kind=promulgated.document.kind,
                            uniform_number=p.uniform_number,
                            promulgation_date=_required_date(event, p.promulgation_date, "promulgation_date"),
                            due_date=due,
                            recipient=recipient,
                        )
                    )
    elif event.type == FILING_RECORDED:
        filed = document_events.read(event, dev.DocumentFilingRecorded)
        p = _promulgation(event, filed.version)
        if filed.recipient in bodies:
            messages.append(
                FilingSent(
                    sender=sender,
                    document=filed.version.name,
                    title=filed.version.title,
                    issuing_body=filed.document.issuing_body,
                    kind=filed.document.kind,
                    uniform_number=p.uniform_number,
                    promulgation_date=_required_date(event, p.promulgation_date, "promulgation_date"),
                    due_date=_required_date(event, filed.due_date, "due_date"),
                    filed_date=_required_date(event, filed.filed_date, "filed_date"),
                    recipient=filed.recipient,
                    materials=dict(filed.materials),
                    refiling=filed.refiling,
                    at=event.time,
                    answers_version=filed.answers_version,
                )
            )
    if event.type in VERSION_STATE_EVENTS:
        messages.append(version_state(event))
    return Inbound(event.source, event.subject, event.sequence, tuple(messages))


def version_state(event: CloudEvent) -> VersionState:
    """The state a version is in after `event` (one of VERSION_STATE_EVENTS), with its document's
    kind; raises UnreadableData for an event that names no document, version or state."""
    common = document_events.read_common(event)
    if common is None or common.change.version_number < 1 or not common.change.to_state:
        raise UnreadableData(f"{event.type} of {event.subject} names no version and state")
    return VersionState(
        event.source,
        document_subject(event.type, event.subject),
        event.sequence,
        common.change.version_number,
        common.change.to_state[:40],
        common.document.kind[:40],
    )


def document_subject(event_type: str, subject: str) -> str:
    """`subject` when it names a document (documents/{d}); else UnreadableData."""
    if not _DOCUMENT.fullmatch(subject):
        raise UnreadableData(f"{event_type} is about {subject!r}, not a document (documents/{{document}})")
    return subject


def _promulgation(event: CloudEvent, version: dev.VersionSnapshot) -> dev.DocumentPromulgation:
    if not version.HasField("promulgation"):
        raise UnreadableData(f"{event.type} of {version.name or event.subject} carries no promulgation")
    return version.promulgation


def _required_date(event: CloudEvent, value: date_pb2.Date, field: str) -> dt.date:
    day = date_of(value)
    if day is None:
        raise UnreadableData(f"{event.type} of {event.subject} has no {field}")
    return day


def read_trusted(raw: bytes, sender: str, profile: JurisdictionProfile, bodies: frozenset[str]) -> Inbound | None:
    """A record of `sender`'s stream, believed only when `sender` signed it with a key the profile
    lists for it. Raises (normreg_common.federation.Untrusted, or a validation error for a record
    that is not an event): the consumer sets it aside as a dead letter and applies nothing of it.
    None for an event of a type this service never reads (federation.CROSSING_REGISTRY_EVENTS are
    the ones it does): skipped unverified, it leaves no trace, not even its place in the stream."""
    event = CloudEvent.from_bytes(raw)
    if event.type not in CROSSING_REGISTRY_EVENTS:
        return None
    if event.jurisdictionsig is None and event.type in STATE_ONLY_EVENTS:
        # Registries signed these only from when suggestions were checked against them: one written
        # before says nothing believed, and is passed like an event of a type never read.
        return None
    verify(event, sender, profile.keys_of(sender))
    return translate(event, sender, bodies)
