#!/usr/bin/env bash
# Rebuilds the bundled cascade (models/shapes-cascade) from scratch: trains every component, in order, into a
# working folder. The bundle changes only when you export it:
#   diffusion-cluster export --from work/shapes-cascade --to models/shapes-cascade --defaults
#
#   recipes/shapes-cascade.sh [--device cpu|cuda] [--out DIR] [--time-limit-minutes M]
#
# Each step resumes from its checkpoint folder (DIR/checkpoints/<component>), so the script can be stopped and run
# again. Step counts are the training images the bundled weights saw, summed over the runs that made them
# (docs/HISTORY.md); on a GPU the large-batch steps cover the same images in fewer, larger batches.
# --time-limit-minutes bounds each component's run (the next run of the script resumes it).
set -euo pipefail
cd "$(dirname "$0")/.."

device=cpu
out=work/shapes-cascade
limit=()
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --time-limit-minutes) limit=(--time-limit-minutes "$2"); shift 2 ;;
    *) echo "unknown option $1; options: --device cpu|cuda, --out DIR, --time-limit-minutes M" >&2; exit 2 ;;
  esac
done

dotnet build -c Release src/DiffusionCluster.Cli >/dev/null
cli=(dotnet src/DiffusionCluster.Cli/bin/Release/net10.0/diffusion-cluster.dll)

train() { # component, then its options
  local component="$1"; shift
  "${cli[@]}" train "$component" --model "$out" --checkpoints "$out/checkpoints/$component" --device "$device" \
    --seed 1 --warmup 100 "${limit[@]}" "$@"
}

# An SR stage fine-tuned from its weights on renders, half of its rows conditioned on the cascade's own pictures
# (`train bases`), so it cleans the errors of the stage before it: sr256 learns the exact render of the scene from
# them, sr1024 the picture in its scene's flat colours (`--generated-target flat`).
train_on_generated() { # component, bases folder, then its options
  local component="$1" bases="$2"; shift 2
  [ -f "$out/$component-on-renders.safetensors" ] || cp "$out/$component/model.safetensors" "$out/$component-on-renders.safetensors"
  "${cli[@]}" train "$component" --model "$out" --checkpoints "$out/checkpoints/$component-generated" --device "$device" \
    --init-from "$out/$component-on-renders.safetensors" --generated-inputs "$bases" --generated-share 0.5 \
    --warmup 50 "${limit[@]}" "$@"
}

# Large batches on a GPU, the CPU's batches otherwise; the steps scale so both see the same number of images.
if [ "$device" = cpu ]; then scale=1; else scale=8; fi
big() { echo $(( $1 * scale )); }      # batch
steps() { echo $(( ($1 + scale - 1) / scale )); }  # steps

train clip --batch 64 --lr 5e-4 --steps 1400
train noisy-clip --batch 64 --lr 5e-4 --steps 2000
train prior --batch "$(big 64)" --lr 3e-4 --steps "$(steps 36900)"
train layout --batch 32 --lr 6e-4 --object-weight 5 --steps 6300
train decoder64 --batch "$(big 16)" --lr 3e-4 --object-weight 10 --steps "$(steps 56300)"
train sr256 --batch 16 --lr 3e-4 --steps 12300
train sr1024 --batch 16 --lr 3e-4 --steps 20550
bases() { # folder, then its options; drawn once (a stopped run keeps what it drew)
  local folder="$1"; shift
  [ -f "$folder/bases.jsonl" ] || "${cli[@]}" train bases --model "$out" --device "$device" --out "$folder" "$@"
}
bases "$out/bases64" --count 2000 --seed 1
train_on_generated sr256 "$out/bases64" --batch 16 --lr 3e-4 --seed 231 --steps 4435
bases "$out/bases256" --size 256 --count 700 --seed 2
train_on_generated sr1024 "$out/bases256" --generated-target flat --batch 16 --lr 3e-4 --seed 241 --steps 8706
"${cli[@]}" train attributes --model "$out" --device "$device" --train 400 --held-out 200
"${cli[@]}" train segmentation --model "$out" --device "$device" --labelled 50 --held-out 50 --steps 1500

# What is not trained: the world the cascade is trained on (the composer) and the sampling defaults tuned on the
# weights. A rebuilt cascade starts from the bundle's; re-tune them with `eval` before exporting.
mkdir -p "$out/composer"
cp models/shapes-cascade/composer/config.json "$out/composer/config.json"
cp models/shapes-cascade/sampling.json "$out/sampling.json"
python3 - "$out/model_index.json" <<'PY'
import json, sys
path = sys.argv[1]
index = json.load(open(path))
index["composer"] = ["DiffusionCluster", "Composer"]
json.dump(index, open(path, "w"), indent=2)
PY
echo "built $out; check it with: ${cli[*]} eval --no-sr --model $out"
