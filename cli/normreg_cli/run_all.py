"""`make run`: the whole system on this machine, one process per service, sharing the data folder.

With NORMREG_KAFKA_BOOTSTRAP / NORMREG_ELASTICSEARCH_URL set, the same services use Kafka and
Elasticsearch instead of the embedded event log and index.

Plaintext on loopback by default. `--tls` (`make run-tls`, or NORMREG_RUN_TLS=1) makes a throw-away
CA under <data_dir>/tls, gives each service a certificate signed by it, requires client certificates
(mutual TLS) and writes cli.env there: the settings under which the CLI speaks TLS too.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from normreg_common.devca import DevCA
from normreg_common.files import private_dir
from normreg_common.settings import Settings
from normreg_portal.settings import PortalSettings
from normreg_search.processes import process_count

from normreg_cli.children import supervise

# The portal last: it only reads through the others.
SERVICES = ("registry", "review", "search", "filing", "portal")
CLI_IDENTITY = "cli"
# Each service's /metrics when NORMREG_<SERVICE>_METRICS_ADDR is unset.
METRICS_ADDRS = {
    "registry": "127.0.0.1:9461",
    "review": "127.0.0.1:9462",
    "search": "127.0.0.1:9463",
    "filing": "127.0.0.1:9464",
}


def _host(address: str) -> str:
    host = address.rpartition(":")[0].strip("[]")
    return host if host not in ("", "0.0.0.0", "::") else "localhost"  # noqa: S104 - reads, binds nothing


def tls_environments(settings: Settings) -> tuple[dict[str, dict[str, str]], Path]:
    """Per service, the NORMREG_TLS_* variables of its certificate; and the CLI's env file."""
    directory = settings.data_dir / "tls"
    ca = DevCA(directory)
    # The CLI's certificate, for mutual TLS; of the services only the portal calls the others.
    cli = ca.issue(CLI_IDENTITY)
    client = {
        "NORMREG_TLS_CA_FILE": str(ca.cert_file.resolve()),
        "NORMREG_TLS_CLIENT_CERT_FILE": str(cli.cert_file.resolve()),
        "NORMREG_TLS_CLIENT_KEY_FILE": str(cli.key_file.resolve()),
    }
    services: dict[str, dict[str, str]] = {}
    for name in SERVICES:
        host = _host(getattr(settings, f"{name}_addr"))
        issued = ca.issue(name, hosts=tuple(dict.fromkeys(("localhost", "127.0.0.1", "::1", host))))
        services[name] = {
            **client,
            "NORMREG_TLS_CLIENT_CA_FILE": str(ca.cert_file.resolve()),
            "NORMREG_TLS_CERT_FILE": str(issued.cert_file.resolve()),
            "NORMREG_TLS_KEY_FILE": str(issued.key_file.resolve()),
            # A service calling another (the portal) shows its own name, not the CLI's.
            "NORMREG_TLS_CLIENT_CERT_FILE": str(issued.cert_file.resolve()),
            "NORMREG_TLS_CLIENT_KEY_FILE": str(issued.key_file.resolve()),
        }
    cli_env = directory / "cli.env"
    cli_env.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in client.items()))
    return services, cli_env


def _search_processes(settings: Settings) -> str:
    count = process_count(settings)
    return "1 process" if count == 1 else f"{count} processes: 1 writes the index, {count - 1} read it"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_all", description="the whole normreg system on this machine")
    parser.add_argument("--tls", action="store_true", help="TLS everywhere, with a throw-away CA under <data_dir>/tls")
    args = parser.parse_args(argv)
    for name, address in METRICS_ADDRS.items():
        os.environ.setdefault(f"NORMREG_{name.upper()}_METRICS_ADDR", address)
    settings = PortalSettings()
    private_dir(settings.data_dir)
    # Create the development signing keys once, before the processes race to create them.
    settings.token_codec()
    settings.federation_signer()
    use_tls = args.tls or os.environ.get("NORMREG_RUN_TLS", "") in ("1", "true", "yes")
    extra: Mapping[str, Mapping[str, str]] = {}
    if use_tls:
        extra, cli_env = tls_environments(settings)
        transport = (
            f"TLS with client certificates (mutual TLS); throw-away CA {cli_env.parent / 'ca.pem'}\n"
            f"  CLI       set -a; . {cli_env}; set +a   (then .venv/bin/normreg speaks TLS)"
        )
    elif settings.server_tls() is not None:
        transport = f"TLS, certificate {settings.tls_cert_file}"
    else:
        transport = "PLAINTEXT on loopback (development only: `make run-tls` for TLS)"
    children: dict[str, subprocess.Popen[bytes]] = {}
    for name in SERVICES:
        env = {**os.environ, **extra.get(name, {})}
        children[name] = subprocess.Popen([sys.executable, "-m", f"normreg_{name}"], env=env)  # noqa: S603
    backends = (
        f"event log {'Kafka ' + settings.kafka_bootstrap if settings.kafka_bootstrap else settings.event_log_path}\n"
        f"  index     {'Elasticsearch ' + settings.elasticsearch_url if settings.elasticsearch_url else 'embedded'}"
    )
    scheme = "https" if use_tls or settings.tls_cert_file else "http"
    metrics = "".join(
        f"  {name:<9} {scheme}://{address}/metrics\n" for name in SERVICES if (address := settings.metrics_addr(name))
    )
    tracing = f"OTLP {settings.otlp_endpoint}" if settings.otlp_endpoint else "off (set NORMREG_OTLP_ENDPOINT)"
    print(
        "normreg is starting\n"
        f"  registry  {settings.registry_addr}\n"
        f"  review    {settings.review_addr}\n"
        f"  search    {settings.search_addr}   ({_search_processes(settings)})\n"
        f"  filing    {settings.filing_addr}   (the recipient's filing review, 备案审查)\n"
        f"  portal    {scheme}://{settings.portal_addr}/   (the public's website)\n"
        f"  transport {transport}\n"
        f"metrics\n{metrics}"
        f"  traces    {tracing}\n"
        f"  data      {settings.data_dir.resolve()}\n  {backends}\n"
        "Try: .venv/bin/normreg --as drafter:alice@市司法局 create --kind normative_document --title 测试办法 \\\n"
        "       --issuing-body 赤峰市人民政府 --prefix 赤政规 --body '第一条 测试。'\n"
        "     .venv/bin/normreg search 测试\n"
        "Stop with Ctrl-C.",
        flush=True,
    )
    return supervise(children)


if __name__ == "__main__":
    sys.exit(main())
