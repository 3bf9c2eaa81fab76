"""Checks deploy/observability/ against the metrics the services really export.

    python deploy/check_observability.py METRICS_JSON

METRICS_JSON lists the series names the code registers (written by `--export` run in the project's
virtualenv, where normreg_common imports). Every series a rule or a panel reads must be one of them
or a recording rule: a renamed metric would otherwise leave an alert silent for good. Also: every
alert has a severity and a summary, the alerts operators asked for exist, the dashboard's panels
have unique ids, do not overlap and query the dashboard's data source.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent / "observability"
SERIES = re.compile(r"\b(?:normreg|grpc_server)[a-zA-Z0-9_:]*")
REQUIRED_ALERTS = {
    "NormregOutboxStuck": "outbox age",
    "NormregConsumerLag": "consumer lag",
    "NormregFilingsOverdue": "overdue filings",
    "NormregServerErrors": "error rate (gRPC's 5xx)",
}
SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "gauge": ("",),
    "summary": ("_count", "_sum"),
}


def export(path: str) -> None:
    from normreg_common import metrics  # noqa: F401 - registers the metrics
    from prometheus_client import REGISTRY

    names = sorted(
        family.name + suffix
        for family in REGISTRY.collect()
        if family.name.startswith(("normreg", "grpc_server"))
        for suffix in SUFFIXES.get(family.type, ("",))
    )
    Path(path).write_text(json.dumps(names, indent=1))


def exprs_of_rules(rules: dict[str, Any], problems: list[str]) -> tuple[list[str], set[str], set[str]]:
    exprs, recorded, alerts = [], set(), set()
    for group in rules.get("groups", []):
        for rule in group.get("rules", []):
            exprs.append(rule["expr"])
            if "record" in rule:
                recorded.add(rule["record"])
                continue
            name = rule.get("alert", "?")
            alerts.add(name)
            if rule.get("labels", {}).get("severity") not in {"critical", "warning"}:
                problems.append(f"alert {name}: severity must be critical or warning")
            if not rule.get("annotations", {}).get("summary"):
                problems.append(f"alert {name}: no summary annotation")
    return exprs, recorded, alerts


def exprs_of_dashboard(dashboard: dict[str, Any], problems: list[str]) -> list[str]:
    exprs: list[str] = []
    ids: set[int] = set()
    cells: dict[tuple[int, int], int] = {}
    for panel in dashboard["panels"]:
        pid = panel["id"]
        if pid in ids:
            problems.append(f"panel id {pid} used twice")
        ids.add(pid)
        pos = panel["gridPos"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                if (x, y) in cells:
                    problems.append(f"panel {pid} overlaps panel {cells[(x, y)]}")
                    break
                cells[(x, y)] = pid
        if pos["x"] + pos["w"] > 24:
            problems.append(f"panel {pid} is wider than the grid")
        if panel["type"] == "row":
            continue
        if panel.get("datasource", {}).get("uid") != "${datasource}":
            problems.append(f"panel {pid} ({panel['title']}) does not use the dashboard's data source")
        if not panel.get("targets"):
            problems.append(f"panel {pid} ({panel['title']}) has no query")
        exprs.extend(t["expr"] for t in panel.get("targets", []))
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            exprs.append(variable["definition"])
    return exprs


def main(metrics_json: str) -> int:
    import yaml  # the deploy-check tools' environment has it; the project's does not need it

    exported = set(json.loads(Path(metrics_json).read_text()))
    problems: list[str] = []
    rules = yaml.safe_load((HERE / "prometheus-rules.yaml").read_text())
    rule_exprs, recorded, alerts = exprs_of_rules(rules, problems)
    dashboard = json.loads((HERE / "grafana-dashboard.json").read_text())
    panel_exprs = exprs_of_dashboard(dashboard, problems)
    for missing in sorted(set(REQUIRED_ALERTS) - alerts):
        problems.append(f"no alert {missing} ({REQUIRED_ALERTS[missing]})")
    known = exported | recorded
    for where, exprs in (("rules", rule_exprs), ("dashboard", panel_exprs)):
        for expr in exprs:
            for name in SERIES.findall(expr):
                if name not in known:
                    problems.append(f"{where}: {name} is neither exported nor recorded: {expr.strip()[:80]}")
    used = {name for expr in rule_exprs + panel_exprs for name in SERIES.findall(expr)}
    print(
        "\n".join(problems)
        or f"ok: {len(alerts)} alerts, {len(recorded)} recording rules, {len(dashboard['panels'])} panels; "
        f"{len(used)} series read, each exported by the services or recorded"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--export"]:
        export(sys.argv[2])
        sys.exit(0)
    sys.exit(main(sys.argv[1]))
