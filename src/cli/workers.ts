import type { Command } from 'commander';
import type { RawOptions } from '../config/options.js';
import { addConnectionOptions, openQueue } from './queue.js';

function mb(n: unknown): string {
  return typeof n === 'number' ? `${Math.round(n / 1048576)} MB` : '?';
}

/** `imgproc workers`: live workers and their latest heartbeat. */
export function registerWorkersCommand(program: Command): void {
  addConnectionOptions(
    program
      .command('workers')
      .exitOverride()
      .description('live queue workers with their heartbeat metrics')
      .option('--json', 'print JSON on stdout'),
  ).action(async (_opts: RawOptions, cmd: Command) => {
    const opts = cmd.optsWithGlobals<RawOptions>();
    const { redis, keys } = await openQueue(opts);
    try {
      const { listWorkers } = await import('../queue/admin.js');
      const workers = await listWorkers(redis, keys);
      if (opts.json) {
        process.stdout.write(JSON.stringify(workers, null, 2) + '\n');
        return;
      }
      if (workers.length === 0) {
        process.stdout.write(`no live workers on ${keys.jobs}\n`);
        return;
      }
      for (const w of workers) {
        const mem = (w.memory ?? {}) as Record<string, unknown>;
        const current = Array.isArray(w.current) && w.current.length ? w.current.join(',') : 'idle';
        const gpu = w.gpu
          ? ` gpu=${String(w.gpu)}${w.gpuUtilPercent !== undefined ? ` ${String(w.gpuUtilPercent)}%` : ''}`
          : '';
        process.stdout.write(
          `${w.id}  pid=${String(w.pid)} backend=${String(w.backend)}${gpu} done=${String(w.jobsDone)} ` +
            `failed=${String(w.jobsFailed)} cpu=${String(w.cpuPercent)}% rss=${mb(mem.rss)} ` +
            `uptime=${String(w.uptimeS)}s current=${current}\n`,
        );
      }
    } finally {
      redis.disconnect();
    }
  });
}
