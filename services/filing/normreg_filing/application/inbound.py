"""What the recipient takes from a subordinate registry's document events, translated at the edge:
a promulgation naming one of this jurisdiction's bodies among its recipients, a filing sent to one
of them, and the completion of requested materials (a refiling with the same recipient). Everything
else on the stream is of no concern here and is skipped."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from normreg_common.events import CloudEvent
from normreg_common.federation import verify
from normreg_common.profile import JurisdictionProfile
from pydantic import BaseModel, ConfigDict, Field

from normreg_filing.domain.supervision import SeenPromulgation

REGISTRY_TYPE_PREFIX = "normreg.registry.v1."


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


@dataclass(frozen=True)
class Inbound:
    source: str
    subject: str
    sequence: int
    messages: tuple[SeenPromulgation | FilingSent, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Head(_Model):
    name: str
    kind: str
    issuing_body: str


class _Promulgation(_Model):
    uniform_number: str = ""
    promulgation_date: dt.date


class _Version(_Model):
    name: str
    title: str
    promulgation: _Promulgation | None = None


class _Data(_Model):
    version_number: int = Field(ge=1)
    details: dict[str, Any]
    document: _Head
    version: _Version


def translate(event: CloudEvent, sender: str, bodies: frozenset[str]) -> Inbound:
    """`sender` is the jurisdiction whose stream this is; `bodies` are the recipients this deployment
    receives for. Raises for data that is not what the registry publishes (a dead letter)."""
    messages: list[SeenPromulgation | FilingSent] = []
    if event.type in (REGISTRY_TYPE_PREFIX + "promulgated", REGISTRY_TYPE_PREFIX + "filing_recorded"):
        data = _Data.model_validate(event.data)
        p = data.version.promulgation
        if p is None:
            raise ValueError(f"{event.type} of {data.version.name} carries no promulgation")
        details = data.details
        if event.type.endswith("promulgated") and details.get("filing_required"):
            due = dt.date.fromisoformat(str(details["filing_due_date"]))
            for recipient in details.get("filing_recipients") or []:
                if recipient in bodies:
                    messages.append(
                        SeenPromulgation(
                            sender=sender,
                            document=data.version.name,
                            title=data.version.title,
                            issuing_body=data.document.issuing_body,
                            kind=data.document.kind,
                            uniform_number=p.uniform_number,
                            promulgation_date=p.promulgation_date,
                            due_date=due,
                            recipient=str(recipient),
                        )
                    )
        elif event.type.endswith("filing_recorded") and details.get("recipient") in bodies:
            messages.append(
                FilingSent(
                    sender=sender,
                    document=data.version.name,
                    title=data.version.title,
                    issuing_body=data.document.issuing_body,
                    kind=data.document.kind,
                    uniform_number=p.uniform_number,
                    promulgation_date=p.promulgation_date,
                    due_date=dt.date.fromisoformat(str(details["due_date"])),
                    filed_date=dt.date.fromisoformat(str(details["filed_date"])),
                    recipient=str(details["recipient"]),
                    materials={str(k): bool(v) for k, v in dict(details.get("materials") or {}).items()},
                    refiling=bool(details.get("refiling")),
                    at=event.time,
                )
            )
    return Inbound(event.source, event.subject, event.sequence, tuple(messages))


def read_trusted(raw: bytes, sender: str, profile: JurisdictionProfile, bodies: frozenset[str]) -> Inbound:
    """A record of `sender`'s stream, believed only when `sender` signed it with a key the profile
    lists for it. Raises (normreg_common.federation.Untrusted, or a validation error for a record
    that is not an event): the consumer sets it aside as a dead letter and applies nothing of it."""
    event = CloudEvent.from_bytes(raw)
    verify(event, sender, profile.keys_of(sender))
    return translate(event, sender, bodies)
