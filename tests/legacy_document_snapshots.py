"""The registry's document events as it wrote them before their messages were published: a JSON
snapshot of its own records, no `dataschema` (the code of that release, kept to prove that
consumers still read the events a log holds from then)."""

from __future__ import annotations

from typing import Any

from normreg_common.events import REGISTRY_SOURCE, CloudEvent
from normreg_registry.domain.model import Change, Document, Version
from pydantic import TypeAdapter

_version = TypeAdapter(Version)


def version_snapshot(doc: Document, v: Version) -> dict[str, Any]:
    data: dict[str, Any] = _version.dump_python(v, mode="json")
    data["name"] = doc.version_name(v.number)
    data["articles"] = [{"label": a.label, "text": a.text} for a in v.articles]
    if v.promulgation is not None:
        number = v.promulgation.number
        data["promulgation"]["uniform_number"] = str(number) if number else ""
    return data


def document_snapshot(doc: Document) -> dict[str, Any]:
    return {
        "name": doc.name,
        "kind": doc.kind.value,
        "issuing_body": doc.issuing_body,
        "number_prefix": doc.number_prefix,
        "drafting_org": doc.drafting_org,
        "provisional": doc.provisional,
        "version_count": len(doc.versions),
    }


def legacy_event(doc: Document, change: Change) -> CloudEvent:
    return CloudEvent(
        source=REGISTRY_SOURCE,
        type="normreg.registry.v1." + change.action,
        subject=doc.name,
        time=change.at,
        sequence=change.sequence,
        data={
            "action": change.action,
            "version_number": change.version,
            "from_state": change.from_state.value if change.from_state else "",
            "to_state": change.to_state.value if change.to_state else "",
            "actor": change.actor,
            "reason": change.reason,
            "details": change.details,
            "document": document_snapshot(doc),
            "version": version_snapshot(doc, doc.version(change.version)),
        },
    )
