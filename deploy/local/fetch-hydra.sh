#!/usr/bin/env bash
# Build an Ory Hydra OpenID Connect provider from the Go module proxy into a local cache.
# `go install github.com/ory/hydra/v2@VERSION` is refused because Hydra's go.mod has replace
# directives, so a throwaway module requires Hydra as a tool and repeats the one replace the
# build needs. cgo (sqlite driver for the in-memory store) makes a cold build take minutes.
#
# Usage: deploy/local/fetch-hydra.sh            -> prints the hydra binary path on stdout
# Env:   NORMREG_HYDRA_VERSION  override the pinned version (default below)
#        NORMREG_INFRA_CACHE    cache root (default ~/.cache/normreg-infra)
set -euo pipefail

HYDRA_VERSION="${NORMREG_HYDRA_VERSION:-v2.3.0}"
# Hydra v2.3.0 replaces gobuffalo/pop with Ory's fork; without it the build does not compile.
POP_REPLACE="github.com/gobuffalo/pop/v6=github.com/ory/pop/v6@v6.2.1-0.20241121111754-e5dfc0f3344b"

CACHE_ROOT="${NORMREG_INFRA_CACHE:-$HOME/.cache/normreg-infra}"
DEST="$CACHE_ROOT/hydra-$HYDRA_VERSION"
BIN="$DEST/hydra"
MARKER="$DEST/.complete"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -f "$MARKER" && -x "$BIN" ]]; then
  [[ -n "${NORMREG_INFRA_QUIET:-}" ]] || log "cached: $BIN"
  echo "$BIN"
  exit 0
fi

GO="$(command -v go || true)"
[[ -n "$GO" ]] || { [[ -x /usr/local/go/bin/go ]] && GO=/usr/local/go/bin/go; }
[[ -n "$GO" ]] || die "go not found (a Go toolchain >= 1.23 is needed to build Hydra)"
command -v gcc >/dev/null || die "gcc not found (Hydra's sqlite driver needs cgo)"

BUILD="$DEST/build"
rm -rf "$BUILD"
mkdir -p "$BUILD"
log "building Hydra $HYDRA_VERSION from the Go module proxy (cgo; minutes on a cold cache)"
(
  cd "$BUILD"
  export CGO_ENABLED=1 GOFLAGS=-mod=mod GOTOOLCHAIN=local
  "$GO" mod init normreg.local/hydra-build
  "$GO" get -tool "github.com/ory/hydra/v2@$HYDRA_VERSION"
  "$GO" mod edit -replace "$POP_REPLACE"
  "$GO" mod tidy
  "$GO" build -tags sqlite,sqlite_omit_load_extension -o "$BIN.tmp" github.com/ory/hydra/v2
) >"$DEST/build.log" 2>&1 || { tail -n 40 "$DEST/build.log" >&2; die "Hydra did not build (log: $DEST/build.log)"; }

"$BIN.tmp" version >/dev/null 2>&1 || die "the built hydra binary does not run"
mv -f "$BIN.tmp" "$BIN"
rm -rf "$BUILD"
echo "$HYDRA_VERSION" >"$DEST/VERSION"
touch "$MARKER"
log "done: $BIN"
echo "$BIN"
