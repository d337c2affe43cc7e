#!/usr/bin/env bash
# Packs what an NVIDIA machine without Node.js or network needs to build, test and measure imgproc's
# GPU path into .devicepack/ (ignored by git): a compressed Node binary, the production node_modules
# plus vitest (no type declarations, source maps or docs), dist/, setup.sh and, with --corpus DIR,
# as many of DIR's photographs (JPEG first, smallest first) as fit. Everything that travels (the
# tracked tree plus .devicepack/) must stay under the device's 64 MiB with 8 MiB to spare.
#   npm run build && bash scripts/device-pack.sh [--corpus DIR]
# On the GPU machine, from the repo root (carry .devicepack):
#   source .devicepack/setup.sh && node scripts/gpu-check.mjs
set -euo pipefail
root=$(git rev-parse --show-toplevel); cd "$root"
corpus=""
[ "${1:-}" = "--corpus" ] && corpus=${2:?--corpus needs a folder}
limit=$((64 * 1024 * 1024)); spare=$((8 * 1024 * 1024))
mkdir -p .devicepack
[ -f .devicepack/node.xz ] || xz -T0 -6 -c "$(command -v node)" > .devicepack/node.xz
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cp package-lock.json "$tmp/"
# Production dependencies plus vitest, which runs test/native/gpu.test.ts there.
node -e '
  const p = require("./package.json");
  const deps = { ...p.dependencies, vitest: p.devDependencies.vitest };
  require("fs").writeFileSync(process.argv[1], JSON.stringify({ name: p.name, version: p.version, type: p.type, dependencies: deps }));
' "$tmp/package.json"
( cd "$tmp" && npm install --omit=dev --ignore-scripts --no-audit --no-fund >/dev/null 2>&1 )
find "$tmp/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -iname '*.md' \) -delete
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
rm -rf .devicepack/corpus
bytes_of() { du -sb "$@" | awk '{ s += $1 } END { print s + 0 }'; }
tree=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
used=$((tree + $(bytes_of .devicepack)))
if [ -n "$corpus" ]; then
  mkdir -p .devicepack/corpus
  room=$((limit - spare - used))
  while IFS= read -r f; do
    size=$(stat -c %s "$f")
    [ "$size" -le "$room" ] || continue
    cp "$f" .devicepack/corpus/; room=$((room - size)); used=$((used + size))
  done < <(find "$corpus" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -printf '%s %p\n' | sort -n | cut -d' ' -f2-;
           find "$corpus" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.webp' \) -printf '%s %p\n' | sort -n | cut -d' ' -f2-)
  echo "device-pack: corpus $(ls .devicepack/corpus | wc -l) images, $(bytes_of .devicepack/corpus) bytes"
fi
echo "device-pack: tree $tree + .devicepack $(bytes_of .devicepack) = $used bytes of $limit (spare $((limit - used)))"
[ "$used" -le $((limit - spare)) ] || { echo "device-pack: over the limit less 8 MiB to spare" >&2; exit 1; }
