#!/usr/bin/env bash
# On a GPU machine, after deploy/gpu/prepare-device-run.sh: the GPU figures of docs/BENCHMARKS.md ("GPU figures")
# in one run. Each command runs under its own time limit, so one that hangs cannot hold the machine; $OUT gets
# seven files: four bench JSONs, the two ShapeBench reports, bench.log.
# Usage: bash deploy/gpu/bench-on-device.sh [SECONDS_PER_COMMAND]   (default 120)
#   RUN (default "bash .device/run.sh") and DEVICE (default cuda) let the script be tried on a CPU machine.
set -u
limit=${1:-120}
case "$limit" in
  ''|*[!0-9]*|0) echo "bench-on-device.sh: seconds per command must be a whole number of at least 1, not \"$limit\"" >&2; exit 2 ;;
esac
run=${RUN:-bash .device/run.sh}
device=${DEVICE:-cuda}
out=${OUT:?OUT must name the folder whose files come back}
log="$out/bench.log"
mkdir -p "$out"

step() {
  echo "== $*" >> "$log"
  # $run is a command line ("bash .device/run.sh"), split on purpose.
  timeout -k 15 "$limit" $run "$@" >> "$log" 2>&1
  echo "== exit $? (124: stopped at the ${limit} s limit)" >> "$log"
}

step bench stages --device "$device" --size 1024 --batch-sizes 1,8,32 --out "$out/stage-profile-gpu.json"
step bench stages --device "$device" --precision bf16 --size 1024 --batch-sizes 1,8,32 --out "$out/stage-profile-gpu-bf16.json"
step bench networks --device "$device" --out "$out/networks-gpu.json"
step bench cluster --device "$device" --size 1024 --concurrency 32 --throughput-size 64 --out "$out/cluster-gpu.json"
for precision in fp32 bf16; do
  step eval --device "$device" --precision "$precision" --no-sr --out "/tmp/shapebench-$precision"
  cp "/tmp/shapebench-$precision/report.md" "$out/shapebench-$precision.md" 2>> "$log"
done
tail -n 40 "$log"
