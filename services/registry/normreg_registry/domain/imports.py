"""Registering existing rules (存量): documents promulgated before the registry knew them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Self

from normreg_common.errors import InvalidArgument
from normreg_common.principal import Principal

from normreg_registry.domain import access
from normreg_registry.domain.access import Op
from normreg_registry.domain.aggregate import DocumentState
from normreg_registry.domain.lifecycle import PROMULGATED_STATES, Kind, State
from normreg_registry.domain.numbers import UniformNumber
from normreg_registry.domain.versions import Promulgation, TimelineEntry, Version


@dataclass(frozen=True)
class ImportedVersion:
    title: str
    body: str
    state: State
    promulgation_date: dt.date
    effective_date: dt.date | None = None
    validity_end: dt.date | None = None
    number: UniformNumber | None = None


class Imports(DocumentState):
    @classmethod
    def imported(
        cls,
        *,
        id: str,
        kind: Kind,
        issuing_body: str,
        versions: list[ImportedVersion],
        principal: Principal,
        at: dt.datetime,
    ) -> Self:
        access.authorize_role(principal, access.OPERATIONS[Op.IMPORT], "importing documents")
        if not versions:
            raise InvalidArgument("versions", "at least one version")
        in_force = [v for v in versions if v.state == State.IN_FORCE]
        if len(in_force) > 1:
            raise InvalidArgument("versions", "at most one version can be in force")
        doc = cls(
            id=id,
            kind=kind,
            issuing_body=issuing_body,
            number_prefix="",
            drafting_org="",
            provisional=False,
            created_at=at,
            updated_at=at,
        )
        for i, iv in enumerate(versions, start=1):
            if iv.state not in PROMULGATED_STATES:
                raise InvalidArgument(f"versions[{i - 1}].state", "imported versions must be promulgated")
            version = Version(i, iv.state, iv.title, iv.body, at, at)
            effective = iv.effective_date or iv.promulgation_date
            version.promulgation = Promulgation(iv.number, "", iv.promulgation_date, effective, iv.validity_end, "")
            if i > 1:
                version.amends = i - 1
            version.timeline.append(TimelineEntry(iv.promulgation_date, "promulgated"))
            if iv.state != State.PROMULGATED:
                version.timeline.append(TimelineEntry(effective, "in_force"))
            doc.versions.append(version)
        for prev, nxt in zip(doc.versions, doc.versions[1:], strict=False):
            prev.amended_by = nxt.number
            if prev.state == State.AMENDED:
                assert nxt.promulgation is not None
                prev.timeline.append(
                    TimelineEntry(nxt.promulgation.effective_date, "amended", "", doc.version_name(nxt.number))
                )
        # One change per version, oldest first: every version's snapshot reaches the event log.
        for v in doc.versions:
            doc._record("imported", v.number, None, v.state, principal, at, details={"versions": len(versions)})
        return doc
