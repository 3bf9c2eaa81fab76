"""The document aggregate: a work with its versions. Every change is checked against the lifecycle
table (`lifecycle`), the access rules (`access`) and the gates of the law (`gates`), then recorded as a
Change; the aggregate never publishes anything.

Its operations are grouped by concern, one module each: `drafting`, `deliberation`, `enactment`
(promulgation and the clock), `amendment` (amend, repeal, invalidate, cleanup), `filing` and
`filing_outcomes` (what a recipient reports by event),
`evaluation`, `imports`; the records it keeps are in `versions`.
"""

from __future__ import annotations

from dataclasses import dataclass

from normreg_registry.domain.aggregate import Change
from normreg_registry.domain.deliberation import Deliberation
from normreg_registry.domain.enactment import Enactment
from normreg_registry.domain.filing_outcomes import FilingOutcomes
from normreg_registry.domain.imports import ImportedVersion, Imports
from normreg_registry.domain.versions import Evaluation, Version

__all__ = ["Change", "Document", "Evaluation", "ImportedVersion", "Version"]


@dataclass
class Document(Enactment, Deliberation, FilingOutcomes, Imports):
    pass
