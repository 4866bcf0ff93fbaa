#!/usr/bin/env bash
# Prepares runs of the diffusion-cluster CLI on a GPU machine that has CUDA PyTorch but no .NET (deploy/gpu/README.md):
# publishes the CLI without libtorch-cpu's native libraries (the machine's PyTorch CUDA libraries replace them),
# packs this machine's .NET runtime, and writes the launcher, DIR/run.sh.
# Usage: deploy/gpu/prepare-device-run.sh [--out DIR] [--max-mib N]
#   DIR defaults to .device, relative to the repository; --max-mib refuses a folder that, with the repository's
#   tracked files, is over N MiB (for a transfer that carries both and has a limit).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=.device
max_mib=
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --max-mib) max_mib=$2; shift 2 ;;
    *) echo "unknown option $1; usage: $0 [--out DIR] [--max-mib N]" >&2; exit 2 ;;
  esac
done
cd "$repo"
rm -rf "$out"
mkdir -p "$out"

dotnet publish src/DiffusionCluster.Cli -c Release -r linux-x64 --self-contained false -o "$out/app" -v quiet -nologo
# libtorch-cpu's natives (about 470 MB) stay behind; TorchSharp.dll and libLibTorchSharp.so stay, and find the
# machine's libtorch through LD_LIBRARY_PATH. Symbols and Roslyn (which Orleans' packages list for their source
# generators; nothing loads it at run time) stay behind too.
(cd "$out/app" && rm -f libtorch*.so libc10.so libgomp-*.so.1 libshm.so libaoti_custom_ops.so libbackend_with_compiler.so \
  libjitbackend_test.so libnnapi_backend.so libtorchbind_test.so *.pdb Microsoft.CodeAnalysis*.dll && rm -rf runtimes)
# xz at its strongest: the folder and the working tree share one 64 MiB transfer.
export XZ_OPT=-9e
tar cJf "$out/app.tar.xz" -C "$out" app
rm -rf "$out/app"

# The .NET runtime, less what the CLI never loads (debugger and tracing libraries, XML, VB, ...), which keeps the
# folder small (`train` and `generate` through the embedded silo run on the runtime packed so: DeviceRunTests).
root=$(dirname "$(readlink -f "$(command -v dotnet)")")
version=$(ls "$root/shared/Microsoft.NETCore.App" | sort -V | tail -1)
runtime=$(mktemp -d)
cp -r "$root/dotnet" "$root/host" "$runtime/"
mkdir -p "$runtime/shared/Microsoft.NETCore.App"
cp -r "$root/shared/Microsoft.NETCore.App/$version" "$runtime/shared/Microsoft.NETCore.App/"
(cd "$runtime/shared/Microsoft.NETCore.App/$version" && rm -f createdump libmscordaccore.so libmscordbi.so \
  libcoreclrtraceptprovider.so libclrgc.so libclrgcexp.so System.Private.Xml.dll System.Private.Xml.Linq.dll \
  Microsoft.VisualBasic.Core.dll System.Private.DataContractSerialization.dll \
  System.Net.Mail.dll System.Linq.Parallel.dll Microsoft.CSharp.dll System.Text.Encoding.CodePages.dll)
tar cJf "$out/dotnet.tar.xz" -C "$runtime" dotnet host shared
rm -rf "$runtime"

cat > "$out/run.sh" <<'RUN'
#!/usr/bin/env bash
# On the GPU machine: unpack .NET and the CLI (once, also when several runs start together), point TorchSharp at
# PyTorch's CUDA libraries, run the CLI with the arguments.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# A warm machine keeps /tmp between calls: unpack again when the packed files changed (a re-prepared .device).
stamp=$(cat "$here/dotnet.tar.xz" "$here/app.tar.xz" | cksum)
(
  flock 9
  if [ "$(cat /tmp/dotnet/.unpacked 2>/dev/null)" != "$stamp" ]; then
    rm -rf /tmp/dotnet && mkdir -p /tmp/dotnet && tar xJf "$here/dotnet.tar.xz" -C /tmp/dotnet \
      && tar xJf "$here/app.tar.xz" -C /tmp/dotnet && echo "$stamp" > /tmp/dotnet/.unpacked
  fi
) 9>/tmp/dotnet.lock
torch_lib=$(python3 -c "import torch, os; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))")
export LD_LIBRARY_PATH=$torch_lib:${LD_LIBRARY_PATH:-} DOTNET_ROOT=/tmp/dotnet DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
echo "device: $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo none); torch: $torch_lib" >&2
exec /tmp/dotnet/dotnet /tmp/dotnet/app/diffusion-cluster.dll "$@"
RUN
chmod +x "$out/run.sh"

size=$(du -sm "$out" | cut -f1)
tree=$(( $(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1) / 1048576 ))
echo "prepared $out: ${size} MiB (the repository's tracked files: ${tree} MiB)"
if [ -n "$max_mib" ] && [ $((size + tree)) -gt "$max_mib" ]; then
  echo "error: $out and the tracked files are $((size + tree)) MiB, over --max-mib $max_mib" >&2; exit 1
fi
cat <<TIP
On the GPU machine, in a copy of the repository with $out beside it, for example:
  bash $out/run.sh generate "a red circle" --size 1024 --device cuda --out image.png
  bash $out/run.sh bench stages --device cuda --precision bf16 --batch-sizes 1,8,32 --out stage-profile-gpu.json
  OUT=results bash deploy/gpu/train-on-device.sh 30
TIP
