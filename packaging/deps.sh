#!/usr/bin/env bash
# Installs what elizad needs to build, test and benchmark on Debian 12 (bookworm), as root or
# through sudo. Idempotent and quiet: packages already present are left alone, apt runs only when
# something is missing. An existing Node.js >= 20 (e.g. from NodeSource) is kept as it is.
set -euo pipefail

PKGS=(build-essential cmake pkg-config binutils
      libevhtp-dev libevent-dev libjansson-dev libsqlite3-dev libconfig-dev libssl-dev
      libcurl4-openssl-dev libwebsockets-dev
      flite1-dev libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us
      curl ca-certificates procps wrk cppcheck jq)
# --test: what only the test suite needs (a real browser for the web UI test; the sqlite3 shell
# holds the database's write lock from another process in e2e.write_behind)
if [ "${1:-}" = "--test" ]; then PKGS+=(chromium sqlite3); fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

missing=()
for p in "${PKGS[@]}"; do installed "$p" || missing+=("$p"); done

# Node.js: Debian's nodejs/npm only when there is no node at all. Debian's npm depends on Debian's
# nodejs, so it must not be pulled in next to another node (it would replace it).
if ! command -v node > /dev/null; then
  missing+=(nodejs npm)
elif ! command -v npm > /dev/null; then
  if installed nodejs && dpkg-query -W -f='${Version}' nodejs | grep -q nodesource; then
    echo "deps: node $(node --version) has no npm; install npm for that node (not Debian's)" >&2
    exit 1
  fi
  missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo > /dev/null || { echo "deps: run as root to install: ${missing[*]}" >&2; exit 1; }
    SUDO=(sudo -n)
  fi
  echo "deps: installing ${missing[*]}"
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! { "${SUDO[@]}" apt-get update -qq && \
         "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
       > "$log" 2>&1 < /dev/null; then
    tail -30 "$log" >&2
    rm -f "$log"
    echo "deps: apt-get failed" >&2
    exit 1
  fi
  rm -f "$log"
fi

major=$(node_major)
if [ "$major" -lt 18 ]; then
  echo "deps: node $(node --version 2>/dev/null || echo none) is too old for the e2e tests (need >= 18, 20 preferred)" >&2
  exit 1
elif [ "$major" -lt 20 ]; then
  echo "deps: note: node $(node --version) (Debian's); the e2e suite is written for node 20 and runs on 18"
fi
echo "deps: ok (cmake $(cmake --version | awk 'NR==1{print $3}'), gcc $(gcc -dumpversion), node $(node --version))"
