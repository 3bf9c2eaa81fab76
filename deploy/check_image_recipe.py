"""Replays the Python part of deploy/Dockerfile without Docker, then starts the services from it.

    python3.11 deploy/check_image_recipe.py [--keep]

There is no Docker engine on the development machines, so this is how the image recipe is tested:

1. Each stage of the Dockerfile gets a directory of its own under a temporary root, standing in for
   the stage's filesystem. ARG, ENV, WORKDIR, COPY (from the context or from a stage) and RUN are
   replayed in order, with the container's absolute paths (/opt, /tmp, /src, /app, /data) rewritten
   into the stage's directory. `python` is the interpreter running this script (the image's is
   python:3.11-slim). A RUN is executed only if each of its `&&` steps is python, pip or mkdir;
   any other (user creation, chown) needs root inside a container and is reported as skipped.
   COPY sources must be let through by deploy/Dockerfile.dockerignore.
2. In the runtime stage, with only the image's environment (no NORMREG_* of the caller): the
   service packages import from the copied source roots, the stub generators are absent, each
   service starts with ENTRYPOINT + its module on a loopback port (embedded backends, a data
   directory of its own), deploy/healthcheck.py sees SERVING, SIGTERM stops it with status 0, and
   nothing outside the data directory and /tmp was written (the root filesystem can be read-only).

Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
IGNOREFILE = ROOT / "deploy" / "Dockerfile.dockerignore"
# Absolute paths of the image that the recipe uses; each is moved under the stage's directory.
CONTAINER_PATHS = re.compile(r"(?<![\w.$/-])/(opt|tmp|src|app|data)(?=/|\b)")
RUNNABLE = {"python", "pip", "mkdir"}
IMAGE_TMP = "/tmp"  # noqa: S108 - the image's /tmp, which lives under the stage's directory
SERVICES = {
    "registry": "normreg_registry",
    "review": "normreg_review",
    "search": "normreg_search",
    "filing": "normreg_filing",
    "portal": "normreg_portal",
}
# Services that speak HTTP: the health check asks GET /healthz.
HTTP_SERVICES = {"portal"}


@dataclass
class Stage:
    name: str
    base: str
    root: Path
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    meta: dict[str, str] = field(default_factory=dict)

    def path(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")

    def rewrite(self, text: str) -> str:
        return CONTAINER_PATHS.sub(lambda m: f"{self.root}/{m.group(1)}", text)


def fail(message: str) -> None:
    print(f"FAIL: {message}")
    raise SystemExit(1)


def instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) with continuation lines joined and comment lines dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        result.append((keyword.upper(), rest.strip()))
    return result


def substitute(text: str, values: dict[str, str]) -> str:
    """Docker's ${VAR} / $VAR substitution (enough for this Dockerfile: no modifiers)."""
    return re.sub(
        r"\$\{(\w+)\}|\$(\w+)", lambda m: values.get(m.group(1) or m.group(2), m.group(0) if m.group(1) else ""), text
    )


def key_values(text: str) -> dict[str, str]:
    return {k: v for k, _, v in (item.partition("=") for item in shlex.split(text))}


def ignore_rules() -> tuple[list[str], list[str]]:
    excluded: list[str] = []
    included: list[str] = []
    for line in IGNOREFILE.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        (included if line.startswith("!") else excluded).append(line.lstrip("!").rstrip("/"))
    return excluded, included


def check_in_context(source: str) -> None:
    """The source must be let in by the ignore file (its rules here: `*`, then `!path` exceptions)."""
    excluded, included = ignore_rules()
    path = source.rstrip("/")
    if "*" in excluded and not any(path == inc or path.startswith(inc + "/") for inc in included):
        fail(f"COPY {source}: left out of the build context by {IGNOREFILE.name}")


def copy_tree(src: Path, dst: Path, *, from_context: bool) -> None:
    """Copies like COPY: a directory's contents into dst. The ignore file applies to the context only."""
    excluded, _ = ignore_rules()
    names = [p.removeprefix("**/") for p in excluded if p.startswith("**/")] if from_context else []

    def ignore(_dir: str, entries: list[str]) -> set[str]:
        return {e for e in entries if any(fnmatch.fnmatch(e, n) for n in names)}

    if src.is_dir():
        shutil.copytree(src, dst, symlinks=True, ignore=ignore, dirs_exist_ok=True)
    else:
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)


def copy(stage: Stage, stages: dict[str, Stage], arguments: str) -> None:
    words = shlex.split(substitute(arguments, {**stage.args, **stage.env}))
    source_stage = None
    for word in [w for w in words if w.startswith("--")]:
        if word.startswith("--from="):
            source_stage = stages[word.removeprefix("--from=")]
        words.remove(word)
    *sources, target = words
    for source in sources:
        if source_stage is None:
            check_in_context(source)
            src = ROOT / source
        else:
            src = source_stage.path(source)
        if not src.exists():
            fail(f"COPY {source}: not found")
        if target.endswith("/") or src.is_dir():
            base = target if target.startswith("/") else f"{stage.workdir}/{target}"
            dst = stage.path(base)
            dst = dst if src.is_dir() else dst / src.name
        else:
            dst = stage.path(target if target.startswith("/") else f"{stage.workdir}/{target}")
        copy_tree(src, dst, from_context=source_stage is None)
    print(f"  COPY {arguments}")


def run(stage: Stage, command: str, base_bin: Path) -> None:
    steps = [s.strip() for s in command.split("&&")]
    for step in steps:
        words = [w for w in shlex.split(step) if not re.match(r"^\w+=", w)]
        if not words or Path(words[0]).name not in RUNNABLE:
            print(f"  RUN (skipped: needs root in a container) {command[:90]}")
            return
    base_path = f"{base_bin}:/usr/local/bin:/usr/bin:/bin"
    env = {
        "HOME": str(stage.path(IMAGE_TMP)),
        "LANG": "C.UTF-8",
        "PATH": base_path,
        **{k: stage.rewrite(v) for k, v in stage.args.items()},
        **{k: stage.rewrite(v).replace("$PATH", base_path) for k, v in stage.env.items()},
    }
    cwd = stage.path(stage.workdir)
    cwd.mkdir(parents=True, exist_ok=True)
    stage.path(IMAGE_TMP).mkdir(parents=True, exist_ok=True)
    print(f"  RUN {command[:110]}{' …' if len(command) > 110 else ''}", flush=True)
    started = time.monotonic()
    done = subprocess.run(  # noqa: S603 - the Dockerfile's own commands, python/pip/mkdir only
        ["/bin/sh", "-c", stage.rewrite(command)], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n")
        fail(f"RUN exited {done.returncode}: {command}")
    print(f"    ok ({time.monotonic() - started:.0f}s)")


def replay(workspace: Path) -> dict[str, Stage]:
    if sys.version_info[:2] != (3, 11):
        print(f"note: the image runs Python 3.11; this replay runs {sys.version.split()[0]}")
    base_bin = workspace / "base-bin"
    base_bin.mkdir()
    for name in ("python", "python3"):
        (base_bin / name).symlink_to(sys.executable)
    stages: dict[str, Stage] = {}
    global_args: dict[str, str] = {}
    stage: Stage | None = None
    for keyword, arguments in instructions(DOCKERFILE.read_text()):
        if keyword == "FROM":
            words = arguments.split()
            base = substitute(words[0], global_args)
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else str(len(stages))
            stage = Stage(name, base, workspace / f"stage-{name}")
            stages[name] = stage
            print(f"FROM {base} AS {name}  ->  {stage.root}")
            continue
        if stage is None:
            if keyword == "ARG":
                global_args.update(key_values(arguments))
            continue
        if keyword == "ARG":
            stage.args.update(key_values(arguments))
        elif keyword == "ENV":
            known = {"PATH": "$PATH", **stage.args, **stage.env}  # $PATH: the base image's, filled in later
            stage.env.update({k: substitute(v, known) for k, v in key_values(arguments).items()})
        elif keyword == "WORKDIR":
            stage.workdir = arguments
            stage.path(arguments).mkdir(parents=True, exist_ok=True)
        elif keyword == "COPY":
            copy(stage, stages, arguments)
        elif keyword == "RUN":
            run(stage, arguments, base_bin)  # the shell expands $VARS, from ARG and ENV
        else:
            stage.meta[keyword] = substitute(arguments, stage.args)
    return stages


def snapshot(root: Path, skip: set[Path]) -> dict[str, float]:
    files: dict[str, float] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if Path(dirpath, d) not in skip]
        for f in filenames:
            p = Path(dirpath, f)
            files[str(p)] = p.lstat().st_mtime
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smoke(runtime: Stage) -> None:
    print(f"runtime checks in {runtime.root}")
    base_path = "/usr/local/bin:/usr/bin:/bin"
    env = {"HOME": "/nonexistent", "LANG": "C.UTF-8", "TMPDIR": str(runtime.path(IMAGE_TMP))}
    env.update({k: runtime.rewrite(v).replace("$PATH", base_path) for k, v in runtime.env.items()})
    runtime.path(IMAGE_TMP).mkdir(parents=True, exist_ok=True)
    python = shutil.which("python", path=env["PATH"]) or "python"
    if not python.startswith(str(runtime.root)):
        fail(f"`python` on the image's PATH is not the image's virtualenv: {python}")
    for entry in env.get("PYTHONPATH", "").split(":"):
        if not Path(entry).is_dir():
            fail(f"PYTHONPATH entry missing in the image: {entry}")

    probe = (
        "import importlib, json, sys\n"
        "mods = ['normreg_registry.bootstrap', 'normreg_review.bootstrap', 'normreg_search.bootstrap',"
        " 'normreg_filing.bootstrap',"
        " 'normreg_cli.main', 'normreg.v1.registry_service_pb2_grpc']\n"
        "files = {m: importlib.import_module(m).__file__ for m in mods}\n"
        "try:\n    import grpc_tools\n    tools = True\nexcept ImportError:\n    tools = False\n"
        "print(json.dumps({'files': files, 'grpc_tools': tools}))\n"
    )
    done = subprocess.run([python, "-c", probe], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        fail(f"imports in the runtime stage:\n{done.stderr}")
    result = json.loads(done.stdout)
    for module, path in result["files"].items():
        if not path.startswith(str(runtime.path("/app"))):
            fail(f"{module} came from {path}, not from the image's /app")
    if result["grpc_tools"]:
        fail("grpc_tools is importable in the runtime stage: the generators should stay in the build stage")
    print(f"  ok: {len(result['files'])} modules import from /app; grpc_tools absent from the runtime")

    entrypoint = json.loads(runtime.meta["ENTRYPOINT"])
    default_cmd = json.loads(runtime.meta["CMD"])
    if default_cmd != [SERVICES["registry"]]:
        fail(f"CMD is {default_cmd}, expected the registry module")
    data = runtime.path("/data")
    before = snapshot(runtime.root, {data, runtime.path(IMAGE_TMP)})
    healthcheck = str(runtime.path("/app/healthcheck.py"))
    for service, module in SERVICES.items():
        port = free_port()
        service_env = {
            **env,
            "NORMREG_DATA_DIR": str(data / service),
            f"NORMREG_{service.upper()}_ADDR": f"127.0.0.1:{port}",
            "NORMREG_JWT_KEY": secrets.token_urlsafe(48),
            "NORMREG_SCHEDULER_INTERVAL_S": "3600",
        }
        argv = [shutil.which(entrypoint[0], path=env["PATH"]) or entrypoint[0], *entrypoint[1:], module]
        log = runtime.path(IMAGE_TMP) / f"{service}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(argv, env=service_env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        try:
            deadline = time.monotonic() + 60
            status = "not started"
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    fail(f"{module} exited {proc.returncode}:\n{log.read_text()[-3000:]}")
                check = subprocess.run(  # noqa: S603
                    [python, healthcheck, f"127.0.0.1:{port}", "--timeout", "1"]
                    + (["--http"] if service in HTTP_SERVICES else []),
                    env=env,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                status = (check.stdout or check.stderr).strip()
                if check.returncode == 0:
                    break
                time.sleep(0.5)
            else:
                fail(f"{module}: no SERVING within 60 s (last: {status})\n{log.read_text()[-3000:]}")
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if code != 0:
            fail(f"{module} exited {code} after SIGTERM:\n{log.read_text()[-3000:]}")
        dbs = sorted(p.name for p in (data / service).glob("*.db"))
        print(f"  ok: {' '.join(argv[-3:])}: healthcheck said '{status}', SIGTERM -> exit 0, wrote {dbs}")
    after = snapshot(runtime.root, {data, runtime.path(IMAGE_TMP)})
    written = sorted(set(after) - set(before)) + sorted(p for p in before if p in after and after[p] != before[p])
    if written:
        fail("written outside /data and /tmp (breaks a read-only root filesystem):\n  " + "\n  ".join(written[:20]))
    print("  ok: nothing written outside /data and /tmp")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    workspace = Path(tempfile.mkdtemp(prefix="normreg-image-recipe-"))
    try:
        stages = replay(workspace)
        runtime = list(stages.values())[-1]
        smoke(runtime)
        print("image recipe: all checks passed")
        return 0
    finally:
        if args.keep:
            print(f"kept {workspace}")
        else:
            shutil.rmtree(workspace, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
