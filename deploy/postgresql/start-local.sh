#!/usr/bin/env bash
# Starts a throwaway PostgreSQL for the multi-process cluster tests and local clusters: its own data folder,
# loopback only, trust authentication, database "diffusion_cluster". Prints the connection string.
# Usage: deploy/postgresql/start-local.sh [DATA_DIR] [PORT]      Stop: pg_ctl -D DATA_DIR stop (as postgres)
set -euo pipefail
DATA=${1:-/tmp/diffusion-cluster-pg}
PORT=${2:-55432}
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$BIN/initdb" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql; install the postgresql package" >&2; exit 1; }
# initdb refuses to run as root: run the server as the postgres user when we are root.
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u postgres --); fi
if [ ! -f "$DATA/PG_VERSION" ]; then
  mkdir -p "$DATA"
  if [ ${#AS[@]} -gt 0 ]; then chown postgres "$DATA"; fi
  "${AS[@]}" "$BIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
fi
# Each silo and gateway process pools up to 100 connections (Npgsql's Maximum Pool Size); PostgreSQL's default of
# 100 connections in all is reached by a busy local cluster of seven processes, so allow more.
if ! "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  "${AS[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DATA -c max_connections=500" start >/dev/null
fi
if ! psql -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='diffusion_cluster'" | grep -q 1; then
  psql -h 127.0.0.1 -p "$PORT" -U postgres -qc "CREATE DATABASE diffusion_cluster"
fi
echo "Host=127.0.0.1;Port=$PORT;Database=diffusion_cluster;Username=postgres"
