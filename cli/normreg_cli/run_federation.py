"""`make run-federation`: a province and two of its cities on this machine, each its own deployment.

内蒙古自治区 (profile neimenggu), 赤峰市 (chifeng) and 乌海市 (wuhai) each run their registry, review
and search services with a data folder of their own (var/federation/NAME) and a topic prefix of
their own (`NAME.`), on one shared embedded event log (var/federation/eventlog.db): what crosses
between them travels as events on that log, never as access to another's database. The province
also runs its filing review service, which reads the cities' streams. Each deployment signs what it
publishes with its own key (kept in its data folder) and believes the others' events only under the
keys listed for them here; the printed shell functions speak to one deployment each.

With NORMREG_KAFKA_BOOTSTRAP set, the same federation runs on that Kafka cluster (the prefixes keep
the deployments apart there too).
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from normreg_common.federation import public_key_text
from normreg_common.files import private_dir
from normreg_common.profile import get_profile
from normreg_common.settings import Settings

from normreg_cli.children import supervise

PROVINCE = "neimenggu"
CITIES = ("chifeng", "wuhai")
SERVICES = ("registry", "review", "search")
# The province receives filings: it alone runs the filing review service.
PROVINCE_SERVICES = (*SERVICES, "filing")
# Ports: 5061x for the province, 5062x and 5063x for the cities, in the order of PROVINCE_SERVICES.
BASE_PORT = 50610


@dataclass(frozen=True)
class Deployment:
    name: str
    services: tuple[str, ...]
    data_dir: Path
    ports: dict[str, int]
    # Before the name in topic prefixes and index names: runs sharing a cluster keep apart by it.
    tag: str = ""

    @property
    def prefix(self) -> str:
        return f"{self.tag}{self.name}."

    def address(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service]}"

    @property
    def cli_env(self) -> Path:
        return self.data_dir / "cli.env"


def deployments(
    root: Path, base_port: int = BASE_PORT, *, tag: str = "", port: Callable[[], int] | None = None
) -> list[Deployment]:
    """`port` gives each service a port of its own (a free one, in tests) instead of base_port + n."""
    out: list[Deployment] = []
    for i, name in enumerate((PROVINCE, *CITIES)):
        ports = {service: port() if port else base_port + 10 * i + j for j, service in enumerate(PROVINCE_SERVICES)}
        services = PROVINCE_SERVICES if name == PROVINCE else SERVICES
        out.append(Deployment(name, services, root / name, ports, tag))
    return out


def environments(root: Path, members: list[Deployment], base: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each deployment's NORMREG_* settings; creates each one's signing key on first use."""
    public: dict[str, str] = {}
    for d in members:
        private_dir(d.data_dir)
        own = Settings(data_dir=d.data_dir)
        # The key stays in the deployment's own folder; the others learn only its public half.
        public[d.name] = public_key_text(own.federation_signer())
        # Its development token key, made once before its processes race to make it.
        own.token_codec()
    out: dict[str, dict[str, str]] = {}
    for d in members:
        others = [o for o in members if o.name != d.name]
        env = {
            **base,
            "NORMREG_DATA_DIR": str(d.data_dir),
            "NORMREG_PROFILE": d.name,
            "NORMREG_TOPIC_PREFIX": d.prefix,
            "NORMREG_EVENT_LOG_FILE": str(root / "eventlog.db"),
            "NORMREG_FEDERATION_KEYS": ",".join(f"{o.name}={public[o.name]}" for o in others),
            "NORMREG_FEDERATION_PEERS": ",".join(f"{o.name}={o.prefix}" for o in others),
            # Each deployment its own search index (Elasticsearch) beside its own index file (embedded).
            "NORMREG_ELASTICSEARCH_INDEX_PREFIX": f"normreg-{d.tag}{d.name}",
        }
        for service in PROVINCE_SERVICES:
            env[f"NORMREG_{service.upper()}_ADDR"] = d.address(service)
            # One /metrics port per service and machine would clash between deployments.
            env[f"NORMREG_{service.upper()}_METRICS_ADDR"] = ""
        out[d.name] = env
        client: dict[str, str] = {k: env[k] for k in ("NORMREG_DATA_DIR", "NORMREG_PROFILE")}
        client |= {f"NORMREG_{s.upper()}_ADDR": d.address(s) for s in PROVINCE_SERVICES}
        d.cli_env.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in client.items()))
    return out


def guide(root: Path, members: list[Deployment]) -> str:
    functions = "\n".join(
        f'  {d.name}() {{ (set -a; . {d.cli_env}; set +a; .venv/bin/normreg "$@"); }}' for d in members
    )
    lines = [
        "normreg federation is starting (shared event log "
        f"{Settings().kafka_bootstrap or root / 'eventlog.db'}, topic prefixes "
        + ", ".join(d.prefix for d in members)
        + ")",
    ]
    for d in members:
        profile = get_profile(d.name)
        lines.append(
            f"  {profile.jurisdiction} ({d.name})  "
            + "  ".join(f"{s} {d.address(s)}" for s in d.services)
            + f"  data {d.data_dir}"
        )
    lines += [
        "Paste into a shell (one function per deployment):",
        functions,
        "A city files, the province reviews (DOC, FILING: the ids the commands print; see README, A federation):",
        "  chifeng --as drafter:zhang@市司法局 create --kind government_rule --title 赤峰市城市绿化管理办法 \\",
        "      --issuing-body 赤峰市人民政府 --prefix 赤峰市人民政府令 \\",
        "      --body '第一条 为了加强城市绿化管理，制定本办法。'",
        "  chifeng --as drafter:zhang@市司法局 submit DOC",
        "  chifeng --as reviewer:li@市司法局 reviews --state open        # review-claim, review-decide --approve",
        "  chifeng --as secretary:wang@市政府办 deliberate DOC --adopt --meeting 市政府第1次常务会议 --date TODAY",
        "  chifeng --as registrar:zhao promulgate DOC",
        "  chifeng --as registrar:zhao due-filings --within 30        # four recipients, each with its deadline",
        "  chifeng --as registrar:zhao file DOC --date TODAY --recipient 内蒙古自治区人民政府 --materials all",
        "  neimenggu --as reviewer:wu@内蒙古自治区司法厅 received-filings",
        "  neimenggu --as reviewer:wu@内蒙古自治区司法厅 register-filing FILING",
        "  neimenggu --as reviewer:wu@内蒙古自治区司法厅 decide-filing FILING --accept",
        "  neimenggu --as reviewer:wu@内蒙古自治区司法厅 missing-filings    # promulgated in a city, not filed",
        "  neimenggu --as reviewer:wu@内蒙古自治区司法厅 subordinate-report --year YEAR",
        "Stop with Ctrl-C.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_federation", description="a province and two cities on this machine")
    parser.add_argument("--root", default="var/federation", help="where the deployments keep their data")
    parser.add_argument("--base-port", type=int, default=BASE_PORT)
    args = parser.parse_args(argv)
    root = Path(args.root)
    private_dir(root)
    members = deployments(root, args.base_port)
    base = {k: v for k, v in os.environ.items() if not k.startswith("NORMREG_") or k in _SHARED}
    envs = environments(root, members, base)
    children: dict[str, subprocess.Popen[bytes]] = {}
    # Registries first: they create the topics the others read.
    for service in ("registry", "review", "search", "filing"):
        for d in members:
            if service in d.services:
                children[f"{d.name}/{service}"] = subprocess.Popen(  # noqa: S603
                    [sys.executable, "-m", f"normreg_{service}"], env=envs[d.name]
                )
    print(guide(root, members), flush=True)
    return supervise(children)


# Settings every deployment shares: the cluster it runs on, logging and tracing.
_SHARED = frozenset(
    {
        "NORMREG_KAFKA_BOOTSTRAP",
        "NORMREG_ELASTICSEARCH_URL",
        "NORMREG_LOG_FORMAT",
        "NORMREG_LOG_LEVEL",
        "NORMREG_OTLP_ENDPOINT",
        "NORMREG_SCHEDULER_INTERVAL_S",
    }
)


if __name__ == "__main__":
    sys.exit(main())
