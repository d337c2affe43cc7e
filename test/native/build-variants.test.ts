import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadNativeAddon, NativeBinding } from '../../src/native/index.js';
import { fixture } from './helpers.js';

const BUILD = resolve('scripts/build-native.mjs');
const BIN = resolve('bin/imgproc.cjs');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'imgproc-build-variants-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('the build without nvcc', () => {
  test('builds the C++ reference only, which resamples, and imgproc runs on it', async () => {
    const buildDir = join(dir, 'no-cuda');
    const build = run(process.execPath, [BUILD], {
      IMGPROC_NO_CUDA: '1',
      IMGPROC_NATIVE_BUILD_DIR: buildDir,
    });
    expect(build.code, build.out).toBe(0);
    expect(build.out).toContain('native addon built, C++ reference only (IMGPROC_NO_CUDA=1)');

    const addonPath = join(buildDir, 'Release', 'imgproc_native.node');
    const load = loadNativeAddon({ IMGPROC_NATIVE_PATH: addonPath });
    if (!load.ok) throw new Error(load.details);
    expect(load.addon.buildInfo().cuda).toBe(false);
    const binding = new NativeBinding(load.addon);
    const source = {
      data: Buffer.alloc(8 * 6 * 3, 200),
      width: 8,
      height: 6,
      channels: 3 as const,
    };
    const result = await binding.referenceResample(source, { thumb: { width: 4, height: 3 } });
    expect(result.thumb).toMatchObject({ width: 4, height: 3, channels: 3 });
    expect([...result.thumb!.data].every((v) => v === 200)).toBe(true);

    const doctor = run(process.execPath, [BIN, 'doctor', '--json'], {
      IMGPROC_NATIVE_PATH: addonPath,
    });
    expect(doctor.code).toBe(0);
    expect((JSON.parse(doctor.out) as { addon: { status: string } }).addon.status).toBe(
      'reference-only',
    );
    const out = join(dir, 'out');
    const batch = run(process.execPath, [BIN, fixture('harbour.jpg'), '--out', out], {
      IMGPROC_NATIVE_PATH: addonPath,
    });
    expect(batch.code, batch.out).toBe(0);
    expect(batch.out).toMatch(/backend: cpu \(.*\)/);
  }, 240_000); // a C++ build: about 45 s alone, longer on a loaded machine
});

describe('the install-time build without cmake', () => {
  // A PATH holding node alone: no cmake, no compiler.
  const bare = () => {
    const bin = join(dir, 'bare-bin');
    mkdirSync(bin, { recursive: true });
    try {
      symlinkSync(process.execPath, join(bin, 'node'));
    } catch {
      // already there
    }
    return { PATH: bin, IMGPROC_NATIVE_BUILD_DIR: join(dir, 'never-built') };
  };

  test('npm install goes on: --optional prints one line and exits 0', () => {
    const r = run(process.execPath, [BUILD, '--optional'], bare());
    expect(r.code).toBe(0);
    expect(r.out.trim().split('\n')).toEqual([
      expect.stringContaining(
        'native addon not built (cmake not found); imgproc will run on the CPU backend (sharp).',
      ),
    ]);
  });

  test('npm run build:native fails loudly', () => {
    const r = run(process.execPath, [BUILD], bare());
    expect(r.code).toBe(1);
    expect(r.out).toContain('cannot build the native addon: cmake not found');
  });
});
