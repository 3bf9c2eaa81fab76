"""The rule for tests that need a real server: skipped with the reason on a laptop, a failure in CI."""

from __future__ import annotations

import pytest

from tests import conftest


def test_a_missing_server_fails_when_real_servers_are_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(conftest._REAL_SERVERS, "NORMREG_KAFKA_BOOTSTRAP", "")
    monkeypatch.setattr(conftest, "REAL_SERVERS_REQUIRED", True)
    with pytest.raises(pytest.fail.Exception, match="a real kafka is required"):
        conftest._real_server_url("kafka")


def test_a_missing_server_skips_with_the_reason_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(conftest._REAL_SERVERS, "NORMREG_ELASTICSEARCH_URL", "")
    monkeypatch.setattr(conftest, "REAL_SERVERS_REQUIRED", False)
    with pytest.raises(pytest.skip.Exception, match="make infra-up"):
        conftest._real_server_url("elasticsearch")


@pytest.mark.parametrize(
    ("env", "required"),
    [
        ({"CI": "true"}, True),
        ({"NORMREG_REQUIRE_REAL_SERVERS": "1"}, True),
        ({"CI": "false"}, False),
        ({}, False),
    ],
)
def test_ci_or_make_test_makes_real_servers_required(env: dict[str, str], required: bool) -> None:
    assert conftest.real_servers_required(env) is required
