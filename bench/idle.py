"""Idle is idle: the CPU each service uses over a quiet window, with every background task on (outbox
relay, consumers, scheduler, metrics sampler), read from /proc/<pid>/stat (utime + stime).

The floor is the same reading for a bare grpc.aio echo server over the same window: what a process
that serves nothing and polls nothing costs. Target: each service < 0.5 % of one core.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from bench.procs import SERVICES, Backends, System, echo_process
from bench.stats import VERDICTS

TARGET_PERCENT = 0.5
SETTLE_S = 5.0


def cpu_seconds(pid: int) -> float:
    # Fields after the command (which may hold spaces) start after the last ')'; utime, stime are 14, 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(pids: dict[str, int], window_s: float) -> dict[str, float]:
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    await asyncio.sleep(window_s)
    return {name: 100.0 * (cpu_seconds(pid) - before[name]) / window_s for name, pid in pids.items()}


async def main(backends: list[Backends], window_s: float = 60.0) -> None:
    for b in backends:
        print(f"\n== idle: % of one core over {window_s:.0f} s with nothing to do ({b.name})", flush=True)
        with tempfile.TemporaryDirectory(prefix="normreg-idle-") as tmp:
            # The filing service too: it consumes its own registry's stream and its peers'.
            system = System(Path(tmp), b, names=(*SERVICES, "filing"))
            with system.running(), echo_process() as (_, echo):
                await asyncio.sleep(SETTLE_S)
                pids = {f"normreg_{n}": p.pid for n, p in system.procs.items()} | {"grpc.aio echo (floor)": echo.pid}
                usage = await measure(pids, window_s)
        load = os.getloadavg()[0]
        for name, percent in usage.items():
            if "floor" in name:
                print(f"{name:<52} {percent:8.3f} %", flush=True)
                continue
            met = percent < TARGET_PERCENT
            label = f"idle CPU {name} ({b.name})"
            VERDICTS.append((label, f"< {TARGET_PERCENT:g} % of a core", met))
            print(
                f"{label:<52} {percent:8.3f} %   target < {TARGET_PERCENT:g} %: {'met' if met else 'NOT MET'}"
                f"  (load average {load:.2f})",
                flush=True,
            )
