"""Latency/throughput summaries and the repeated-run report every benchmark prints."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass(frozen=True)
class Run:
    throughput: float  # requests per second
    p50_ms: float
    p99_ms: float


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


def line(label: str, subject: list[float], floor: list[float], unit: str, higher_is_better: bool) -> str:
    s, s_lo, s_hi = median_and_spread(subject)
    f, f_lo, f_hi = median_and_spread(floor)
    ratio = s / f if f else float("nan")
    better = "higher is better" if higher_is_better else "lower is better"
    return (
        f"{label:<44} {s:10.2f} {unit:<6} [{s_lo:.2f}..{s_hi:.2f}]   floor {f:10.2f} [{f_lo:.2f}..{f_hi:.2f}]"
        f"   ratio {ratio:5.2f}  ({better})"
    )
