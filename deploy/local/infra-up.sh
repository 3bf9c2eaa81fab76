#!/usr/bin/env bash
# Start a real Kafka broker and/or a real Elasticsearch node on 127.0.0.1 for tests,
# without Docker. Idempotent: servers still alive from a previous run are reused.
#
# Usage: deploy/local/infra-up.sh [kafka|elasticsearch|hydra|postgres|all]      (default: all)
# Result: $NORMREG_INFRA_DIR/infra.env (default <repo>/var/infra/infra.env) with
#         NORMREG_KAFKA_BOOTSTRAP=127.0.0.1:<port>
#         NORMREG_ELASTICSEARCH_URL=http://127.0.0.1:<port>
#         NORMREG_INFRA_KAFKA_SSL_BOOTSTRAP / _SASL_SSL_BOOTSTRAP: the broker over TLS (and SCRAM)
#         NORMREG_INFRA_OIDC_ISSUER=https://127.0.0.1:<port>   (Ory Hydra, an OpenID provider)
#         NORMREG_INFRA_CA_FILE: the private CA of those TLS ports
#         NORMREG_POSTGRES_URL=postgresql://postgres:<password>@127.0.0.1:<port>/normreg
# Env:    NORMREG_INFRA_DIR, NORMREG_INFRA_CACHE, NORMREG_INFRA_TIMEOUT (s, default 180),
#         NORMREG_KAFKA_JAVA (java binary for Kafka, default: java on PATH, 17+),
#         NORMREG_ES_JAVA_HOME (JDK >= 21 for Elasticsearch; default: newest in /usr/lib/jvm)
#         NORMREG_ES_HEAP (the node's JVM heap, default 512m: enough for the tests; a million
#           documents are indexed with 2g, a production node's heap is sized in docs/capacity.md)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=postgres.sh
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"

TARGET="${1:-all}"
case "$TARGET" in
  kafka | elasticsearch | hydra | postgres | all) ;;
  es) TARGET=elasticsearch ;;
  pg) TARGET=postgres ;;
  -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
  *) die "usage: $0 [kafka|elasticsearch|hydra|postgres|all]" ;;
esac
TIMEOUT="${NORMREG_INFRA_TIMEOUT:-180}"

mkdir -p "$INFRA_DIR"
# infra-down --purge only deletes a directory carrying this marker.
touch "$INFRA_DIR/.normreg-infra"
# Serialise concurrent infra-up/down calls (e.g. parallel CI steps) on the same dir.
# The servers are started with fd 9 closed, otherwise they would hold the lock forever.
exec 9>"$INFRA_DIR/.lock"
flock -w "$((TIMEOUT + 60))" 9 || die "another infra-up/down holds $INFRA_DIR/.lock"

# free_ports N [PREFERRED...]: reuse the preferred ports if they are all bindable (so a
# restart keeps the same addresses), otherwise let the kernel pick N distinct free ones.
free_ports() {
  python3 - "$@" <<'PY'
import socket, sys
n, preferred = int(sys.argv[1]), [int(p) for p in sys.argv[2:] if p]
def bindable(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the JVM servers do
    try:
        s.bind(("127.0.0.1", port)); return True
    except OSError:
        return False
    finally:
        s.close()
if len(preferred) == n and all(bindable(p) for p in preferred):
    print(*preferred)
else:
    socks = []
    for _ in range(n):  # hold all sockets open so the ports are distinct
        s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
    print(*(s.getsockname()[1] for s in socks))
PY
}

# fail_with_log NAME LOGFILE... : print the tail of the logs and abort.
fail_with_log() {
  local name="$1" f; shift
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    echo "----- last 40 lines of $f -----" >&2
    tail -n 40 "$f" >&2
  done
  die "$name did not become ready (see logs above)"
}

# ---------------------------------------------------------------------------- Kafka
kafka_ready() {  # a real metadata round trip through the admin client
  timeout 60 "${NORMREG_KAFKA_JAVA:-java}" -Xmx128m -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN_TOPICS" \
    --bootstrap-server "127.0.0.1:$1" --list >/dev/null 2>>"$KAFKA_DIR/logs/readiness.log"
}

start_kafka() {
  KAFKA_LIBS="$("$LOCAL_DIR/fetch-kafka.sh")"
  local version java pid port cport
  version="$(cat "$KAFKA_LIBS/../VERSION")"
  java="${NORMREG_KAFKA_JAVA:-java}"
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"

  if pid="$(pid_of "$KAFKA_PID_FILE" "$KAFKA_PID_MARKER")"; then
    port="$(read_kv "$KAFKA_DIR/ports" PORT)"
    log "kafka: reusing running broker pid $pid on 127.0.0.1:$port"
    kafka_ready "$port" || fail_with_log kafka "$KAFKA_DIR/logs/server.log"
    ensure_kafka_scram_user "$port"
    return 0
  fi
  rm -f "$KAFKA_PID_FILE"

  ensure_infra_tls
  local sport saslport
  read -r port cport sport saslport < <(free_ports 4 "$(read_kv "$KAFKA_DIR/ports" PORT)" \
    "$(read_kv "$KAFKA_DIR/ports" CONTROLLER_PORT)" "$(read_kv "$KAFKA_DIR/ports" SSL_PORT)" \
    "$(read_kv "$KAFKA_DIR/ports" SASL_SSL_PORT)")
  printf 'PORT=%s\nCONTROLLER_PORT=%s\nSSL_PORT=%s\nSASL_SSL_PORT=%s\nVERSION=%s\n' \
    "$port" "$cport" "$sport" "$saslport" "$version" >"$KAFKA_DIR/ports"
  [[ -s "$KAFKA_DIR/scram-password" ]] || (umask 077 && head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$KAFKA_DIR/scram-password")

  # Static controller.quorum.voters (instead of the dynamic bootstrap.servers quorum):
  # the voter address then lives in this file, not in the metadata log, so a restart
  # on different ports after infra-down keeps working with the existing data.
  cat >"$KAFKA_DIR/server.properties" <<PROPS
# Generated by deploy/local/infra-up.sh - single combined KRaft node for tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
# Beside PLAINTEXT: TLS, and TLS with SCRAM, for the clients' security settings to be tested.
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport,SSL://127.0.0.1:$sport,SASL_SSL://127.0.0.1:$saslport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SSL://127.0.0.1:$sport,SASL_SSL://127.0.0.1:$saslport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
ssl.keystore.type=PEM
ssl.keystore.location=$INFRA_TLS_DIR/server-bundle.pem
ssl.truststore.type=PEM
ssl.truststore.location=$INFRA_TLS_DIR/ca.pem
sasl.enabled.mechanisms=$KAFKA_SCRAM_MECHANISM
listener.name.sasl_ssl.$(tr '[:upper:]' '[:lower:]' <<<"$KAFKA_SCRAM_MECHANISM").sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$KAFKA_DIR/data

num.partitions=3
# The services create their topics (with their partition count); a misspelt topic must fail, not appear.
auto.create.topics.enable=false
# One broker: every internal topic must have replication factor 1 / min ISR 1,
# otherwise consumer groups (offsets) and transactions/idempotence cannot work.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than the default 50: the first group/transaction in a test
# run does not wait for 50 partitions to be created on a 2-core machine.
offsets.topic.num.partitions=5
transaction.state.log.num.partitions=5
# Tests should not wait 3 s for the first consumer group rebalance.
group.initial.rebalance.delay.ms=0
PROPS

  # Broker log -> file (Kafka 4 logs through slf4j -> log4j2; no backend = silent).
  cat >"$KAFKA_DIR/log4j2.properties" <<PROPS
status = warn
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $KAFKA_DIR/logs/server.log
appender.file.filePattern = $KAFKA_DIR/logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
# Request/state-change chatter is useless for tests and costs disk and CPU.
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
PROPS
  # Console/admin tools: warnings only, on stderr (stdout stays clean for data).
  cat >"$KAFKA_DIR/tools-log4j2.properties" <<'PROPS'
status = warn
appender.err.type = Console
appender.err.name = stderr
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = stderr
PROPS

  # Format the log dir once (KRaft needs a cluster id); keep data across restarts.
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local cid
    cid="$("$java" -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN_STORAGE" random-uuid 2>/dev/null | tail -n1)"
    log "kafka: formatting storage, cluster id $cid"
    "$java" -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
      -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN_STORAGE" format -t "$cid" \
      -c "$KAFKA_DIR/server.properties" >"$KAFKA_DIR/logs/format.log" 2>&1 \
      || fail_with_log "kafka storage format" "$KAFKA_DIR/logs/format.log"
  fi

  log "kafka $version: starting on 127.0.0.1:$port (controller $cport)"
  # setsid: own session, so Ctrl-C / SIGHUP sent to the caller's process group (a
  # terminal, a CI step) does not take the broker down with it; infra-down stops it.
  # The JVM flags are those of Kafka's kafka-run-class.sh / kafka-server-start.sh.
  KAFKA_LAUNCHED_AT=$SECONDS
  setsid "$java" -Xms256m -Xmx512m \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_DIR/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN_BROKER" "$KAFKA_DIR/server.properties" \
    </dev/null >>"$KAFKA_DIR/logs/stdout.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$KAFKA_PID_FILE"
  KAFKA_PENDING="$pid $port"
}

# wait_kafka: block until the broker launched by start_kafka answers metadata requests.
# Split from start_kafka so that "all" can boot Elasticsearch meanwhile.
wait_kafka() {
  [[ -n "${KAFKA_PENDING:-}" ]] || return 0  # reused or not started
  local pid port deadline
  read -r pid port <<<"$KAFKA_PENDING"
  # Cheap polling first (process alive + port open), then one real metadata call.
  deadline=$((KAFKA_LAUNCHED_AT + TIMEOUT))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$KAFKA_PID_FILE"; fail_with_log kafka \
      "$KAFKA_DIR/logs/stdout.log" "$KAFKA_DIR/logs/server.log"; }
    ((SECONDS < deadline)) || { stop_pid "$KAFKA_PID_FILE" "$KAFKA_PID_MARKER" kafka 10; fail_with_log kafka \
      "$KAFKA_DIR/logs/stdout.log" "$KAFKA_DIR/logs/server.log"; }
    sleep 0.5
  done
  until kafka_ready "$port"; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$KAFKA_PID_FILE"; fail_with_log kafka \
      "$KAFKA_DIR/logs/stdout.log" "$KAFKA_DIR/logs/server.log"; }
    ((SECONDS < deadline)) || { stop_pid "$KAFKA_PID_FILE" "$KAFKA_PID_MARKER" kafka 10; fail_with_log kafka \
      "$KAFKA_DIR/logs/server.log" "$KAFKA_DIR/logs/readiness.log"; }
    sleep 1
  done
  KAFKA_PENDING=""
  ensure_kafka_scram_user "$port"
  log "kafka: ready on 127.0.0.1:$port (pid $pid)"
}

# The SCRAM account of the SASL_SSL listener, stored in the cluster metadata once per data dir.
ensure_kafka_scram_user() {
  local marker="$KAFKA_DIR/data/.scram-$KAFKA_SCRAM_USER"
  [[ -f "$marker" ]] && return 0
  timeout 60 "${NORMREG_KAFKA_JAVA:-java}" -Xmx128m -Dlog4j2.configurationFile="$KAFKA_DIR/tools-log4j2.properties" \
    -cp "$KAFKA_LIBS/*" "$KAFKA_MAIN_CONFIGS" --bootstrap-server "127.0.0.1:$1" --alter --entity-type users \
    --entity-name "$KAFKA_SCRAM_USER" \
    --add-config "$KAFKA_SCRAM_MECHANISM=[password=$(cat "$KAFKA_DIR/scram-password")]" \
    >"$KAFKA_DIR/logs/scram.log" 2>&1 || fail_with_log "kafka SCRAM user" "$KAFKA_DIR/logs/scram.log"
  touch "$marker"
}

# -------------------------------------------------------------------- Elasticsearch
es_health() {  # 200 only once the cluster has at least yellow health
  curl -fsS -o /dev/null --max-time 10 \
    "http://127.0.0.1:$1/_cluster/health?wait_for_status=yellow&timeout=5s"
}

ensure_es_user() {
  # Elasticsearch refuses to start as root: run it as a dedicated system account.
  if ((EUID == 0)); then
    id -u "$ES_USER" >/dev/null 2>&1 || {
      log "elasticsearch: creating system user $ES_USER"
      useradd --system --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "$ES_USER"
    }
    RUN_AS=(runuser -u "$ES_USER" --)
  else
    RUN_AS=()  # already unprivileged: run as ourselves
  fi
}

start_elasticsearch() {
  local cached_home version java_home pid port tport deadline es_home stamp
  cached_home="$("$LOCAL_DIR/fetch-elasticsearch.sh")"
  version="$(cat "$cached_home/../VERSION")"
  ensure_es_user

  if pid="$(pid_of "$ES_PID_FILE" "$ES_PID_MARKER")"; then
    port="$(read_kv "$ES_DIR/ports" HTTP_PORT)"
    log "elasticsearch: reusing running node pid $pid on 127.0.0.1:$port"
    es_health "$port" || fail_with_log elasticsearch "$ES_DIR/logs/normreg-local.log"
    return 0
  fi
  rm -f "$ES_PID_FILE"
  java_home="$(es_java_home)"

  # The cache usually sits under /root (mode 700), which the ES user cannot traverse.
  # Hard-link the distribution into the infra dir (instant, no extra disk) when that
  # is the case; a plain copy if the cache is on another filesystem.
  es_home="$cached_home"
  if ((${#RUN_AS[@]})) && ! "${RUN_AS[@]}" test -x "$cached_home/bin/elasticsearch"; then
    es_home="$ES_DIR/home"
    stamp="$(cat "$cached_home/../.complete")"
    if [[ "$(cat "$es_home/.cache-stamp" 2>/dev/null)" != "$stamp" ]]; then
      rm -rf "$es_home"
      mkdir -p "$ES_DIR"
      cp -al "$cached_home" "$es_home" 2>/dev/null || cp -a "$cached_home" "$es_home"
      echo "$stamp" >"$es_home/.cache-stamp"
    fi
  fi

  mkdir -p "$ES_DIR"/{config,data,logs,tmp,run}
  read -r port tport < <(free_ports 2 "$(read_kv "$ES_DIR/ports" HTTP_PORT)" \
    "$(read_kv "$ES_DIR/ports" TRANSPORT_PORT)")
  printf 'HTTP_PORT=%s\nTRANSPORT_PORT=%s\nVERSION=%s\n' "$port" "$tport" "$version" >"$ES_DIR/ports"

  # Config dir outside the distribution (ES_PATH_CONF): the cache stays pristine and
  # shared; only jvm/log4j defaults are taken from it.
  cp "$es_home/config/log4j2.properties" "$es_home/config/jvm.options" "$ES_DIR/config/"
  mkdir -p "$ES_DIR/config/jvm.options.d"
  # The integ-test-zip writes gc.log relative to the working dir: point it at logs/.
  sed -i "s#file=gc.log#file=$ES_DIR/logs/gc.log#; s#ErrorFile=hs_err_pid#ErrorFile=$ES_DIR/logs/hs_err_pid#" \
    "$ES_DIR/config/jvm.options"
  heap="${NORMREG_ES_HEAP:-512m}"
  [[ $heap =~ ^[0-9]+[mg]$ ]] || { echo "NORMREG_ES_HEAP=$heap: a size such as 512m or 2g" >&2; exit 2; }
  printf -- '-Xms%s\n-Xmx%s\n' "$heap" "$heap" >"$ES_DIR/config/jvm.options.d/heap.options"

  {
    cat <<YML
# Generated by deploy/local/infra-up.sh - single node on loopback for tests.
cluster.name: normreg-local
node.name: normreg-local-1
path.data: $ES_DIR/data
path.logs: $ES_DIR/logs
network.host: 127.0.0.1
http.port: $port
transport.port: $tport
# single-node discovery: no cluster bootstrapping, and on loopback the production
# bootstrap checks (vm.max_map_count, ...) are only warnings.
discovery.type: single-node
xpack.security.enabled: false
# Test machines often have full-ish disks: never refuse to allocate shards.
cluster.routing.allocation.disk.threshold_enabled: false
# Tests may clean up with wildcards (DELETE normreg-test-*).
action.destructive_requires_name: false
YML
    # ML only exists when the x-pack-ml module is shipped (not in the integ-test-zip);
    # setting it otherwise is an "unknown setting" startup error.
    if [[ -d "$es_home/modules/x-pack-ml" ]]; then echo "xpack.ml.enabled: false"; fi
  } >"$ES_DIR/config/elasticsearch.yml"

  if ((${#RUN_AS[@]})); then
    chown -R "$ES_USER:" "$ES_DIR/config" "$ES_DIR/data" "$ES_DIR/logs" "$ES_DIR/tmp" "$ES_DIR/run"
  fi
  rm -f "$ES_DIR/run/elasticsearch.pid"

  log "elasticsearch $version: starting on 127.0.0.1:$port (transport $tport, java $java_home)"
  # -d: the launcher daemonizes the server JVM and exits once the node is started,
  # so no launcher JVM lingers; -p: the server JVM's pid. Clean env so stray
  # ES_JAVA_OPTS/JAVA_HOME of the caller do not leak in. (On loopback the bootstrap
  # checks - fd limit, vm.max_map_count - are only logged as warnings.)
  # shellcheck disable=SC2016  # $1..$3 expand in the inner bash, on purpose
  if ! timeout "$TIMEOUT" "${RUN_AS[@]}" env -i PATH=/usr/bin:/bin HOME="$ES_DIR/tmp" LANG=C.UTF-8 \
    ES_JAVA_HOME="$java_home" ES_PATH_CONF="$ES_DIR/config" ES_TMPDIR="$ES_DIR/tmp" \
    bash -c 'cd "$1" && exec "$2/bin/elasticsearch" -d -p "$3"' _ \
    "$ES_DIR/logs" "$es_home" "$ES_DIR/run/elasticsearch.pid" \
    </dev/null >"$ES_DIR/logs/launcher.log" 2>&1 9>&-; then
    # A half-started server may exist if the launcher timed out: stop it by pid.
    [[ -s "$ES_DIR/run/elasticsearch.pid" ]] && cp "$ES_DIR/run/elasticsearch.pid" "$ES_PID_FILE" \
      && stop_pid "$ES_PID_FILE" "$ES_PID_MARKER" elasticsearch 10
    fail_with_log elasticsearch "$ES_DIR/logs/launcher.log" "$ES_DIR/logs/normreg-local.log"
  fi
  cp "$ES_DIR/run/elasticsearch.pid" "$ES_PID_FILE"
  pid="$(cat "$ES_PID_FILE")"

  deadline=$((SECONDS + TIMEOUT))
  until es_health "$port" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$ES_PID_FILE"; fail_with_log elasticsearch \
      "$ES_DIR/logs/launcher.log" "$ES_DIR/logs/normreg-local.log"; }
    ((SECONDS < deadline)) || { stop_pid "$ES_PID_FILE" "$ES_PID_MARKER" elasticsearch 10; fail_with_log \
      elasticsearch "$ES_DIR/logs/normreg-local.log"; }
    sleep 1
  done
  log "elasticsearch: ready on http://127.0.0.1:$port (pid $pid)"
}

# ----------------------------------------------------------------------------- Hydra
hydra_ready() {
  curl -fsS -o /dev/null --max-time 5 --cacert "$INFRA_TLS_DIR/ca.pem" "https://127.0.0.1:$1/health/ready"
}

# An OpenID Connect provider (Ory Hydra, built from the Go module proxy) over HTTPS with the infra
# CA, in-memory store: every start is a provider with no clients and fresh signing keys.
start_hydra() {
  local bin pid public admin deadline
  bin="$("$LOCAL_DIR/fetch-hydra.sh")"
  mkdir -p "$HYDRA_DIR"
  ensure_infra_tls
  if pid="$(pid_of "$HYDRA_PID_FILE" "$HYDRA_PID_MARKER")"; then
    admin="$(read_kv "$HYDRA_DIR/ports" ADMIN_PORT)"
    log "hydra: reusing running provider pid $pid"
    hydra_ready "$admin" || fail_with_log hydra "$HYDRA_DIR/hydra.log"
    return 0
  fi
  rm -f "$HYDRA_PID_FILE"
  read -r public admin < <(free_ports 2 "$(read_kv "$HYDRA_DIR/ports" PUBLIC_PORT)" \
    "$(read_kv "$HYDRA_DIR/ports" ADMIN_PORT)")
  printf 'PUBLIC_PORT=%s\nADMIN_PORT=%s\n' "$public" "$admin" >"$HYDRA_DIR/ports"
  (umask 077 && cat >"$HYDRA_DIR/hydra.yml" <<YML
# Generated by deploy/local/infra-up.sh - an OpenID provider on loopback for tests.
dsn: memory
serve:
  public:
    host: 127.0.0.1
    port: $public
    tls: {enabled: true, cert: {path: $INFRA_TLS_DIR/server.pem}, key: {path: $INFRA_TLS_DIR/server-key.pem}}
  admin:
    host: 127.0.0.1
    port: $admin
    tls: {enabled: true, cert: {path: $INFRA_TLS_DIR/server.pem}, key: {path: $INFRA_TLS_DIR/server-key.pem}}
urls:
  self:
    issuer: https://127.0.0.1:$public
secrets:
  system: ["$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"]
strategies:
  access_token: jwt
log:
  level: warn
YML
  )
  log "hydra: starting on https://127.0.0.1:$public (admin $admin)"
  setsid "$bin" serve all -c "$HYDRA_DIR/hydra.yml" --sqa-opt-out </dev/null >"$HYDRA_DIR/hydra.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$HYDRA_PID_FILE"
  deadline=$((SECONDS + TIMEOUT))
  until hydra_ready "$admin" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { rm -f "$HYDRA_PID_FILE"; fail_with_log hydra "$HYDRA_DIR/hydra.log"; }
    ((SECONDS < deadline)) || { stop_pid "$HYDRA_PID_FILE" "$HYDRA_PID_MARKER" hydra 10; fail_with_log hydra \
      "$HYDRA_DIR/hydra.log"; }
    sleep 0.3
  done
  log "hydra: ready on https://127.0.0.1:$public (pid $pid)"
}

# --------------------------------------------------------------------------- main
started=$SECONDS
case "$TARGET" in
  kafka) start_kafka; wait_kafka ;;
  elasticsearch) start_elasticsearch ;;
  hydra) start_hydra ;;
  postgres) start_postgres ;;
  # Kafka boots in the background while Elasticsearch, Hydra and PostgreSQL start (saves ~5 s warm).
  all) start_kafka; start_elasticsearch; start_hydra; start_postgres; wait_kafka ;;
esac
write_env
log "up in $((SECONDS - started))s; $ENV_FILE:"
grep -v '^#' "$ENV_FILE"
