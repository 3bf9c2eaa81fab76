#!/usr/bin/env bash
# Run Kafka's own command-line tools (from the jars fetched by fetch-kafka.sh) against
# the broker started by infra-up.sh. --bootstrap-server is added from infra.env unless
# you pass one yourself.
#
# Usage: deploy/local/kafka-console.sh consumer|producer|topics|groups <tool args...>
#   deploy/local/kafka-console.sh topics --list
#   deploy/local/kafka-console.sh producer --topic t --property parse.key=true --property key.separator=:
#   deploy/local/kafka-console.sh consumer --topic normreg.documents --from-beginning \
#       --max-messages 5 --property print.key=true
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -ge 1 ]] || die "usage: $0 consumer|producer|topics|groups <args...>"
tool="$1"; shift
case "$tool" in
  consumer) main="$KAFKA_MAIN_CONSUMER" ;;
  producer) main="$KAFKA_MAIN_PRODUCER" ;;
  topics) main="$KAFKA_MAIN_TOPICS" ;;
  groups) main="$KAFKA_MAIN_GROUPS" ;;
  *) die "unknown tool '$tool' (consumer|producer|topics|groups)" ;;
esac

args=("$@")
if [[ " $* " != *" --bootstrap-server "* ]]; then
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE not found: run deploy/local/infra-up.sh kafka first"
  bootstrap="$(read_kv "$ENV_FILE" NORMREG_KAFKA_BOOTSTRAP)"
  [[ -n "$bootstrap" ]] || die "no NORMREG_KAFKA_BOOTSTRAP in $ENV_FILE: is Kafka up?"
  args=(--bootstrap-server "$bootstrap" "${args[@]}")
fi

libs="$(NORMREG_INFRA_QUIET=1 "$LOCAL_DIR/fetch-kafka.sh")"   # no network when cached
log4j="$KAFKA_DIR/tools-log4j2.properties"
[[ -f "$log4j" ]] || log4j="$libs/../tools-log4j2.properties"
if [[ ! -f "$log4j" ]]; then
  # Warnings only, on stderr: stdout carries the records.
  printf '%s\n' 'appender.err.type = Console' 'appender.err.name = stderr' \
    'appender.err.target = SYSTEM_ERR' 'appender.err.layout.type = PatternLayout' \
    'appender.err.layout.pattern = [%d] %p %m (%c)%n' 'rootLogger.level = WARN' \
    'rootLogger.appenderRef.err.ref = stderr' >"$log4j"
fi

exec "${NORMREG_KAFKA_JAVA:-java}" -Xmx256m -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="$log4j" -cp "$libs/*" "$main" "${args[@]}"
