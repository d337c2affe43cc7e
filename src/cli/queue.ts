import type { Command } from 'commander';
import { resolveStatusTtlMs } from '../config/daemon.js';
import { pick, type RawOptions } from '../config/options.js';
import { parseInteger } from '../config/validate.js';
import { UsageError } from '../errors.js';
import type { QueueKeys } from '../queue/keys.js';

/** --redis, --queue, --prefix on a queue command (each also IMGPROC_REDIS, _QUEUE, _PREFIX). */
export function addConnectionOptions(cmd: Command): Command {
  return cmd
    .option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379/0')
    .option('--queue <name>', 'queue list name (default: image_jobs)')
    .option('--prefix <prefix>', 'prefix of every Redis key (default: none)');
}

/** Connects for one short command: fails fast with a clear message when Redis is unreachable. */
export async function openQueue(raw: RawOptions) {
  const url = pick(raw, 'redis');
  if (typeof url !== 'string' || url === '') {
    throw new UsageError('this command needs --redis <url> (or IMGPROC_REDIS)');
  }
  const [{ queueKeys }, { clientConnection }] = await Promise.all([
    import('../queue/keys.js'),
    import('../queue/connection.js'),
  ]);
  const str = (k: string) => {
    const v = pick(raw, k);
    return typeof v === 'string' ? v : undefined;
  };
  const keys: QueueKeys = queueKeys({ prefix: str('prefix'), queue: str('queue') });
  const redis = await clientConnection(url);
  return { redis, keys };
}

function out(line: string): void {
  process.stdout.write(line + '\n');
}

/** `imgproc queue stats` and `imgproc queue retry-failed`. */
export function registerQueueCommands(program: Command): void {
  // Usage errors throw (exit 2 at the top) instead of exiting 1; subcommands inherit this.
  const queue = program
    .command('queue')
    .description('inspect and repair the Redis queue')
    .exitOverride();
  addConnectionOptions(
    queue
      .command('stats')
      .description('lengths of the pending, retry, failed, done and processing lists; live workers')
      .option('--json', 'print JSON on stdout'),
  ).action(async (_opts: RawOptions, cmd: Command) => {
    const opts = cmd.optsWithGlobals<RawOptions>();
    const { redis, keys } = await openQueue(opts);
    try {
      const { queueStats } = await import('../queue/admin.js');
      const s = await queueStats(redis, keys);
      if (opts.json) {
        out(JSON.stringify(s, null, 2));
        return;
      }
      out(`pending     ${s.pending}  (${s.keys.jobs})`);
      out(`retry       ${s.retry}  (${s.retryDue} due now)`);
      out(`failed      ${s.failed}`);
      out(`done        ${s.done}`);
      out(`workers     ${s.workers} live`);
      for (const p of s.processing) {
        out(
          `processing  ${p.length}  ${p.worker}${p.alive ? '' : '  (heartbeat expired: will be requeued)'}`,
        );
      }
    } finally {
      redis.disconnect();
    }
  });
  addConnectionOptions(
    queue
      .command('retry-failed')
      .description('move dead letters back to the queue, with fresh attempt counts')
      .option('--limit <n>', 'move at most this many (default: all)')
      .option(
        '--include-permanent',
        'move permanent failures too (malformed jobs, not an image, …), which fail again unless fixed',
      )
      .option(
        '--status-ttl <seconds>',
        "keep each moved job's status key (now queued) this long (default: 604800, a week)",
      )
      .option('--json', 'print JSON on stdout'),
  ).action(async (_opts: RawOptions, cmd: Command) => {
    const opts = cmd.optsWithGlobals<RawOptions>();
    const limit = opts.limit === undefined ? 0 : parseInteger('limit', String(opts.limit), 1, 1e9);
    const { redis, keys } = await openQueue(opts);
    try {
      const { retryFailed } = await import('../queue/admin.js');
      const all = opts.includePermanent === true;
      const ttl = resolveStatusTtlMs(opts);
      const { moved, permanentLeft } = await retryFailed(redis, keys, limit, all, ttl);
      if (opts.json) out(JSON.stringify({ moved, permanentLeft, queue: keys.jobs }));
      else {
        out(`moved ${moved} job(s) from ${keys.failed} back to ${keys.jobs}`);
        if (permanentLeft) {
          out(
            `left ${permanentLeft} permanent failure(s) in ${keys.failed}: they fail again as they are; --include-permanent moves them too`,
          );
        }
      }
    } finally {
      redis.disconnect();
    }
  });
  // `imgproc queue` and `imgproc queue bogus` list the subcommands.
  queue.showHelpAfterError(true);
}
