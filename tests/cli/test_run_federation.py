"""`make run-federation`'s configuration: three deployments that trust each other's keys, read each
other's streams under their prefixes, and share nothing but the event log."""

from __future__ import annotations

from pathlib import Path

from normreg_cli import run_federation
from normreg_common.federation import public_key_text
from normreg_common.settings import Settings


def settings_of(env: dict[str, str]) -> Settings:
    return Settings(**{k.removeprefix("NORMREG_").lower(): v for k, v in env.items() if k.startswith("NORMREG_")})


def test_each_deployment_has_its_own_folder_prefix_and_key_and_believes_only_the_others(tmp_path: Path) -> None:
    members = run_federation.deployments(tmp_path, tag="t")
    envs = run_federation.environments(tmp_path, members, {"PATH": "/usr/bin"})
    settings = {name: settings_of(env) for name, env in envs.items()}
    assert sorted(settings) == ["chifeng", "neimenggu", "wuhai"]
    keys = {name: public_key_text(s.federation_signer()) for name, s in settings.items()}
    assert len(set(keys.values())) == 3
    assert len({s.data_dir for s in settings.values()}) == 3
    assert {s.event_log_path for s in settings.values()} == {tmp_path / "eventlog.db"}
    for name, s in settings.items():
        assert s.topics_prefix == f"t{name}."
        assert s.jurisdiction_profile().name == name
        others = sorted(set(settings) - {name})
        assert dict(s.peers()) == {o: f"t{o}." for o in others}
        profile = s.jurisdiction_profile()
        assert {o: profile.keys_of(o) for o in others} == {o: (keys[o],) for o in others}
        assert profile.keys_of(name) == ()
    # Every service of every deployment on a port of its own.
    ports = [s.ports[service] for s in members for service in s.services]
    assert len(set(ports)) == len(ports)
    assert [m.name for m in members if "filing" in m.services] == ["neimenggu"]


def test_the_guide_gives_one_shell_function_per_deployment_reading_its_cli_env(tmp_path: Path) -> None:
    members = run_federation.deployments(tmp_path)
    run_federation.environments(tmp_path, members, {})
    text = run_federation.guide(tmp_path, members)
    for m in members:
        assert f'{m.name}() {{ (set -a; . {m.cli_env}; set +a; .venv/bin/normreg "$@"); }}' in text
        env = dict(line.split("=", 1) for line in m.cli_env.read_text().splitlines())
        assert env["NORMREG_DATA_DIR"] == str(m.data_dir)
        assert env["NORMREG_REGISTRY_ADDR"] == m.address("registry")
    assert "register-filing" in text and "subordinate-report" in text
