'use strict';
// Transparent huge pages for glibc's malloc: libvips and the source bytes of each image take tens
// of MiB of fresh memory, mapped 4 KiB at a time unless the kernel is asked for 2 MiB pages. A
// page fault costs about a microsecond on bare metal and far more in some virtual machines: on a
// 2-core VM, 12 photos made some 58,000 of them and took 13-19% more CPU than with huge pages
// (npm run bench -- --overhead). glibc asks for huge pages only when GLIBC_TUNABLES says so at
// start. The `imgproc` command (bin/imgproc, a shell script) sets it before Node starts; where
// Node was started on bin/imgproc.cjs directly, the bin starts again with it set: the same process
// (execve), the same arguments, at the cost of a second Node start-up (120-150 ms of CPU there).
const TUNABLE = 'glibc.malloc.hugetlb';
const MODE_FILE = '/sys/kernel/mm/transparent_hugepage/enabled';

/** The kernel's THP mode ('always', 'madvise', 'never'), or undefined where it has none. */
function kernelMode(read = require('node:fs').readFileSync) {
  try {
    return /\[(\w+)\]/.exec(read(MODE_FILE, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Whether this process has huge pages ('on'/'off', and why), or `restart` with the GLIBC_TUNABLES
 * that would give them. `cannotRestart`: why this process could not start again, if it could not.
 */
function hugePagePlan(env, { platform, cannotRestart, mode }) {
  const off = (why) => ({ state: 'off', why });
  if (platform !== 'linux') return off('not Linux');
  const setting = env.IMGPROC_HUGE_PAGES;
  if (setting === '0' || setting === 'off') return off(`IMGPROC_HUGE_PAGES=${setting}`);
  const tunables = env.GLIBC_TUNABLES || '';
  const own = /(?:^|:)glibc\.malloc\.hugetlb=(\d+)/.exec(tunables);
  if (own)
    return {
      state: own[1] === '0' ? 'off' : 'on',
      why: `GLIBC_TUNABLES ${own[0].replace(/^:/, '')}`,
    };
  if (cannotRestart) return off(cannotRestart);
  if (mode === undefined) return off(`the kernel has no transparent huge pages (${MODE_FILE})`);
  if (mode === 'never') return off('the kernel has transparent huge pages turned off (never)');
  if (mode === 'always')
    return { state: 'on', why: 'the kernel gives them to every process (always)' };
  return { state: 'restart', tunables: tunables ? `${tunables}:${TUNABLE}=1` : `${TUNABLE}=1` };
}

/**
 * Starts this very command again with huge pages where the kernel gives them on request; returns
 * what this process has (and only returns when it does not start again).
 */
function withHugePages(addon) {
  const env = process.env;
  const cannotRestart = !addon
    ? 'no native addon to start again with'
    : typeof addon.exec !== 'function'
      ? 'the native addon predates it (npm run build:native)'
      : addon.buildInfo().glibc
        ? undefined
        : 'not glibc';
  const plan = hugePagePlan(env, { platform: process.platform, cannotRestart, mode: kernelMode() });
  if (plan.state !== 'restart') return plan;
  const vars = Object.entries({ ...env, GLIBC_TUNABLES: plan.tunables }).map(
    ([k, v]) => `${k}=${v}`,
  );
  const argv = [process.argv0, ...process.execArgv, ...process.argv.slice(1)];
  const errno = addon.exec(process.execPath, argv, vars);
  return { state: 'off', why: `could not start again with ${TUNABLE}=1 (errno ${errno})` };
}

module.exports = { hugePagePlan, kernelMode, withHugePages };
