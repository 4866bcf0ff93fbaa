#!/usr/bin/env bash
# On a GPU machine, after deploy/gpu/prepare-device-run.sh: fine-tunes decoder64, the prior and the layout model side
# by side on the one GPU for MINUTES, starting from the bundled weights, or resuming the checkpoints an earlier run
# left in /tmp, and leaves in $OUT per component one tar of its EMA weights, loss log, checkpoint state and run log.
# Copy a component's weights into a working folder, measure it with `eval`, and `export` it into the bundle.
# Usage: bash deploy/gpu/train-on-device.sh MINUTES
#   RUN (default "bash .device/run.sh") and DEVICE (default cuda) let the script be tried on a CPU machine.
set -u
minutes=${1:?usage: train-on-device.sh MINUTES}
if ! [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]] || [ "$minutes" = 0 ]; then
  echo "train-on-device.sh: MINUTES must be a positive number (the CLI allows 0.01 to 100000), not \"$minutes\"" >&2; exit 2
fi
run=${RUN:-bash .device/run.sh}
device=${DEVICE:-cuda}
out=${OUT:?OUT must name the folder whose files come back}
model=/tmp/train-model checkpoints=/tmp/train-checkpoints
[ -d "$model" ] || cp -r models/shapes-cascade "$model"
mkdir -p "$checkpoints"

# Batches sized for an H100/H200 (the decoder's step is bound by kernel launches, not memory); learning rates as in
# the CPU runs' fine-tuning. The bundled weights are the starting point; a checkpoint, when there is one, wins.
$run train decoder64 --device "$device" --model "$model" --checkpoints "$checkpoints/decoder64" \
  --init-from models/shapes-cascade/decoder64/model.safetensors --object-weight 10 --batch 128 --lr 2e-4 --warmup 200 \
  --steps 1000000 --checkpoint-every 1000 --log-every 100 --seed 91 --time-limit-minutes "$minutes" > "$checkpoints/decoder64.log" 2>&1 &
$run train prior --device "$device" --model "$model" --checkpoints "$checkpoints/prior" \
  --init-from models/shapes-cascade/prior/model.safetensors --batch 256 --lr 2e-4 --warmup 200 \
  --steps 1000000 --checkpoint-every 1000 --log-every 100 --seed 92 --time-limit-minutes "$minutes" > "$checkpoints/prior.log" 2>&1 &
# The layout model continues from the bundled weights when the bundle has one.
layout_init=()
[ -f models/shapes-cascade/layout/model.safetensors ] && layout_init=(--init-from models/shapes-cascade/layout/model.safetensors)
$run train layout --device "$device" --model "$model" --checkpoints "$checkpoints/layout" "${layout_init[@]}" \
  --object-weight 5 --batch 256 --lr 6e-4 --warmup 200 \
  --steps 1000000 --checkpoint-every 1000 --log-every 100 --seed 103 --time-limit-minutes "$minutes" > "$checkpoints/layout.log" 2>&1 &
wait

status=0
for stage in decoder64 prior layout; do
  mkdir -p "/tmp/pack/$stage"
  cp "$model/$stage/model.safetensors" "$checkpoints/$stage/loss.csv" "$checkpoints/$stage/state.json" "$checkpoints/$stage.log" "/tmp/pack/$stage/" || status=1
  tar -C /tmp/pack -cf "$out/$stage.tar" "$stage" || status=1
  tail -n 2 "$checkpoints/$stage.log"
done
exit $status
