import { describe, expect, test } from 'vitest';
import { availableParallelism } from 'node:os';
import { loadNativeAddon, MMAP_THRESHOLD } from '../../src/native/index.js';
import { runCli } from '../e2e/helpers.js';

const glibc =
  process.platform === 'linux' &&
  Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      ?.glibcVersionRuntime,
  );

describe('the allocator setting', () => {
  test('the addon sets glibc’s mmap threshold, and checks its argument', () => {
    const load = loadNativeAddon({});
    if (!load.ok) throw new Error(load.details);
    expect(load.addon.setMmapThreshold?.(MMAP_THRESHOLD)).toBe(glibc);
    expect(() => load.addon.setMmapThreshold?.(-1)).toThrow(
      'Expected integer for bytes but received -1.000000 of type number',
    );
    expect(load.addon.setArenaMax?.(availableParallelism())).toBe(glibc);
    expect(() => load.addon.setArenaMax?.(-1)).toThrow(
      'Expected integer for arenas but received -1.000000 of type number',
    );
  });

  test.skipIf(!glibc)(
    'doctor says whether freed image memory goes back to the system',
    async () => {
      const tuned = await runCli(['doctor']);
      const cores = availableParallelism();
      expect(tuned.stdout).toMatch(
        new RegExp(
          `^malloc {4}glibc: blocks of 4 MiB and more returned when freed, at most ${cores} arenas?$`,
          'm',
        ),
      );
      // A user's own arena limit stands, and the threshold is still set.
      const arenas = await runCli(['doctor'], { env: { MALLOC_ARENA_MAX: '4' } });
      expect(arenas.stdout).toMatch(
        /^malloc {4}glibc: blocks of 4 MiB and more returned when freed$/m,
      );
      const own = await runCli(['doctor'], { env: { MALLOC_MMAP_THRESHOLD_: '65536' } });
      expect(own.stdout).toMatch(/^malloc {4}glibc: as set by MALLOC_MMAP_THRESHOLD_=65536$/m);
      const none = await runCli(['doctor', '--json'], { env: { IMGPROC_NATIVE: '0' } });
      expect(JSON.parse(none.stdout).allocator).toEqual({
        tuned: false,
        why: 'native addon disabled by IMGPROC_NATIVE=0',
        hint: `set MALLOC_MMAP_THRESHOLD_=4194304 and MALLOC_ARENA_MAX=${availableParallelism()} in the environment, or build the native addon (npm run build:native)`,
      });
    },
  );
});
