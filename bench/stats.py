"""Latency/throughput summaries and the repeated-run report every benchmark prints."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    throughput: float  # requests per second
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Target:
    """What the issue asks of a figure; `met` gets the medians of the subject and of its floor."""

    text: str
    met: Callable[[float, float], bool]


def at_least(ratio: float) -> Target:
    return Target(f">= {ratio:g}x floor", lambda s, f: s >= ratio * f)


def at_most(ratio: float) -> Target:
    return Target(f"<= {ratio:g}x floor", lambda s, f: s <= ratio * f)


def at_most_value(limit: float, unit: str) -> Target:
    return Target(f"<= {limit:g} {unit}", lambda s, f: s <= limit)


# (label, target text, met) of every line with a target, for the summary at the end.
VERDICTS: list[tuple[str, str, bool]] = []


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summarise(latencies_s: list[float], elapsed_s: float) -> Run:
    return Run(len(latencies_s) / elapsed_s, percentile(latencies_s, 0.5) * 1000, percentile(latencies_s, 0.99) * 1000)


def median_and_spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def line(
    label: str,
    subject: list[float],
    floor: list[float],
    unit: str,
    higher_is_better: bool,
    target: Target | None = None,
) -> str:
    s, s_lo, s_hi = median_and_spread(subject)
    f, f_lo, f_hi = median_and_spread(floor)
    ratio = s / f if f else float("nan")
    better = "higher is better" if higher_is_better else "lower is better"
    text = (
        f"{label:<52} {s:10.2f} {unit:<6} [{s_lo:.2f}..{s_hi:.2f}]   floor {f:10.2f} [{f_lo:.2f}..{f_hi:.2f}]"
        f"   ratio {ratio:5.2f}  ({better})"
    )
    if target is not None:
        met = target.met(s, f)
        VERDICTS.append((label, target.text, met))
        text += f"  target {target.text}: {'met' if met else 'NOT MET'}"
    return text
