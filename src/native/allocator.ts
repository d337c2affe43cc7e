import { availableParallelism } from 'node:os';
import { nativeAddon } from './loader.js';

/**
 * Blocks from this size up are mapped for themselves and returned to the system when freed.
 * glibc's own threshold starts at 128 KiB and rises to 32 MiB as large blocks are freed; after
 * that, image-sized blocks stay in per-thread arenas at their peak (`npm run bench -- --memory`).
 */
export const MMAP_THRESHOLD = 4 * 1024 * 1024;

/** Arenas glibc may make: one per core, where its default is eight (see native/src/addon.cc). */
export function arenaMax(cores: number = availableParallelism()): number {
  return Math.max(1, cores);
}

/** glibc settings that already fix the thresholds: a user's choice is left as it is. */
const USER_SETTINGS = [
  'MALLOC_MMAP_THRESHOLD_',
  'MALLOC_TRIM_THRESHOLD_',
  'MALLOC_TOP_PAD_',
  'MALLOC_MMAP_MAX_',
] as const;

export type AllocatorState =
  { tuned: true; how: string } | { tuned: false; why: string; hint?: string };

const HINT = `set MALLOC_MMAP_THRESHOLD_=${MMAP_THRESHOLD} and MALLOC_ARENA_MAX=${arenaMax()} in the environment, or build the native addon (npm run build:native)`;

function tune(env: NodeJS.ProcessEnv): AllocatorState {
  if (process.platform !== 'linux') return { tuned: false, why: 'not Linux' };
  const set = USER_SETTINGS.find((name) => env[name] !== undefined);
  if (set) return { tuned: true, how: `as set by ${set}=${env[set]}` };
  if (
    /glibc\.malloc\.(?:mmap_threshold|trim_threshold|top_pad|mmap_max)/.test(
      env.GLIBC_TUNABLES ?? '',
    )
  ) {
    return { tuned: true, how: 'as set by GLIBC_TUNABLES' };
  }
  const load = nativeAddon();
  if (!load.ok) return { tuned: false, why: load.reason, hint: HINT };
  if (typeof load.addon.setMmapThreshold !== 'function') {
    return { tuned: false, why: 'the native addon predates it', hint: HINT };
  }
  if (!load.addon.setMmapThreshold(MMAP_THRESHOLD)) {
    return { tuned: false, why: 'not glibc' };
  }
  const how = `blocks of ${MMAP_THRESHOLD / 1024 / 1024} MiB and more returned when freed`;
  // A user's own arena limit stands; an addon built before setArenaMax sets the threshold alone.
  const ownArenas =
    env.MALLOC_ARENA_MAX !== undefined || /glibc\.malloc\.arena_max/.test(env.GLIBC_TUNABLES ?? '');
  const arenas = arenaMax();
  if (!ownArenas && load.addon.setArenaMax?.(arenas)) {
    return { tuned: true, how: `${how}, at most ${arenas} arena${arenas === 1 ? '' : 's'}` };
  }
  return { tuned: true, how };
}

let state: AllocatorState | undefined;

/**
 * Makes glibc give image-sized blocks back when they are freed, once per process, so that a long
 * run stays near the peak of its largest image. Never throws; says what it did.
 */
export function tuneAllocator(env: NodeJS.ProcessEnv = process.env): AllocatorState {
  state ??= tune(env);
  return state;
}

/** Whether glibc's malloc takes transparent huge pages (bin/huge-pages.cjs), and why. */
export interface HugePages {
  state: 'on' | 'off';
  why: string;
}

/** What the bin decided about huge pages before anything else ran. */
export function hugePages(): HugePages {
  const found = (globalThis as Record<symbol, unknown>)[Symbol.for('imgproc.hugePages')] as
    Partial<HugePages> | undefined;
  if (found?.state === 'on' || found?.state === 'off') {
    return { state: found.state, why: String(found.why) };
  }
  return { state: 'off', why: 'imgproc was not started by its bin' };
}
