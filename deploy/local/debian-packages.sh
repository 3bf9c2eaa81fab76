#!/usr/bin/env bash
# Installs Debian packages the test harness needs (a browser, a database server, fonts) when they
# are missing. Idempotent and safe to call from several scripts at once: one apt run at a time.
# Usage: deploy/local/debian-packages.sh PACKAGE...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 PACKAGE..." >&2; exit 2; }

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  echo "debian-packages: ${missing[*]} missing and this user cannot install packages" >&2
  exit 1
fi

echo "debian-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# apt holds its own lock and fails at once when another apt runs; wait for ours instead.
exec 9>/tmp/normreg-apt.lock
flock 9
"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
