#!/usr/bin/env bash
# Stop what infra-up.sh started, by pid (SIGTERM, wait, then SIGKILL), and remove the
# pid files. The download cache is never touched.
#
# Usage: deploy/local/infra-down.sh [kafka|elasticsearch|hydra|postgres|all] [--purge]
#   --purge  also delete the infra dir (configs, data, logs) so the next infra-up
#            starts from empty topics and indices.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"

TARGET=all
PURGE=0
for arg in "$@"; do
  case "$arg" in
    --purge) PURGE=1 ;;
    kafka | elasticsearch | hydra | postgres | all) TARGET="$arg" ;;
    es) TARGET=elasticsearch ;;
    pg) TARGET=postgres ;;
    -h | --help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "usage: $0 [kafka|elasticsearch|hydra|postgres|all] [--purge]" ;;
  esac
done

if [[ ! -d "$INFRA_DIR" ]]; then
  log "nothing to do: $INFRA_DIR does not exist"
  exit 0
fi
exec 9>"$INFRA_DIR/.lock"
flock -w 300 9 || die "another infra-up/down holds $INFRA_DIR/.lock"

# Kafka gets a generous grace period: a clean shutdown avoids log recovery next start.
[[ "$TARGET" == all || "$TARGET" == kafka ]] && stop_pid "$KAFKA_PID_FILE" "$KAFKA_PID_MARKER" kafka 60
[[ "$TARGET" == all || "$TARGET" == elasticsearch ]] && stop_pid "$ES_PID_FILE" "$ES_PID_MARKER" elasticsearch 60
[[ "$TARGET" == all || "$TARGET" == hydra ]] && stop_pid "$HYDRA_PID_FILE" "$HYDRA_PID_MARKER" hydra 10
if [[ "$TARGET" == all || "$TARGET" == postgres ]]; then stop_postgres; fi

if ((PURGE)); then
  # Only ever delete a directory infra-up created (marker file), never e.g. "/" by a
  # mis-set NORMREG_INFRA_DIR.
  [[ -f "$INFRA_DIR/.normreg-infra" ]] || die "$INFRA_DIR has no .normreg-infra marker; not purging"
  if [[ "$TARGET" == all ]]; then
    log "purging $INFRA_DIR"
    rm -rf "$INFRA_DIR"
    exit 0
  fi
  case "$TARGET" in
    kafka) dir="$KAFKA_DIR" ;;
    elasticsearch) dir="$ES_DIR" ;;
    hydra) dir="$HYDRA_DIR" ;;
    postgres) dir="$PG_DIR" ;;
  esac
  log "purging $dir"
  rm -rf "$dir"
fi

if pid_of "$KAFKA_PID_FILE" "$KAFKA_PID_MARKER" >/dev/null || pid_of "$ES_PID_FILE" "$ES_PID_MARKER" >/dev/null \
  || pid_of "$HYDRA_PID_FILE" "$HYDRA_PID_MARKER" >/dev/null || pid_of "$PG_PID_FILE" "$PG_PID_MARKER" >/dev/null; then
  write_env  # something still runs: keep only its address
else
  rm -f "$ENV_FILE"
fi
