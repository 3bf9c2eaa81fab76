"""Registry-shaped events for the search tests, and small builders of public views.

`registry_event` builds what normreg_registry.application.events.to_records puts on the documents
topic (type, subject, sequence, the published message of normreg.events.v1 with its head and version
snapshot), written from the .proto alone as any producer would; `legacy=True` builds the JSON
snapshot the registry wrote before the messages were published, which consumers still read for one
release. Every internal field is filled with a value containing SECRET, so a test can assert that
none reaches the index.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf import json_format
from normreg.events.v1 import document_events_pb2 as dev
from normreg.events.v1.comment_events_pb2 import CommentReceived
from normreg_common import document_events, event_data
from normreg_common.events import REGISTRY_SOURCE, CloudEvent
from normreg_search.model import Article, PublicVersion, TimelineEvent, VersionChange

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def registry_event(
    doc: str,
    number: int,
    sequence: int,
    state: str,
    *,
    action: str = "changed",
    title: str = "赤峰市行政规范性文件管理办法",
    body: str = "第一条 为了规范行政规范性文件管理，制定本办法。\n第二条 本办法自发布之日起施行。",
    kind: str = "GOVERNMENT_RULE",
    issuing_body: str = "赤峰市人民政府",
    uniform_number: str = "",
    promulgation_date: str = "",
    effective_date: str = "",
    validity_end: str | None = None,
    comment_window: tuple[str, str] | None = None,
    timeline: list[tuple[str, str, str, str]] | None = None,
    amends: int | None = None,
    amended_by: int | None = None,
    repealed_by: str = "",
    updated_at: dt.datetime = T0,
    legacy: bool = False,
) -> CloudEvent:
    name = f"documents/{doc}"
    if not legacy:
        return _published_event(
            name,
            number,
            sequence,
            state,
            action=action,
            title=title,
            body=body,
            kind=kind,
            issuing_body=issuing_body,
            uniform_number=uniform_number,
            promulgation_date=promulgation_date,
            effective_date=effective_date,
            validity_end=validity_end,
            comment_window=comment_window,
            timeline=timeline,
            amends=amends,
            amended_by=amended_by,
            repealed_by=repealed_by,
            updated_at=updated_at,
        )
    promulgation: dict[str, Any] | None = None
    if promulgation_date:
        promulgation = {
            "number": {"prefix": "赤政规", "year": int(promulgation_date[:4]), "sequence": 1},
            "registration_number": "SECRET-REGISTRATION",
            "promulgation_date": promulgation_date,
            "effective_date": effective_date or promulgation_date,
            "validity_end": validity_end,
            "early_effect_reason": "SECRET-EARLY-EFFECT-REASON",
            "uniform_number": uniform_number,
        }
    articles = [
        {"label": line.split(" ", 1)[0], "text": line.split(" ", 1)[1]}
        for line in body.splitlines()
        if line.startswith("第") and " " in line
    ]
    version = {
        "number": number,
        "state": state,
        "title": title,
        "body": body,
        "created_at": T0.isoformat(),
        "updated_at": updated_at.isoformat(),
        "revision": 3,
        "approved_revision": 3,
        "review_round": 1,
        "deliberated": True,
        "drafters": ["SECRET-DRAFTER"],
        "comment_window": {"start": comment_window[0], "end": comment_window[1]} if comment_window else None,
        "completed_comment_windows": [{"start": "2025-01-01", "end": "2025-02-01"}],
        "procedures": {
            "EXPERT_ARGUMENTATION": {
                "procedure": "EXPERT_ARGUMENTATION",
                "summary": "SECRET-PROCEDURE",
                "at": T0.isoformat(),
            }
        },
        "promulgation": promulgation,
        "filing": {"filed_date": "2026-01-01", "recipient": "SECRET-FILING-RECIPIENT", "materials": {}},
        "filing_overdue_flagged": False,
        "evaluation_due_flagged": False,
        "amends": amends,
        "amended_by": amended_by,
        "repealed_by": repealed_by,
        "state_reason": "SECRET-STATE-REASON",
        "timeline": [
            {"date": d, "event": e, "note": note, "related": related} for d, e, note, related in (timeline or [])
        ]
        + [{"date": "2026-01-01", "event": "review_returned", "note": "SECRET-TIMELINE-NOTE", "related": ""}],
        "name": f"{name}/versions/{number}",
        "articles": articles,
        "secret_field_added_later": "SECRET-FUTURE-FIELD",
    }
    return CloudEvent(
        source=REGISTRY_SOURCE,
        type=f"normreg.registry.v1.{action}",
        subject=name,
        time=updated_at,
        sequence=sequence,
        data={
            "action": action,
            "version_number": number,
            "from_state": "",
            "to_state": state,
            "actor": "SECRET-ACTOR",
            "reason": "SECRET-REASON",
            "details": {"note": "SECRET-DETAILS"},
            "document": {
                "name": name,
                "kind": kind,
                "issuing_body": issuing_body,
                "number_prefix": "赤政规",
                "drafting_org": "SECRET-DRAFTING-ORG",
                "provisional": False,
                "version_count": number,
            },
            "version": version,
        },
    )


def _date(text: str | None) -> dict[str, int] | None:
    if not text:
        return None
    day = dt.date.fromisoformat(text)
    return {"year": day.year, "month": day.month, "day": day.day}


def _published_event(
    name: str,
    number: int,
    sequence: int,
    state: str,
    *,
    action: str,
    title: str,
    body: str,
    kind: str,
    issuing_body: str,
    uniform_number: str,
    promulgation_date: str,
    effective_date: str,
    validity_end: str | None,
    comment_window: tuple[str, str] | None,
    timeline: list[tuple[str, str, str, str]] | None,
    amends: int | None,
    amended_by: int | None,
    repealed_by: str,
    updated_at: dt.datetime,
) -> CloudEvent:
    message_class = document_events.message_class(f"normreg.registry.v1.{action}") or dev.DocumentEvent
    version: dict[str, Any] = {
        "name": f"{name}/versions/{number}",
        "number": number,
        "state": state,
        "title": title,
        "body": body,
        "articles": [
            {"label": line.split(" ", 1)[0], "text": line.split(" ", 1)[1]}
            for line in body.splitlines()
            if line.startswith("第") and " " in line
        ],
        "revision": 3,
        "timeline": [
            {"date": _date(d), "event": e, "note": note, "related": related} for d, e, note, related in (timeline or [])
        ]
        + [{"date": _date("2026-01-01"), "event": "review_returned", "note": "SECRET-TIMELINE-NOTE", "related": ""}],
        "amends": f"{name}/versions/{amends}" if amends else "",
        "amended_by": f"{name}/versions/{amended_by}" if amended_by else "",
        "repealed_by": repealed_by,
        "create_time": T0.isoformat(),
        "update_time": updated_at.isoformat(),
    }
    if comment_window:
        version["comment_window"] = {"start_date": _date(comment_window[0]), "end_date": _date(comment_window[1])}
    if promulgation_date:
        version["promulgation"] = {
            "uniform_number": uniform_number,
            "registration_number": "SECRET-REGISTRATION",
            "promulgation_date": _date(promulgation_date),
            "effective_date": _date(effective_date or promulgation_date),
            "validity_end_date": _date(validity_end),
        }
    data = {
        "change": {
            "version_number": number,
            "to_state": state,
            "actor": "SECRET-ACTOR",
            "reason": "SECRET-REASON",
        },
        "document": {
            "name": name,
            "kind": kind,
            "issuing_body": issuing_body,
            "number_prefix": "赤政规",
            "drafting_org": "SECRET-DRAFTING-ORG",
            "version_count": number,
        },
        "version": version,
    }
    message = json_format.ParseDict(data, message_class())
    return CloudEvent(
        source=REGISTRY_SOURCE,
        type=f"normreg.registry.v1.{action}",
        subject=name,
        time=updated_at,
        sequence=sequence,
        dataschema=event_data.dataschema(message),
        data=event_data.to_data(message) | {"secret_field_added_later": "SECRET-FUTURE-FIELD"},
    )


_registry_event = registry_event


def lifecycle(doc: str = "rule1", *, legacy: bool = False) -> list[CloudEvent]:
    """A document's whole public life, in order: a draft opened for comment and closed again,
    promulgated, in force, amended by version 2, which is later repealed."""
    registry_event = partial(_registry_event, legacy=legacy)
    body1 = "第一条 为了推进法治政府建设，制定本办法。\n第二条 旧条款只在第一版中出现。"
    body2 = "第一条 为了推进法治政府建设，制定本办法。\n第二条 新条款规定备案审查。"
    promulgated1 = [("2024-01-10", "promulgated", "赤政规〔2024〕1号", ""), ("2024-02-10", "in_force", "", "")]
    v1 = {"title": "赤峰市法治政府建设办法", "body": body1, "uniform_number": "赤政规〔2024〕1号"}
    v1_dates = {"promulgation_date": "2024-01-10", "effective_date": "2024-02-10"}
    v2 = {"title": "赤峰市法治政府建设办法", "body": body2, "uniform_number": "赤政规〔2025〕7号", "amends": 1}
    v2_dates = {"promulgation_date": "2025-05-01", "effective_date": "2025-06-01"}
    window = ("2023-11-01", "2023-12-01")
    return [
        registry_event(doc, 1, 1, "DRAFTING", action="created", **v1),
        registry_event(doc, 1, 2, "PUBLIC_COMMENT", action="comment_opened", comment_window=window, **v1),
        registry_event(doc, 1, 3, "DRAFTING", action="comment_closed", **v1),
        registry_event(doc, 1, 4, "PROMULGATED", action="promulgated", timeline=promulgated1[:1], **v1, **v1_dates),
        registry_event(doc, 1, 5, "IN_FORCE", action="entered_into_force", timeline=promulgated1, **v1, **v1_dates),
        registry_event(doc, 2, 6, "DRAFTING", action="amendment_started", **v2),
        registry_event(
            doc, 2, 7, "PUBLIC_COMMENT", action="comment_opened", comment_window=("2025-01-01", "2025-03-01"), **v2
        ),
        registry_event(doc, 2, 8, "DRAFTING", action="comment_closed", **v2),
        registry_event(
            doc,
            2,
            9,
            "PROMULGATED",
            action="promulgated",
            timeline=[("2025-05-01", "promulgated", "", "")],
            **v2,
            **v2_dates,
        ),
        registry_event(
            doc,
            1,
            10,
            "AMENDED",
            action="amended",
            amended_by=2,
            timeline=[*promulgated1, ("2025-06-01", "amended", "", f"documents/{doc}/versions/2")],
            **v1,
            **v1_dates,
        ),
        registry_event(
            doc,
            2,
            11,
            "IN_FORCE",
            action="entered_into_force",
            timeline=[("2025-05-01", "promulgated", "", ""), ("2025-06-01", "in_force", "", "")],
            **v2,
            **v2_dates,
        ),
        registry_event(
            doc,
            2,
            12,
            "REPEALED",
            action="repealed",
            repealed_by="赤政规〔2026〕2号",
            timeline=[
                ("2025-05-01", "promulgated", "", ""),
                ("2025-06-01", "in_force", "", ""),
                ("2026-02-01", "repealed", "清理废止", "赤政规〔2026〕2号"),
            ],
            **v2,
            **v2_dates,
        ),
    ]


def public(
    doc: str,
    number: int = 1,
    *,
    title: str = "赤峰市行政规范性文件管理办法",
    body: str = "第一条 为了规范行政规范性文件管理，制定本办法。",
    state: str = "IN_FORCE",
    kind: str = "GOVERNMENT_RULE",
    issuing_body: str = "赤峰市人民政府",
    uniform_number: str = "",
    promulgated: dt.date | None = dt.date(2024, 1, 10),
    effective: dt.date | None = dt.date(2024, 2, 10),
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    comment: tuple[dt.date, dt.date] | None = None,
) -> PublicVersion:
    articles = tuple(
        Article(line.split(" ", 1)[0], line.split(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("第") and " " in line
    )
    searchable = state != "PUBLIC_COMMENT"
    return PublicVersion(
        name=f"documents/{doc}/versions/{number}",
        document=f"documents/{doc}",
        version_number=number,
        title=title,
        kind=kind,
        state=state,
        issuing_body=issuing_body,
        uniform_number=uniform_number,
        promulgation_date=promulgated if searchable else None,
        effective_date=effective if searchable else None,
        body=body,
        articles=articles,
        timeline=(TimelineEvent(promulgated.isoformat(), "promulgated"),) if searchable and promulgated else (),
        comment_start=comment[0] if comment else None,
        comment_end=comment[1] if comment else None,
        valid_from=(valid_from or effective) if searchable else None,
        valid_to=valid_to,
    )


def change(version: PublicVersion, sequence: int = 1) -> VersionChange:
    return VersionChange(version.name, version.document, sequence, version)


def hidden(doc: str, number: int, sequence: int) -> VersionChange:
    return VersionChange(f"documents/{doc}/versions/{number}", f"documents/{doc}", sequence, None)


def comment_event(doc: str, number: int, count: int) -> CloudEvent:
    """The registry's event for the `count`-th comment on version `number` of `doc`, written from the
    published message (normreg.events.v1.CommentReceived) as any producer would."""
    version = f"documents/{doc}/versions/{number}"
    message = CommentReceived(document=f"documents/{doc}", version=version, version_number=number, comment_count=count)
    return CloudEvent(
        source=REGISTRY_SOURCE,
        type="normreg.registry.v1.comment_received",
        subject=f"{version}/comments",
        time=T0,
        sequence=count,
        dataschema=event_data.dataschema(message),
        data=event_data.to_data(message),
    )
