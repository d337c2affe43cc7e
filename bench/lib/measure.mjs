// Runs one contender as a child process and measures it: wall time, CPU seconds of the whole
// process tree, and peak resident memory of the tree.
//
// CPU: the kernel adds a reaped child's user+sys time (including everything that child reaped
// in turn) to our own cutime/cstime in /proc/self/stat, so the delta across one run is exactly
// the contender's CPU time, however many processes and threads it used.
// Memory: GNU time's %M is the exact high-water mark of the largest single process; a 100-ms
// sampler sums VmRSS over the live tree, which catches several processes running side by side.
// The peak reported is the larger of the two.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
} catch {
  // 100 Hz is what Linux reports nearly everywhere
}

/** User + system CPU seconds of every child we have reaped so far. */
export function childrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); cutime and cstime are fields 16 and 17
  return (Number(fields[13]) + Number(fields[14])) / clockTicks;
}

function childrenOf(pid) {
  const out = [];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const list = readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').trim();
      if (list) out.push(...list.split(' ').map(Number));
    }
  } catch {
    // the process has exited between two reads
  }
  return out;
}

function rssKiB(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of `pid` and all its descendants, in KiB; `skip` excludes a wrapper's own RSS. */
export function treeRssKiB(pid, skip = null) {
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    if (p !== skip) total += rssKiB(p);
    stack.push(...childrenOf(p));
  }
  return total;
}

/**
 * Spawn `command args` and wait for it. `onSample(rssKiB, elapsedS)` is called every `sampleMs`.
 * The child leads its own process group, so a timeout ends the whole tree.
 * Resolves to { code, timedOut, wallS, cpuS, peakRssKiB, stderr }.
 */
export function measure(command, args, { env, cwd, sampleMs = 100, onSample, timeoutS } = {}) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'imgproc-bench-time-'));
  const timeFile = path.join(tmp, 'time');
  const [cmd, argv] = GNU_TIME
    ? [GNU_TIME, ['-f', '%M', '-o', timeFile, command, ...args]]
    : [command, args];
  const cpuBefore = childrenCpuSeconds();
  const start = process.hrtime.bigint();
  const child = spawn(cmd, argv, {
    env: env ?? process.env,
    cwd,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let timedOut = false;
  const killer = timeoutS
    ? setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }, timeoutS * 1000)
    : null;
  let stderr = '';
  child.stderr.on('data', (d) => {
    if (stderr.length < 64 * 1024) stderr += d;
  });
  let sampledPeak = 0;
  const timer = setInterval(() => {
    const rss = treeRssKiB(child.pid, GNU_TIME ? child.pid : null);
    sampledPeak = Math.max(sampledPeak, rss);
    onSample?.(rss, Number(process.hrtime.bigint() - start) / 1e9);
  }, sampleMs);
  return new Promise((resolve, reject) => {
    child.on('error', (err) => {
      clearInterval(timer);
      clearTimeout(killer);
      reject(err);
    });
    child.on('close', (code) => {
      clearInterval(timer);
      clearTimeout(killer);
      const wallS = Number(process.hrtime.bigint() - start) / 1e9;
      const cpuS = childrenCpuSeconds() - cpuBefore;
      let maxRss = 0;
      try {
        // GNU time prints "Command exited with non-zero status N" before the figure
        const lines = readFileSync(timeFile, 'latin1').trim().split('\n');
        maxRss = Number(lines[lines.length - 1]) || 0;
      } catch {
        // no GNU time, or it did not get to write
      }
      rmSync(tmp, { recursive: true, force: true });
      resolve({ code, timedOut, wallS, cpuS, peakRssKiB: Math.max(maxRss, sampledPeak), stderr });
    });
  });
}
