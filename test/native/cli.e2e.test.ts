import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { fixture } from './helpers.js';

const BIN = resolve('bin/imgproc.cjs');
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'imgproc-native-e2e-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function imgproc(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const NOWHERE = { IMGPROC_NATIVE_PATH: '/nowhere/imgproc_native.node' };

describe('imgproc without the native addon', () => {
  test('auto runs on the CPU and says why in one line', () => {
    const out = tempDir();
    const r = imgproc(
      [fixture('harbour.jpg'), fixture('rgba-hard-edges.png'), '--out', out, '--no-progress'],
      NOWHERE,
    );
    expect(r.code).toBe(0);
    const backendLines = r.stderr.split('\n').filter((l) => l.includes('backend: '));
    expect(backendLines).toEqual([
      'backend: cpu (native addon not loaded (/nowhere/imgproc_native.node: not found))',
    ]);
    for (const stem of ['harbour', 'rgba-hard-edges']) {
      const sidecar = JSON.parse(readFileSync(join(out, `${stem}.json`), 'utf8')) as {
        backend: string;
      };
      expect(sidecar.backend).toBe('cpu');
    }
  });

  test('IMGPROC_NATIVE=0 also runs on the CPU', () => {
    const r = imgproc([fixture('harbour.jpg'), '--out', tempDir(), '--no-progress'], {
      IMGPROC_NATIVE: '0',
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('backend: cpu (native addon disabled by IMGPROC_NATIVE=0)');
  });

  test('--backend cuda is a usage error (exit 2), not a silent fallback', () => {
    const out = tempDir();
    const r = imgproc([fixture('harbour.jpg'), '--out', out, '--backend', 'cuda'], NOWHERE);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--backend cuda: native addon not loaded');
    expect(r.stderr).toContain('imgproc doctor');
  });

  test('doctor says the addon is not loaded, why and what to do', () => {
    const r = imgproc(['doctor'], NOWHERE);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'addon     not loaded: native addon not loaded (/nowhere/imgproc_native.node: not found)',
    );
    expect(r.stdout).toContain('npm run build:native');
    expect(r.stdout).toMatch(/sharp {5}\d+\.\d+\.\d+ \(libvips \d+\.\d+\.\d+\)/);
    expect(r.stdout).toContain('backend   auto -> cpu');

    const json = imgproc(['doctor', '--json'], NOWHERE);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      addon: { status: string; details: string };
      cuda: unknown;
      defaults: { resolved: string; gpuTimeoutSeconds: number };
      cpu: { cores: number };
    };
    expect(report.addon.status).toBe('not-loaded');
    expect(report.addon.details).toContain('Possible solutions:');
    expect(report.cuda).toBeNull();
    expect(report.defaults).toMatchObject({ resolved: 'cpu', gpuTimeoutSeconds: 30 });
    expect(report.cpu.cores).toBeGreaterThan(0);
  });

  test('--cpu never resamples on the GPU and says so (the addon is loaded only for its allocator settings)', () => {
    const r = imgproc([fixture('harbour.jpg'), '--out', tempDir(), '--cpu', '--no-progress']);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('backend: cpu (asked for)');
  });
});

describe('imgproc doctor with the built addon', () => {
  test('reports the build flavour and the CUDA state', () => {
    const r = imgproc(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      addon: { status: string; build?: { cuda: boolean } };
      cuda: { devices: unknown[]; error?: string } | null;
    };
    expect(['cuda', 'reference-only']).toContain(report.addon.status);
    if (report.addon.status === 'cuda') {
      expect(report.cuda).not.toBeNull();
      if (report.cuda!.devices.length === 0) expect(report.cuda!.error).toBeTruthy();
    }
  });
});
