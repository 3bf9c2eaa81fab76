"""The real corpus as the registry would publish it: each law imported with Document.imported, its
events made by the registry's own to_records (one per version, oldest first)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from pathlib import Path

from normreg_cli.corpus import CorpusLaw, CorpusVersion, read_corpus
from normreg_common.events import CloudEvent
from normreg_common.principal import Principal, Role
from normreg_registry.application.events import to_records
from normreg_registry.domain.articles import Article
from normreg_registry.domain.lifecycle import Kind, State
from normreg_registry.domain.model import Document, ImportedVersion
from normreg_registry.domain.versions import TimelineEntry

from tests.search.helpers import T0

REGISTRAR = Principal("importer", frozenset({Role.REGISTRAR}), "司法局")


def imported_version(v: CorpusVersion) -> ImportedVersion:
    """What ImportDocument makes of a corpus version: its articles as given, its amending acts."""
    return ImportedVersion(
        v.title,
        v.body,
        State(v.state),
        v.promulgation_date,
        v.effective_date,
        articles=tuple(Article(label, text) for label, text in v.articles),
        public_acts=tuple(
            TimelineEntry(day, event, title)
            for event, acts in (("amended_by", v.amended_by), ("amends", v.amends))
            for title, day in acts
        ),
    )


def doc_id(law: CorpusLaw) -> str:
    return hashlib.sha1(law.request_id.encode()).hexdigest()[:16]  # noqa: S324


def law_events(law: CorpusLaw, at: dt.datetime = T0) -> list[CloudEvent]:
    doc = Document.imported(
        id=doc_id(law),
        kind=Kind(law.kind),
        issuing_body=law.issuing_body,
        versions=[imported_version(v) for v in law.versions],
        principal=REGISTRAR,
        at=at,
    )
    return [CloudEvent.from_bytes(record.value) for _, record in to_records(doc, doc.pop_changes())]


@functools.cache
def corpus(path: Path) -> tuple[list[CorpusLaw], list[CloudEvent]]:
    """The laws of the corpus and every event their import publishes, read once per session."""
    laws = list(read_corpus(path))
    return laws, [event for law in laws for event in law_events(law)]
