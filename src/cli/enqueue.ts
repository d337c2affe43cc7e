import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  DEFAULT_OUTPUT_OPTIONS,
  jobOptionOverrides,
  pick,
  resolveOps,
  resolveOutputOptions,
} from '../config/options.js';
import { UsageError, errorMessage } from '../errors.js';
import { relativeInside } from '../paths.js';
import { addConnectionOptions, openQueue } from './queue.js';

type Raw = Record<string, string | boolean | undefined>;

/** The checks the daemon makes before processing, so that a bad value fails here, not later. */
function checkJobSettings(job: { ops?: string[] | string; options?: unknown }): void {
  if (job.ops !== undefined) {
    resolveOps({ ops: Array.isArray(job.ops) ? job.ops.join(',') : job.ops }, {});
  }
  if (job.options !== undefined) {
    resolveOutputOptions(jobOptionOverrides(job.options), DEFAULT_OUTPUT_OPTIONS, {});
  }
}

/** Manifest entries (JSON array or NDJSON), each checked like the worker checks a job. */
async function manifestJobs(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    throw new UsageError(`cannot read manifest ${path}: ${errorMessage(err)}`);
  });
  if (text.trimStart().startsWith('[')) {
    try {
      return JSON.parse(text) as unknown[];
    } catch (err) {
      throw new UsageError(`manifest ${path} is not valid JSON: ${errorMessage(err)}`);
    }
  }
  return text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter(({ line }) => line !== '' && !line.startsWith('//'))
    .map(({ line, n }) => {
      try {
        return JSON.parse(line) as unknown;
      } catch (err) {
        throw new UsageError(`${path}:${n}: not valid JSON: ${errorMessage(err)}`);
      }
    });
}

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
      .option('--json', 'print the queued ids as JSON on stdout'),
  ).action(async (inputs: string[], _opts: Raw, cmd: Command) => {
    const opts = cmd.optsWithGlobals<Raw>();
    const dataDirRaw = pick(opts, 'dataDir');
    const dataDir = resolve(typeof dataDirRaw === 'string' ? dataDirRaw : '.');
    const [{ parseJob }, { discoverInputs }, { pushJobs }] = await Promise.all([
      import('../queue/job.js'),
      import('../plan/discover.js'),
      import('../queue/producer.js'),
    ]);
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
        checkJobSettings({ options: extra.options });
      } catch (err) {
        throw new UsageError(`--options: ${errorMessage(err)}`);
      }
    }

    const entries: unknown[] = [];
    if (typeof opts.manifest === 'string') entries.push(...(await manifestJobs(opts.manifest)));
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
        entries.push({ input: rel });
      }
    }
    if (entries.length === 0) throw new UsageError('nothing to enqueue: give inputs or --manifest');

    const raws: string[] = [];
    const ids: string[] = [];
    entries.forEach((entry, i) => {
      const withExtra = { ...extra, ...(entry as Record<string, unknown>) };
      let job;
      try {
        job = parseJob(JSON.stringify(withExtra));
        checkJobSettings(job);
      } catch (err) {
        throw new UsageError(`job ${i + 1}: ${errorMessage(err)}`);
      }
      raws.push(JSON.stringify({ ...withExtra, id: job.id, input: job.input }));
      ids.push(job.id);
    });

    const { redis, keys } = await openQueue(opts);
    try {
      const length = await pushJobs(redis, keys, raws);
      if (opts.json) {
        process.stdout.write(
          JSON.stringify({ queue: keys.jobs, count: raws.length, length, ids }) + '\n',
        );
      } else {
        process.stderr.write(
          `enqueued ${raws.length} job(s) on ${keys.jobs} (${length} pending)\n`,
        );
      }
    } finally {
      redis.disconnect();
    }
    return;
  });
}
