import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../version.js';
import type { NativeAddon } from './types.js';

const ROOT = PACKAGE_ROOT;
const ADDON = 'imgproc_native.node';

export type NativeLoad =
  | { ok: true; addon: NativeAddon; path: string }
  | {
      ok: false;
      /** One line, for logs: why there is no addon. */
      reason: string;
      /** Every candidate tried and why it failed, then what to do. */
      details: string;
    };

function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

function candidates(env: NodeJS.ProcessEnv): string[] {
  // An explicit path is the only candidate: silently loading another build would hide the mistake.
  if (env.IMGPROC_NATIVE_PATH) return [resolve(env.IMGPROC_NATIVE_PATH)];
  return [
    join(ROOT, 'native', 'build', 'Release', ADDON),
    join(ROOT, 'native', 'build', 'Debug', ADDON),
  ];
}

function whyNot(path: string, err: unknown): string {
  if (!existsSync(path)) return 'not found';
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}

const SOLUTIONS = [
  'Build it: npm run build:native (needs cmake >= 3.18 and a C++17 compiler; nvcc for the GPU kernels).',
  'Or point IMGPROC_NATIVE_PATH at a built imgproc_native.node.',
  'Or run without it: --backend cpu (sharp does all the work).',
];

/**
 * Loads imgproc_native.node, trying each candidate in order. Never throws: a missing or broken
 * addon is a normal state (imgproc then runs on sharp). IMGPROC_NATIVE=0 turns it off.
 */
export function loadNativeAddon(env: NodeJS.ProcessEnv = process.env): NativeLoad {
  if (env.IMGPROC_NATIVE === '0' || env.IMGPROC_NATIVE === 'off') {
    const reason = `native addon disabled by IMGPROC_NATIVE=${env.IMGPROC_NATIVE}`;
    return { ok: false, reason, details: reason };
  }
  const require = createRequire(import.meta.url);
  const failures: string[] = [];
  for (const path of candidates(env)) {
    try {
      const addon = require(path) as Partial<NativeAddon>;
      if (typeof addon.buildInfo !== 'function' || typeof addon.cudaResample !== 'function') {
        throw new Error('not an imgproc_native addon');
      }
      return { ok: true, addon: addon as NativeAddon, path };
    } catch (err) {
      failures.push(`${shown(path)}: ${whyNot(path, err)}`);
    }
  }
  const reason = `native addon not loaded (${failures[0] ?? 'no candidate'})`;
  const details = [
    'imgproc_native could not be loaded:',
    ...failures.map((f) => `  - ${f}`),
    'Possible solutions:',
    ...SOLUTIONS.map((s) => `  - ${s}`),
  ].join('\n');
  return { ok: false, reason, details };
}

let cached: NativeLoad | undefined;

/** The process-wide addon, loaded on first use. */
export function nativeAddon(): NativeLoad {
  cached ??= loadNativeAddon();
  return cached;
}
