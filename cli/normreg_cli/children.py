"""The processes `make run` and `make run-federation` start, watched until one of them or the
person at the terminal stops them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from normreg_common.stopping import STOP


def supervise(children: dict[str, subprocess.Popen[bytes]]) -> int:
    """Waits until Ctrl-C, SIGTERM or a child's exit, then stops them all (SIGTERM, then SIGKILL a
    second after a service's own limit, `normreg_common.stopping`, by which it has exited by itself,
    if need be with every thread's stack in its log); returns the exit code of the child that
    stopped first, 0 when none did."""
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"normreg: {name} exited with code {child.returncode}; stopping", file=sys.stderr)
                code = child.returncode or 1
                stopping = True
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP.limit_s + 1.0
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return code
