#!/usr/bin/env bash
# The README's test command (and CI's): installs what a fresh machine lacks beyond the .NET SDK, then runs every
# test project.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "dotnet (the .NET 10 SDK) is required and is not on PATH" >&2
  exit 1
fi

# What the tests need beyond .NET: the PostgreSQL server (the multi-process cluster tests start a throwaway
# one through deploy/postgresql/start-local.sh; as root it runs as the postgres user), and Debian's Chromium
# with Node.js for the web page test (playwright-core from tests/web/package-lock.json).
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then missing+=(postgresql); fi
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# deploy/gpu/prepare-device-run.sh packs the .NET runtime with tar's xz compression.
command -v xz >/dev/null 2>&1 || missing+=(xz-utils)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --prefix tests/web --no-audit --no-fund >/dev/null

dotnet test DiffusionCluster.sln -c Release "$@"
