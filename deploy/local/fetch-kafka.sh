#!/usr/bin/env bash
# Fetch an Apache Kafka broker (plus its console tools and a logging backend) from
# Maven Central into a local cache, without Docker and without the release tarball
# (only package registries are reachable from CI / dev machines).
#
# Usage: deploy/local/fetch-kafka.sh            -> prints the libs directory on stdout
# Env:   NORMREG_KAFKA_VERSION  override the pinned version (default below)
#        NORMREG_INFRA_CACHE    cache root (default ~/.cache/normreg-infra)
#
# A second run with a complete cache does no network work at all: the presence of
# the ".complete" marker short-circuits before Maven is invoked.
set -euo pipefail

# Pinned default: the version verified end to end (broker, transactions, console tools,
# aiokafka 0.14 idempotent producer). Other 4.x versions on Central resolve the same way.
KAFKA_VERSION="${NORMREG_KAFKA_VERSION:-4.3.1}"
# Kafka 4.x code logs through slf4j 1.7 (kafka_2.13 depends on slf4j-api 1.7.36), so the
# matching binding is log4j-slf4j-impl (not the slf4j2 one); this is what the official
# distribution ships too. Without a backend the broker is silent.
LOG4J_VERSION="2.24.3"
DEPENDENCY_PLUGIN_VERSION="3.8.1"

CACHE_ROOT="${NORMREG_INFRA_CACHE:-$HOME/.cache/normreg-infra}"
# Private Maven repository inside the cache: CI can cache/restore one directory, and a
# developer's ~/.m2 is left alone. (Mirrors in ~/.m2/settings.xml still apply.)
MAVEN_REPO="$CACHE_ROOT/m2"
DEST="$CACHE_ROOT/kafka-$KAFKA_VERSION"
LIBS="$DEST/libs"
MARKER="$DEST/.complete"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -f "$MARKER" && -d "$LIBS" ]]; then
  [[ -n "${NORMREG_INFRA_QUIET:-}" ]] || log "cached: $LIBS"
  echo "$LIBS"
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"

BUILD="$DEST/build"
mkdir -p "$BUILD"
# A throwaway pom whose only purpose is to let Maven compute the runtime closure.
cat >"$BUILD/pom.xml" <<POM
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>normreg.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- broker: kafka.Kafka, kafka.tools.StorageTool -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <!-- console consumer/producer, topics tool (org.apache.kafka.tools.*).
         connect-runtime is only needed by the connect-plugin-path tool and drags in
         Jetty/Jersey, so it is excluded to keep the download small. -->
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>${KAFKA_VERSION}</version>
      <exclusions>
        <exclusion>
          <groupId>org.apache.kafka</groupId>
          <artifactId>connect-runtime</artifactId>
        </exclusion>
      </exclusions>
    </dependency>
    <!-- logging backend so the broker writes server.log -->
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
POM

log "resolving kafka_2.13:$KAFKA_VERSION + kafka-tools + log4j $LOG4J_VERSION from Maven Central"
rm -rf "$LIBS.tmp"
# Copy into a temp dir and rename at the end so an interrupted run never looks complete.
mvn -B -q -Dmaven.repo.local="$MAVEN_REPO" -f "$BUILD/pom.xml" \
  "org.apache.maven.plugins:maven-dependency-plugin:${DEPENDENCY_PLUGIN_VERSION}:copy-dependencies" \
  -DincludeScope=runtime \
  -DoutputDirectory="$LIBS.tmp" >"$DEST/mvn.log" 2>&1 \
  || { tail -n 40 "$DEST/mvn.log" >&2; die "Maven could not resolve the artifacts (log: $DEST/mvn.log)"; }

# Sanity check: the classes infra-up and kafka-console rely on must be present.
# (unzip exits non-zero when the named entry is absent; no pipe, so no SIGPIPE under pipefail)
jar_has() { unzip -l "$1" "$2" >/dev/null 2>&1; }
jar_has "$LIBS.tmp/kafka_2.13-$KAFKA_VERSION.jar" kafka/Kafka.class \
  || die "kafka_2.13 jar has no kafka.Kafka"
jar_has "$LIBS.tmp/kafka-tools-$KAFKA_VERSION.jar" org/apache/kafka/tools/consumer/ConsoleConsumer.class \
  || die "kafka-tools jar has no ConsoleConsumer"

rm -rf "$LIBS"
mv "$LIBS.tmp" "$LIBS"
echo "$KAFKA_VERSION" >"$DEST/VERSION"
touch "$MARKER"
log "done: $(find "$LIBS" -name "*.jar" | wc -l) jars, $(du -sh "$LIBS" | cut -f1) in $LIBS"
echo "$LIBS"
