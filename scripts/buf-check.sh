#!/usr/bin/env bash
# buf lint of the protos, and buf breaking against the protos main had before this change.
#
# Both run on images that protoc builds, with google/api and google/type taken from the installed
# googleapis-common-protos wheel: nothing is fetched from the buf registry.
#
# The comparison: on a branch, the commit where it left main (what main was before the change); on
# main itself, the previous commit. BUF_AGAINST=<ref> overrides. A shallow clone is deepened by one
# commit; a history with no earlier commit has nothing to compare and says so.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
BUF=node_modules/.bin/buf
OUT=build/buf
GOOGLEAPIS=$("$PY" -c 'import google.api, pathlib; print(pathlib.Path(list(google.api.__path__)[0]).parent.parent)')
rm -rf "$OUT" && mkdir -p "$OUT/previous"

image() { # proto root, output file
    local files
    mapfile -t files < <(cd "$1" && find normreg -name '*.proto' | LC_ALL=C sort)
    "$PY" -m grpc_tools.protoc -I"$1" -I"$GOOGLEAPIS" --include_imports --include_source_info \
        --descriptor_set_out="$2" "${files[@]}"
}

image protos "$OUT/current.binpb"
"$BUF" lint "$OUT/current.binpb" --exclude-path google

against=${BUF_AGAINST:-}
if [[ -z $against ]]; then
    for main in main origin/main; do
        if git rev-parse -q --verify "$main^{commit}" >/dev/null; then
            base=$(git merge-base HEAD "$main" || true)
            if [[ -n $base && $base != "$(git rev-parse HEAD)" ]]; then against=$base; fi
            break
        fi
    done
    against=${against:-HEAD~1}
fi
if ! git rev-parse -q --verify "$against^{commit}" >/dev/null; then
    if [[ $(git rev-parse --is-shallow-repository) == true ]]; then
        git fetch -q --deepen=1 || true
    fi
fi
if ! git rev-parse -q --verify "$against^{commit}" >/dev/null; then
    if [[ $(git rev-parse --is-shallow-repository) == true || $against != HEAD~1 ]]; then
        echo "buf breaking: cannot read $against to compare with" >&2
        exit 1
    fi
    echo "buf breaking: no earlier commit, nothing to compare"
    exit 0
fi
if ! git cat-file -e "$against:protos" 2>/dev/null; then
    echo "buf breaking: $against has no protos, nothing to compare"
    exit 0
fi
git archive "$against" protos | tar -x -C "$OUT/previous"
image "$OUT/previous/protos" "$OUT/previous.binpb"
"$BUF" breaking "$OUT/current.binpb" --against "$OUT/previous.binpb" --exclude-path google
echo "buf breaking: compatible with $(git rev-parse --short "$against")"
