#!/usr/bin/env bash
# Packs what an NVIDIA machine without Node.js or network needs to build and test imgproc's GPU path:
# a compressed Node binary, the production node_modules plus vitest (for test/native/gpu.test.ts),
# dist/ and setup.sh, into .devicepack/ (ignored by git). Run it from the repo root after
# `npm run build`; on the GPU machine, from the repo root:
#     source .devicepack/setup.sh && npm run build:native && npx vitest run test/native/gpu.test.ts
# (compute-sanitizer and bench/kernels.mjs need nothing more).
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
mkdir -p .devicepack
[ -f .devicepack/node.xz ] || xz -T0 -6 -c "$(command -v node)" > .devicepack/node.xz
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json "$tmp/"
vitest=$(node -p "require('./package.json').devDependencies.vitest")
( cd "$tmp" && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null 2>&1 &&
  npm install --no-save --ignore-scripts --no-audit --no-fund "vitest@$vitest" >/dev/null 2>&1 )
tar -C "$tmp" -czf .devicepack/node_modules.tgz node_modules
rm -f .devicepack/dist.tgz; [ -d dist ] && tar -czf .devicepack/dist.tgz dist
cat > .devicepack/setup.sh <<'SH'
# sourced on the GPU machine from the project's root
mkdir -p /tmp/nodebin
[ -x /tmp/nodebin/node ] || python3 -c "import lzma,shutil; shutil.copyfileobj(lzma.open('.devicepack/node.xz'), open('/tmp/nodebin/node','wb'))"
chmod +x /tmp/nodebin/node; export PATH=/tmp/nodebin:$PATH
[ -d node_modules ] || tar -xzf .devicepack/node_modules.tgz
[ -f .devicepack/dist.tgz ] && tar -xzf .devicepack/dist.tgz
node --version && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
SH
du -sh .devicepack
