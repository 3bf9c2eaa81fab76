"""What a gate of the law is: the ErrorInfo reason its refusal carries, the rule as people say it, one
pure predicate over the facts its caller names, and what it found. A refusal is FAILED_PRECONDITION
whose message is what was found, then the rule; facts named as metadata travel in the ErrorInfo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from normreg_common.errors import FailedPrecondition


@dataclass(frozen=True)
class Gate:
    reason: str
    # Both texts are filled from the facts (and `resource`): "{version} is {v.state}".
    rule: str
    refuses: Callable[..., bool]
    found: str
    metadata: tuple[str, ...] = ()

    def check(self, resource: str = "", **facts: Any) -> None:
        if self.refuses(**facts):
            raise self.refusal(resource, **facts)

    def refusal(self, resource: str = "", **facts: Any) -> FailedPrecondition:
        words = {"resource": resource, **facts}
        details = {k: str(facts[k]) for k in self.metadata if facts.get(k)}
        if resource:
            details["resource"] = resource
        message = f"{self.found.format(**words)}; {self.rule.format(**words)}"
        return FailedPrecondition(self.reason, message, **details)
