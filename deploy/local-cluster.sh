#!/usr/bin/env bash
# A local multi-silo cluster, laid out like the Helm chart minus Kubernetes: PostgreSQL membership, the
# schema applied by the silo program, one silo process per pool (environment variables exactly as the
# chart sets them), and the gateway as an Orleans client, all on loopback.
#   deploy/local-cluster.sh            start and run until Ctrl+C (web page on http://127.0.0.1:8080)
#   deploy/local-cluster.sh --smoke    start, generate one 256x256 image through the gateway, stop; exit 0 if it worked
# POOLS overrides the pools: POOLS="text,prior decoder64 sr256,sr1024" (the default: three pools).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
POOLS=${POOLS:-"text,prior decoder64 sr256,sr1024"}
WORK=${WORK:-/tmp/diffusion-cluster-local}
PG_PORT=${PG_PORT:-55440}
HTTP=${HTTP:-http://127.0.0.1:8080}
mkdir -p "$WORK"

dotnet build src/DiffusionCluster.Silo -c Release -v q -nologo >/dev/null
dotnet build src/DiffusionCluster.Gateway -c Release -v q -nologo >/dev/null
SILO=src/DiffusionCluster.Silo/bin/Release/net10.0/diffusion-cluster-silo.dll
GATEWAY=src/DiffusionCluster.Gateway/bin/Release/net10.0/diffusion-cluster-gateway.dll

CONN=$(deploy/postgresql/start-local.sh "$WORK/pg" "$PG_PORT" | tail -1)
CLUSTER_ID="local-$(date +%s)"
export Cluster__Membership=postgres Cluster__ConnectionString="$CONN" Cluster__ClusterId="$CLUSTER_ID" Cluster__ServiceId=diffusion-cluster
Cluster__ConnectionString="$CONN" dotnet "$SILO" schema

PIDS=()
cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  PGCTL=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/pg_ctl
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$PGCTL" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true
  else "$PGCTL" -D "$WORK/pg" -m fast stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

i=0
for stages in $POOLS; do
  Silo__Stages="$stages" Silo__ModelFolder="$ROOT/models/shapes-cascade" Silo__Threads=1 \
  Cluster__AdvertisedAddress=127.0.0.1 Cluster__SiloPort=$((11200 + i)) Cluster__GatewayPort=$((30200 + i)) \
  Telemetry__PrometheusPort=$((9470 + i)) \
    dotnet "$SILO" > "$WORK/silo-$i.log" 2>&1 &
  PIDS+=($!)
  echo "pool $stages: silo port $((11200 + i)), metrics http://127.0.0.1:$((9470 + i))/metrics, log $WORK/silo-$i.log"
  i=$((i + 1))
done
Gateway__Cluster="$CONN" Urls="$HTTP" Telemetry__PrometheusPort=9469 dotnet "$GATEWAY" > "$WORK/gateway.log" 2>&1 &
PIDS+=($!)

# Ready means every pool's silo has joined, not just the first one.
ready() { curl -fs "$HTTP/health/ready" 2>/dev/null | grep -q "\"status\":\"ready\",\"silos\":$i,"; }
for _ in $(seq 1 180); do
  if ready; then break; fi
  sleep 1
done
ready || { echo "the cluster never had $i silos ready; see $WORK/*.log" >&2; exit 1; }
echo "gateway ready on $HTTP (ready: $i silo(s))"

if [ "${1:-}" = "--smoke" ]; then
  curl -fs "$HTTP/v1/images/generations" -H 'Content-Type: application/json' \
    -d '{"prompt":"a large red star in the center on a white background","size":"256x256","response_format":"b64_json","decoder64_steps":10,"sr256_steps":4}' \
    > "$WORK/smoke.json"
  python3 - "$WORK/smoke.json" <<'PY'
import base64, json, struct, sys
data = json.load(open(sys.argv[1]))["data"][0]["b64_json"]
png = base64.b64decode(data)
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", png[16:24])
assert (width, height) == (256, 256), (width, height)
print(f"smoke test: {width}x{height} PNG through the gateway and three pools")
PY
  exit 0
fi
echo "Ctrl+C stops the cluster"
wait
