"""Registering existing rules (存量): documents promulgated before the registry knew them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Self

from normreg_common.dates import bounded
from normreg_common.errors import InvalidArgument
from normreg_common.principal import Principal
from normreg_common.profile import JurisdictionProfile

from normreg_registry.domain import access, deadlines
from normreg_registry.domain.access import Op
from normreg_registry.domain.aggregate import DocumentState
from normreg_registry.domain.articles import Article
from normreg_registry.domain.lifecycle import FILING_KINDS, PROMULGATED_STATES, Kind, State
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
    # The source's articles, kept as given; None: split from the body.
    articles: tuple[Article, ...] | None = None
    # Public acts the source records for this version: what amended it (amended_by) and what it
    # amended (amends), each with its date and the other act's title. They do not end the version.
    public_acts: tuple[TimelineEntry, ...] = ()


def imported_states(versions: list[ImportedVersion], today: dt.date) -> list[State]:
    """The state each imported version is in today: one said to be in force but taking effect after
    today is PROMULGATED (尚未生效), and then the newest earlier version superseded by it (AMENDED in
    the source) that is already effective is the one in force; the scheduler moves both on the day."""
    states = [v.state for v in versions]
    for i, v in enumerate(versions):
        if v.state == State.IN_FORCE and _takes_effect(v) > today:
            states[i] = State.PROMULGATED
            earlier = [j for j in range(i) if states[j] == State.AMENDED and _takes_effect(versions[j]) <= today]
            if earlier and State.IN_FORCE not in states:
                states[earlier[-1]] = State.IN_FORCE
    return states


def _takes_effect(v: ImportedVersion) -> dt.date:
    """Its effective date, but never before it was promulgated (a consolidated text may carry the
    first edition's effective date)."""
    return max(v.effective_date or v.promulgation_date, v.promulgation_date)


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
        profile: JurisdictionProfile | None = None,
        today: dt.date | None = None,
    ) -> Self:
        """`profile` gives an imported normative document the validity period one promulgated here
        would have, when the import does not state its end. `today` (the jurisdiction's date of
        `at`) decides which version is in force (see imported_states)."""
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
        states = imported_states(versions, today or at.date())
        for i, (iv, state) in enumerate(zip(versions, states, strict=True), start=1):
            if iv.state not in PROMULGATED_STATES:
                raise InvalidArgument(f"versions[{i - 1}].state", "imported versions must be promulgated")
            for field, day in (
                ("promulgation_date", iv.promulgation_date),
                ("effective_date", iv.effective_date),
                ("validity_end_date", iv.validity_end),
            ):
                if day is not None:
                    bounded(day, f"versions[{i - 1}].{field}")
            version = Version(i, state, iv.title, iv.body, at, at, given_articles=iv.articles)
            effective = iv.effective_date or iv.promulgation_date
            validity_end = iv.validity_end
            if validity_end is not None and validity_end < effective:
                # A period that ends before it begins: the version would expire the day it took effect.
                raise InvalidArgument(
                    f"versions[{i - 1}].validity_end_date",
                    f"the validity period ends ({validity_end}) before the version takes effect ({effective})",
                )
            if validity_end is None and kind == Kind.NORMATIVE_DOCUMENT:
                years = (profile or JurisdictionProfile()).validity_years_default
                validity_end = deadlines.validity_end(effective, years)
            version.promulgation = Promulgation(iv.number, "", iv.promulgation_date, effective, validity_end, "")
            if i > 1:
                version.amends = i - 1
            version.timeline.append(TimelineEntry(iv.promulgation_date, "promulgated"))
            if state != State.PROMULGATED:
                version.timeline.append(TimelineEntry(effective, "in_force"))
            version.timeline.extend(iv.public_acts)
            version.timeline.sort(key=lambda e: e.date)
            doc.versions.append(version)
        for prev, nxt in zip(doc.versions, doc.versions[1:], strict=False):
            prev.amended_by = nxt.number
            if prev.state == State.AMENDED:
                assert nxt.promulgation is not None
                prev.timeline.append(
                    TimelineEntry(nxt.promulgation.effective_date, "amended", "", doc.version_name(nxt.number))
                )
        # One change per version, oldest first: every version's snapshot reaches the event log. It says
        # what the filing report needs to count a filing recorded later in its year.
        for v in doc.versions:
            p = v.promulgation
            assert p is not None
            details: dict[str, Any] = {
                "versions": len(versions),
                "promulgated_before_registration": True,
                "promulgation_date": str(p.promulgation_date),
                "effective_date": str(p.effective_date),
                "validity_end_date": str(p.validity_end or ""),
                "uniform_number": str(p.number or ""),
                "filing_required": kind in FILING_KINDS,
                "kind": kind.value,
                "issuing_body": issuing_body,
            }
            doc._record("imported", v.number, None, v.state, principal, at, details=details)
        return doc
