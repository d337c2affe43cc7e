import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveStatusTtlMs } from '../config/daemon.js';
import { pick, resolveOps, type RawOptions } from '../config/options.js';
import { UsageError, errorMessage } from '../errors.js';
import { relativeInside } from '../paths.js';
import type { JobListItem } from '../plan/job-entry.js';
import type { ReadyJob } from '../queue/producer.js';
import { addConnectionOptions, openQueue } from './queue.js';

/** `imgproc enqueue <inputs...>`: push jobs for files, folders, globs or a manifest. */
export function registerEnqueueCommand(program: Command): void {
  addConnectionOptions(
    program
      .command('enqueue')
      .exitOverride()
      .description('push jobs onto the Redis queue for daemons to process')
      .argument(
        '[inputs...]',
        'image files, folders and globs inside --data-dir; relative ones resolve in --data-dir',
      )
      .option(
        '--data-dir <dir>',
        "the daemons' data folder: relative inputs resolve in it, and job paths are written relative to it (default: cwd)",
      )
      .option(
        '-m, --manifest <file>',
        'a JSON array or NDJSON of jobs {"input","id"?,"ops"?,"options"?,"out"?}',
      )
      .option('--ops <list>', 'outputs to make for these jobs: thumb,blur,lq,gradient')
      .option('--out <dir>', 'output folder inside the data folder (default: processed)')
      .option('--options <json>', 'per-job option overrides, e.g. \'{"thumbWidth":320}\'')
      .option(
        '--status-ttl <seconds>',
        "keep each job's status key this long after its last change (default: 604800, a week)",
      )
      .option('--json', 'print the queued ids as JSON on stdout'),
  ).action(async (inputs: string[], _opts: RawOptions, cmd: Command) => {
    const opts = cmd.optsWithGlobals<RawOptions>();
    const dataDirRaw = pick(opts, 'dataDir');
    const dataDir = resolve(typeof dataDirRaw === 'string' ? dataDirRaw : '.');
    const statusTtlMs = resolveStatusTtlMs(opts);
    const [{ deriveJobId }, { discoverInputs }, { enqueueJobs }, jobEntry] = await Promise.all([
      import('../queue/job.js'),
      import('../plan/discover.js'),
      import('../queue/producer.js'),
      import('../plan/job-entry.js'),
    ]);
    // Flag values every job takes unless it names its own.
    const extra: Record<string, unknown> = {};
    if (typeof opts.ops === 'string') extra.ops = resolveOps({ ops: opts.ops }, {});
    if (typeof opts.out === 'string') extra.out = opts.out;
    if (typeof opts.options === 'string') {
      try {
        extra.options = JSON.parse(opts.options) as unknown;
      } catch (err) {
        throw new UsageError(`--options must be a JSON object: ${errorMessage(err)}`);
      }
      try {
        jobEntry.parseJobEntry({ input: '-', options: extra.options }, jobEntry.QUEUE_JOB_KEYS);
      } catch (err) {
        throw new UsageError(`--options: ${errorMessage(err)}`);
      }
    }

    const items: JobListItem[] = [];
    if (typeof opts.manifest === 'string') {
      items.push(...(await jobEntry.readJobList(opts.manifest)));
    }
    if (inputs.length) {
      // Relative inputs name paths in the data folder, as job inputs do for the daemon.
      const { inputs: found, problems } = await discoverInputs(inputs, dataDir);
      if (problems.length) {
        throw new UsageError(problems.map((p) => `${p.input}: ${p.reason}`).join('\n'));
      }
      for (const f of found) {
        const rel = relativeInside(dataDir, f.path);
        if (!rel) {
          throw new UsageError(
            `${f.path} is outside the data folder ${dataDir}: inputs must be inside --data-dir`,
          );
        }
        items.push({ where: f.path, value: { input: rel } });
      }
    }
    if (items.length === 0) throw new UsageError('nothing to enqueue: give inputs or --manifest');

    // All or nothing: one bad job queues none, so that a fixed manifest can simply be re-run.
    const ready: ReadyJob[] = [];
    const problems: string[] = [];
    items.forEach((item, i) => {
      const label = `job ${i + 1}: ${item.where}`;
      if (item.error !== undefined) {
        problems.push(`${label}: ${item.error}`);
        return;
      }
      const isObject =
        typeof item.value === 'object' && item.value !== null && !Array.isArray(item.value);
      const job = isObject ? { ...extra, ...(item.value as object) } : item.value;
      try {
        const entry = jobEntry.parseJobEntry(job, jobEntry.QUEUE_JOB_KEYS);
        const id = entry.id ?? deriveJobId(job as Record<string, unknown>);
        const raw = JSON.stringify({ ...(job as object), id, input: entry.input });
        ready.push({ raw, id, input: entry.input });
      } catch (err) {
        problems.push(`${label}: ${errorMessage(err)}`);
      }
    });
    if (problems.length) {
      const shown = problems.slice(0, 20);
      if (problems.length > shown.length) shown.push(`… and ${problems.length - 20} more`);
      throw new UsageError(`nothing queued:\n${shown.join('\n')}`);
    }

    const { redis, keys } = await openQueue(opts);
    try {
      const { length, conflicts } = await enqueueJobs(redis, keys, ready, statusTtlMs);
      const ids = ready.map((job) => job.id);
      for (const c of conflicts.slice(0, 20)) {
        process.stderr.write(
          `warning: id "${c.id}" belongs to another input ("${c.boundTo}"): the job for ${c.input} will fail with ID_CONFLICT\n`,
        );
      }
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({ queue: keys.jobs, count: ready.length, length, ids }) + '\n',
        );
      } else {
        process.stderr.write(
          `enqueued ${ready.length} job(s) on ${keys.jobs} (${length} pending)\n`,
        );
      }
    } finally {
      redis.disconnect();
    }
    return;
  });
}
