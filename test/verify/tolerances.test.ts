import { copyFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Backend } from '../../src/backends/backend.js';
import { CpuBackend } from '../../src/backends/cpu.js';
import { resolveProcessingOptions } from '../../src/config/options.js';
import { MemoryBudget } from '../../src/pipeline/memory-budget.js';
import { processImage } from '../../src/pipeline/process-image.js';
import { planBatch } from '../../src/plan/plan.js';
import { compareFolders } from '../../src/verify/compare.js';
import { DEFAULT_TOLERANCES } from '../../src/verify/tolerances.js';
import { makeTempDir, PHOTOS } from '../e2e/helpers.js';
import { openBinding } from '../native/helpers.js';

// The defaults must accept what another backend or encoder effort makes (the measurement behind
// them is `npm run bench -- --verify-tolerances`, tabled in the README).
const FIXTURES = ['meadow.jpg', 'rgba-hard-edges.png', 'grey-alpha.png', 'scan.tif', 'palette.png'];

/** The C++ reference of the CUDA kernels, as the cuda backend would call it on a GPU. */
function referenceBackend(): Backend {
  const binding = openBinding();
  return {
    name: 'cuda',
    description: 'C++ reference',
    decodePolicy: 'full-unless-cheap-shrink',
    async resample(source, request) {
      const { thumb, blur, lq, sample } = await binding.referenceResample(source, request);
      return { thumb, blur, lq, sample };
    },
    async close() {},
  };
}

async function inputs(): Promise<string> {
  const dir = await makeTempDir('imgproc-tol-in-');
  await Promise.all(FIXTURES.map((f) => copyFile(join(PHOTOS, f), join(dir, f))));
  return dir;
}

async function produce(
  input: string,
  backend: Backend,
  raw: Record<string, string> = {},
): Promise<string> {
  const out = join(await makeTempDir('imgproc-tol-out-'), 'out');
  const processing = resolveProcessingOptions({ ...raw, cpu: true, force: true }, {});
  const plan = await planBatch({ inputs: [input], outDir: out, processing });
  const memory = new MemoryBudget(processing.maxMemory);
  for (const task of plan.tasks) await processImage(task, { backend, memory });
  return out;
}

describe('default tolerances', () => {
  test('CPU outputs and the C++ reference of the CUDA kernels agree on every fixture: pixels, palette, roles, placeholders', async () => {
    const cpu = await produce(PHOTOS, new CpuBackend());
    const reference = await produce(PHOTOS, referenceBackend());
    const r = await compareFolders(cpu, reference, {
      tolerances: DEFAULT_TOLERANCES,
      concurrency: 2,
    });
    const sidecars = (await readdir(cpu, { recursive: true })).filter((f) => f.endsWith('.json'));
    expect(sidecars.length).toBeGreaterThanOrEqual(27);
    expect(r.items).toHaveLength(sidecars.length);
    // Every sidecar carries what is compared beyond pixels, so a palette, role or placeholder
    // difference would be seen.
    for (const f of sidecars) {
      const { gradient } = JSON.parse(await readFile(join(reference, f), 'utf8'));
      expect(Object.keys(gradient)).toEqual(
        expect.arrayContaining(['palette', 'primary', 'secondary', 'foreground', 'css']),
      );
      expect(Object.keys(gradient)).toEqual(
        expect.arrayContaining(['blurDataUrl', 'thumbHash', 'blurHash']),
      );
    }
    expect(r.items.flatMap((i) => i.differences)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.notes).toContain('expected outputs made on cpu, these on cuda');
  });

  test.each(['0', '6'])('WebP effort %s passes against the default efforts', async (effort) => {
    const input = await inputs();
    const base = await produce(input, new CpuBackend());
    const other = await produce(input, new CpuBackend(), { effort });
    const r = await compareFolders(base, other, { tolerances: DEFAULT_TOLERANCES, concurrency: 2 });
    expect(r.items.flatMap((i) => i.differences)).toEqual([]);
    expect(r.summary.within).toBeGreaterThan(0);
    expect(r.passed).toBe(true);
  });
});
