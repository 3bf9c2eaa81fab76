"""Fault tests: real processes killed, real servers stopped, then everything must be there once.

Full by default (`make faults`, and inside `make test`): 3 to 5 kills of the registry, 30 s outages
of Kafka and of Elasticsearch; about 2.5 minutes on a 2-core machine; then two registries on one
PostgreSQL killed in turn (3 kills, about 1 minute) and PostgreSQL stopped under a registry (about
25 s), and SIGTERM to each service under load on the embedded backends (about 25 s, the same in
both variants). NORMREG_FAULTS_QUICK=1 runs the short variant: one kill, 15 s outages, 2 kills of the two
registries. NORMREG_FAULTS_SEED changes the moments of the kills and the order of the replayed events.

They stop and start the Kafka, Elasticsearch and PostgreSQL of NORMREG_INFRA_DIR (default var/infra):
run them where nothing else uses those servers at the same time.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.cluster import Cluster, Infra


@dataclass(frozen=True)
class Plan:
    quick: bool
    kills: int
    outage_s: float
    seed: int


def plan() -> Plan:
    seed = int(os.environ.get("NORMREG_FAULTS_SEED", "20260302"))
    if os.environ.get("NORMREG_FAULTS_QUICK") == "1":
        return Plan(quick=True, kills=1, outage_s=15.0, seed=seed)
    return Plan(quick=False, kills=random.Random(seed).randint(3, 5), outage_s=30.0, seed=seed)


@pytest.fixture
def faults() -> Plan:
    return plan()


@pytest.fixture
def infra() -> Infra:
    return Infra()


@pytest.fixture
async def cluster(tmp_path: Path, kafka_bootstrap: str, elasticsearch_url: str) -> AsyncIterator[Cluster]:
    c = Cluster(tmp_path, kafka_bootstrap, elasticsearch_url)
    try:
        await c.start()
        yield c
    finally:
        # Shown by pytest when the test failed: what the services said last.
        print(c.logs())
        await c.close()
