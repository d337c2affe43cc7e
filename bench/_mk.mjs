import { pathToFileURL } from 'node:url';
import path from 'node:path';
import fs from 'node:fs';
const [{ readHeader }, { estimateTaskPeak }, { resolveProcessingOptions }, { CpuBackend }] = await Promise.all(
  ['pipeline/decode.js', 'pipeline/admission.js', 'config/options.js', 'backends/cpu.js'].map((p) => import(pathToFileURL(path.resolve('dist', p)).href)));
import { deflateSync } from 'node:zlib';
const p = resolveProcessingOptions({ cpu: true }, {});
const task = { ops: p.ops, options: p.output };
for (const f of process.argv.slice(2)) {
  const buf = fs.readFileSync(f);
  const info = await readHeader(buf, 1e9);
  console.log(f, info.width, info.height, (estimateTaskPeak(info, buf.length, task, new CpuBackend()) / 2 ** 20).toFixed(0), 'MiB');
}
