#!/usr/bin/env bash
# Installs the npm tools the portal's checks run in the system Chromium, into build/node (ignored by
# git): axe-core for the accessibility tests, Lighthouse 12 for `make bench` (13 needs Node >= 22.19).
# Neither downloads a browser. Idempotent; one npm run at a time.
# Usage: deploy/local/node-tools.sh axe|lighthouse...
set -euo pipefail
cd "$(dirname "$0")/../.."
prefix=build/node
declare -A spec=([axe]="axe-core@4" [lighthouse]="lighthouse@12")
declare -A probe=([axe]="$prefix/node_modules/axe-core/axe.min.js" [lighthouse]="$prefix/node_modules/.bin/lighthouse")
[ $# -gt 0 ] || { echo "usage: $0 axe|lighthouse..." >&2; exit 2; }
mkdir -p "$prefix"
exec 9>"$prefix/.lock"
flock 9
missing=()
for tool in "$@"; do
  [ -n "${spec[$tool]:-}" ] || { echo "node-tools: unknown tool $tool" >&2; exit 2; }
  [ -e "${probe[$tool]}" ] || missing+=("${spec[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
# Everything already there is named again, so npm keeps it rather than pruning it as extraneous.
for tool in "${!spec[@]}"; do
  [ -e "${probe[$tool]}" ] && missing+=("${spec[$tool]}")
done
echo "node-tools: installing ${missing[*]}" >&2
PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$prefix" --no-audit --no-fund --silent "${missing[@]}" >&2
