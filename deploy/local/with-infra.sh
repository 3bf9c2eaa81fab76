#!/usr/bin/env bash
# Runs a command with a real Kafka, Elasticsearch, OpenID provider (Ory Hydra) and PostgreSQL: starts them (fetching on first use), exports
# their addresses, runs the command, and stops what it started even when the command fails.
# A server that cannot start fails the run: tests against real servers are never skipped here.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
env_file="${NORMREG_INFRA_DIR:-$repo/var/infra}/infra.env"

# shellcheck source=lib.sh
source "$here/lib.sh"
# Stop on exit only what this run started: servers someone else left running stay up.
ours=()
pid_of "$KAFKA_PID_FILE" "$KAFKA_PID_MARKER" >/dev/null || ours+=(kafka)
pid_of "$ES_PID_FILE" "$ES_PID_MARKER" >/dev/null || ours+=(elasticsearch)
pid_of "$HYDRA_PID_FILE" "$HYDRA_PID_MARKER" >/dev/null || ours+=(hydra)
pid_of "$PG_PID_FILE" "$PG_PID_MARKER" >/dev/null || ours+=(postgres)
cleanup() {
  if [ "${NORMREG_KEEP_INFRA:-0}" != 1 ]; then
    for server in "${ours[@]}"; do
      bash "$here/infra-down.sh" "$server" >/dev/null 2>&1 || true
    done
  fi
}
trap cleanup EXIT

start=$(date +%s)
if ! bash "$here/infra-up.sh" all; then
  echo "with-infra: Kafka, Elasticsearch, Hydra or PostgreSQL did not start; the tests that need them cannot run" >&2
  exit 1
fi
echo "with-infra: servers ready in $(( $(date +%s) - start ))s" >&2
set -a
# shellcheck disable=SC1090
. "$env_file"
set +a
# Tests that need a real server fail, rather than skip, when it is missing.
export NORMREG_REQUIRE_REAL_SERVERS=1
"$@"
