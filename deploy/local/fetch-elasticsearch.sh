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
#
# The integ-test-zip also lacks the "rest-root" module (GET / and HEAD / answer 405, so
# the Python client's info() fails and ping() is False): a small plugin restoring them
# (es-rest-root/RestRootPlugin.java) is compiled against this exact version and put in
# plugins/. If that ever fails to compile (internal API change), a warning is printed
# and the node still works, only without GET /.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Pinned default: newest 9.x integ-test-zip found on Central when this was written
# (9.3.0 / 9.3.1 / 9.2.5 were not published there; 9.0.0, 9.1.x, 9.2.0-9.2.4 are).
# The Python client (elasticsearch 9.x) talks to any 9.x server: keep the MAJOR equal.
ES_VERSION="${NORMREG_ES_VERSION:-9.2.4}"
DEPENDENCY_PLUGIN_VERSION="3.8.1"

CACHE_ROOT="${NORMREG_INFRA_CACHE:-$HOME/.cache/normreg-infra}"
# Private Maven repository inside the cache: CI can cache/restore one directory, and a
# developer's ~/.m2 is left alone. (Mirrors in ~/.m2/settings.xml still apply.)
MAVEN_REPO="$CACHE_ROOT/m2"
DEST="$CACHE_ROOT/elasticsearch-$ES_VERSION"
ES_HOME="$DEST/home"
MARKER="$DEST/.complete"

if [[ -f "$MARKER" && -x "$ES_HOME/bin/elasticsearch" ]]; then
  [[ -n "${NORMREG_INFRA_QUIET:-}" ]] || log "cached: $ES_HOME"
  echo "$ES_HOME"
  exit 0
fi

command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
command -v unzip >/dev/null || die "unzip not found (apt-get install unzip)"

# build_rest_root_plugin ES_HOME: compile es-rest-root/ into ES_HOME/plugins/normreg-rest-root
build_rest_root_plugin() {
  local home="$1" jdk work plugin
  jdk="$(es_java_home)"
  [[ -x "$jdk/bin/javac" ]] || { log "no javac in $jdk"; return 1; }
  work="$DEST/shim-build"
  plugin="$home/plugins/normreg-rest-root"
  rm -rf "$work" && mkdir -p "$work/classes" "$plugin"
  # ES 9 itself targets Java 21, so the plugin does too.
  "$jdk/bin/javac" --release 21 -nowarn -proc:none -d "$work/classes" -cp "$home/lib/*" \
    "$LOCAL_DIR/es-rest-root/RestRootPlugin.java" >&2 || return 1
  "$jdk/bin/jar" --create --file "$plugin/normreg-rest-root.jar" -C "$work/classes" . || return 1
  cat >"$plugin/plugin-descriptor.properties" <<DESC
description=normreg local test infra: GET / and HEAD / for the integ-test-zip distribution
version=1.0.0
name=normreg-rest-root
classname=normreg.esshim.RestRootPlugin
java.version=21
elasticsearch.version=$ES_VERSION
DESC
  rm -rf "$work"
  log "built GET / shim plugin into $plugin"
}

mkdir -p "$DEST"
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
log "downloading $ARTIFACT from Maven Central"
rm -rf "$DEST/download" "$DEST/unpack"
# dependency:copy needs no pom: it resolves the artifact into $MAVEN_REPO and copies it out.
mvn -B -q -Dmaven.repo.local="$MAVEN_REPO" \
  "org.apache.maven.plugins:maven-dependency-plugin:${DEPENDENCY_PLUGIN_VERSION}:copy" \
  -Dartifact="$ARTIFACT" \
  -DoutputDirectory="$DEST/download" >"$DEST/mvn.log" 2>&1 \
  || { tail -n 40 "$DEST/mvn.log" >&2; die "Maven could not resolve the artifacts (log: $DEST/mvn.log)"; }

ZIP="$DEST/download/elasticsearch-${ES_VERSION}.zip"
[[ -f "$ZIP" ]] || die "expected $ZIP after download"

# Unpack into a temp dir and rename at the end so an interrupted run never looks complete.
unzip -q "$ZIP" -d "$DEST/unpack"
top="$(find "$DEST/unpack" -mindepth 1 -maxdepth 1 -type d | head -n1)"
[[ -x "$top/bin/elasticsearch" ]] || die "no bin/elasticsearch in $ZIP"
build_rest_root_plugin "$top" || log "WARNING: GET / shim not built: GET / and HEAD / will answer 405"
rm -rf "$ES_HOME"
mv "$top" "$ES_HOME"
rm -rf "$DEST/unpack" "$DEST/download"
# The node runs as an unprivileged user (ES refuses root): the distribution must be
# readable and traversable by everyone; the writable dirs live elsewhere (infra dir).
chmod -R a+rX "$DEST"
echo "$ES_VERSION" >"$DEST/VERSION"
# The marker's content identifies this unpacked copy (infra-up re-links when it changes).
date +%s.%N >"$MARKER"
log "done: $(du -sh "$ES_HOME" | cut -f1) in $ES_HOME"
echo "$ES_HOME"
