#!/usr/bin/env bash
# Fetch an Elasticsearch node from Maven Central into a local cache, without Docker.
#
# Only package registries are reachable, so the artifacts.elastic.co tarball is out of
# reach; the "integ-test-zip" distribution that Elastic publishes to Maven Central is a
# runnable node (bin/elasticsearch) with no bundled JDK and a reduced module set
# (no analysis-icu / smartcn / cjk, no painless, no reindex, no ingest-common).
#
# Usage: deploy/local/fetch-elasticsearch.sh   -> prints the ES home directory on stdout
# Env:   NORMREG_ES_VERSION    override the pinned version (default below)
#        NORMREG_INFRA_CACHE   cache root (default ~/.cache/normreg-infra)
#
# A second run with a complete cache does no network work (".complete" marker).
set -euo pipefail

# Pinned default: newest 9.x integ-test-zip found on Central when this was written
# (9.3.0 / 9.3.1 / 9.2.5 were not published there; 9.0.0, 9.1.x, 9.2.0-9.2.4 are).
# The Python client (elasticsearch 9.x) talks to any 9.x server: keep the MAJOR equal.
ES_VERSION="${NORMREG_ES_VERSION:-9.2.4}"
DEPENDENCY_PLUGIN_VERSION="3.8.1"

CACHE_ROOT="${NORMREG_INFRA_CACHE:-$HOME/.cache/normreg-infra}"
DEST="$CACHE_ROOT/elasticsearch-$ES_VERSION"
ES_HOME="$DEST/home"
MARKER="$DEST/.complete"

log() { echo "[fetch-elasticsearch] $*" >&2; }

if [[ -f "$MARKER" && -x "$ES_HOME/bin/elasticsearch" ]]; then
  log "cached: $ES_HOME"
  echo "$ES_HOME"
  exit 0
fi

command -v mvn >/dev/null || { log "mvn not found (apt-get install maven)"; exit 1; }
command -v unzip >/dev/null || { log "unzip not found (apt-get install unzip)"; exit 1; }

mkdir -p "$DEST"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
log "downloading $ARTIFACT from Maven Central"
rm -rf "$DEST/download" "$DEST/unpack"
# dependency:copy needs no pom; it resolves the artifact (via ~/.m2) and copies it out.
mvn -B -q -Dstyle.color=never \
  "org.apache.maven.plugins:maven-dependency-plugin:${DEPENDENCY_PLUGIN_VERSION}:copy" \
  -Dartifact="$ARTIFACT" \
  -DoutputDirectory="$DEST/download" >&2

ZIP="$DEST/download/elasticsearch-${ES_VERSION}.zip"
[[ -f "$ZIP" ]] || { log "expected $ZIP after download"; exit 1; }

# Unpack into a temp dir and rename at the end so an interrupted run never looks complete.
unzip -q "$ZIP" -d "$DEST/unpack"
top="$(find "$DEST/unpack" -mindepth 1 -maxdepth 1 -type d | head -n1)"
[[ -x "$top/bin/elasticsearch" ]] || { log "no bin/elasticsearch in $ZIP"; exit 1; }
rm -rf "$ES_HOME"
mv "$top" "$ES_HOME"
rm -rf "$DEST/unpack" "$DEST/download"
# The node runs as an unprivileged user (ES refuses root): the distribution must be
# readable and traversable by everyone; the writable dirs live elsewhere (infra dir).
chmod -R a+rX "$DEST"
echo "$ES_VERSION" >"$DEST/VERSION"
touch "$MARKER"
log "done: $(du -sh "$ES_HOME" | cut -f1) in $ES_HOME"
echo "$ES_HOME"
