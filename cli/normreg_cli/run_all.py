"""`make run`: the whole system on this machine, one process per service, sharing the data folder.

With NORMREG_KAFKA_BOOTSTRAP / NORMREG_ELASTICSEARCH_URL set, the same services use Kafka and
Elasticsearch instead of the embedded event log and index.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from normreg_common.files import private_dir
from normreg_common.settings import Settings

SERVICES = ("registry", "review", "search")


def main() -> int:
    settings = Settings()
    private_dir(settings.data_dir)
    # Create the development signing key once, before three processes race to create it.
    settings.token_codec()
    children: dict[str, subprocess.Popen[bytes]] = {}
    for name in SERVICES:
        children[name] = subprocess.Popen([sys.executable, "-m", f"normreg_{name}"], env=os.environ.copy())  # noqa: S603
    backends = (
        f"event log {'Kafka ' + settings.kafka_bootstrap if settings.kafka_bootstrap else settings.event_log_path}\n"
        f"  index     {'Elasticsearch ' + settings.elasticsearch_url if settings.elasticsearch_url else 'embedded'}"
    )
    print(
        "normreg is starting\n"
        f"  registry  {settings.registry_addr}\n"
        f"  review    {settings.review_addr}\n"
        f"  search    {settings.search_addr}\n"
        f"  data      {settings.data_dir.resolve()}\n  {backends}\n"
        "Try: .venv/bin/normreg --as drafter:alice@市司法局 create --kind normative_document --title 测试办法 \\\n"
        "       --issuing-body 赤峰市人民政府 --prefix 赤政规 --body '第一条 测试。'\n"
        "     .venv/bin/normreg search 测试\n"
        "Stop with Ctrl-C.",
        flush=True,
    )
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
                print(f"normreg: the {name} service exited with code {child.returncode}; stopping", file=sys.stderr)
                code = child.returncode or 1
                stopping = True
        time.sleep(0.2)
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
