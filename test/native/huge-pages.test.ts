import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { runCli } from '../e2e/helpers.js';
import { addonFunction } from './helpers.js';

const require = createRequire(import.meta.url);
const { hugePagePlan, kernelMode } = require('../../bin/huge-pages.cjs') as {
  hugePagePlan(
    env: Record<string, string | undefined>,
    host: { platform: string; cannotRestart?: string; mode: string | undefined },
  ): { state: 'on' | 'off' | 'restart'; why?: string; tunables?: string };
  kernelMode(): string | undefined;
};

const linux: { platform: string; cannotRestart?: string; mode: string | undefined } = {
  platform: 'linux',
  mode: 'madvise',
};
const ADDON = require.resolve('../../native/build/Release/imgproc_native.node');

describe('huge pages: when the bin starts again with them', () => {
  test('a kernel that gives them on request: start again, keeping the user’s tunables', () => {
    expect(hugePagePlan({}, linux)).toEqual({
      state: 'restart',
      tunables: 'glibc.malloc.hugetlb=1',
    });
    expect(hugePagePlan({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=3' }, linux)).toEqual({
      state: 'restart',
      tunables: 'glibc.malloc.arena_max=3:glibc.malloc.hugetlb=1',
    });
  });

  test('never again once set, and never against the user, the kernel or the platform', () => {
    const cases: [Record<string, string>, Partial<typeof linux>, string, string][] = [
      [
        { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' },
        {},
        'on',
        'GLIBC_TUNABLES glibc.malloc.hugetlb=1',
      ],
      [
        { GLIBC_TUNABLES: 'a.b=1:glibc.malloc.hugetlb=0' },
        {},
        'off',
        'GLIBC_TUNABLES glibc.malloc.hugetlb=0',
      ],
      [{ IMGPROC_HUGE_PAGES: '0' }, {}, 'off', 'IMGPROC_HUGE_PAGES=0'],
      [{ IMGPROC_HUGE_PAGES: 'off' }, {}, 'off', 'IMGPROC_HUGE_PAGES=off'],
      [{}, { mode: 'always' }, 'on', 'the kernel gives them to every process (always)'],
      [{}, { mode: 'never' }, 'off', 'the kernel has transparent huge pages turned off (never)'],
      [
        {},
        { mode: undefined },
        'off',
        'the kernel has no transparent huge pages (/sys/kernel/mm/transparent_hugepage/enabled)',
      ],
      [{}, { cannotRestart: 'not glibc' }, 'off', 'not glibc'],
      [{}, { platform: 'darwin' }, 'off', 'not Linux'],
    ];
    for (const [env, host, state, why] of cases) {
      expect(hugePagePlan(env, { ...linux, ...host }), JSON.stringify([env, host])).toEqual({
        state,
        why,
      });
    }
  });
});

describe('the addon’s exec', () => {
  test('replaces the process: same id, the given environment, standard streams kept', () => {
    const script = `
      const exec = require(${JSON.stringify(ADDON)}).exec;
      process.stderr.write('pid ' + process.pid + '\\n');
      exec('/bin/sh', ['sh', '-c', 'echo "$FOO $$"; echo err >&2; exit 7'], ['FOO=bar']);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(r.status).toBe(7);
    const pid = /^pid (\d+)$/m.exec(r.stderr)?.[1];
    expect(r.stdout).toBe(`bar ${pid}\n`);
    expect(r.stderr).toBe(`pid ${pid}\nerr\n`);
  });

  test('returns the errno when it cannot, and checks its arguments', () => {
    const exec = addonFunction('exec');
    expect(exec('/nonexistent/program', ['x'], [])).toBe(2); // ENOENT
    expect(() => exec('/bin/sh', ['sh', 1 as unknown as string], [])).toThrow(
      'Expected string for argv[1] but received 1.000000 of type number',
    );
    expect(() => exec('/bin/sh', [], 'x' as unknown as string[])).toThrow(
      'Expected array for env but received "x" of type string',
    );
  });
});

describe('imgproc doctor', () => {
  const mode = kernelMode();
  const glibc = Boolean(
    (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header
      ?.glibcVersionRuntime,
  );

  test('says whether malloc takes huge pages, and IMGPROC_HUGE_PAGES=0 turns them off', async () => {
    const r = await runCli(['doctor']);
    const line = /^pages {5}(.*)$/m.exec(r.stdout)?.[1];
    if (process.platform === 'linux' && glibc && mode === 'madvise') {
      // Started again, with the tunable set: the same process, now with huge pages.
      expect(line).toBe(
        'transparent huge pages for malloc (GLIBC_TUNABLES glibc.malloc.hugetlb=1)',
      );
    } else {
      expect(line).toMatch(/^(transparent huge pages|4 KiB pages) for malloc \(.+\)$/);
    }
    const off = await runCli(['doctor', '--json'], { env: { IMGPROC_HUGE_PAGES: '0' } });
    expect(JSON.parse(off.stdout).hugePages).toEqual(
      process.platform === 'linux'
        ? { state: 'off', why: 'IMGPROC_HUGE_PAGES=0' }
        : { state: 'off', why: 'not Linux' },
    );
    if (process.platform === 'linux' && mode === 'madvise') {
      const noAddon = await runCli(['doctor', '--json'], { env: { IMGPROC_NATIVE: '0' } });
      expect(JSON.parse(noAddon.stdout).hugePages).toEqual({
        state: 'off',
        why: 'no native addon to start again with',
      });
    }
  });

  test('a user’s own tunables survive the restart', async () => {
    const env = { GLIBC_TUNABLES: 'glibc.malloc.arena_max=3' };
    const r = await runCli(['doctor', '--json'], { env });
    const report = JSON.parse(r.stdout);
    const plan = hugePagePlan(env, {
      platform: process.platform,
      cannotRestart: glibc ? undefined : 'not glibc',
      mode,
    });
    // Where it started again, the tunable was added to the user's own.
    expect(report.hugePages).toEqual(
      plan.state === 'restart'
        ? { state: 'on', why: 'GLIBC_TUNABLES glibc.malloc.hugetlb=1' }
        : { state: plan.state, why: plan.why },
    );
    if (glibc) {
      // arena_max is the user's: the arena limit is left to it, the threshold still set.
      expect(report.allocator).toEqual({
        tuned: true,
        how: 'blocks of 4 MiB and more returned when freed',
      });
    }
  });
});
