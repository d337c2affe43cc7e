import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BatchConfig } from '../config/batch.js';
import { envName, pick, type RawOptions } from '../config/options.js';
import { parseBoolean } from '../config/validate.js';
import { UsageError } from '../errors.js';
import type { InputFailure } from '../verify/types.js';
import { EXIT } from './exit-codes.js';

interface BatchReport {
  items?: { input: string; status: string; reason?: string }[];
}

/** The inputs a batch `--report` file lists as failed or not started. */
async function failuresFrom(reportPath: string): Promise<InputFailure[]> {
  let report: BatchReport;
  try {
    report = JSON.parse(await readFile(reportPath, 'utf8')) as BatchReport;
  } catch (err) {
    throw new UsageError(
      `--report ${reportPath}: cannot read it as a JSON report (${(err as Error).message})`,
    );
  }
  return (report.items ?? [])
    .filter((i) => i.status === 'failed' || i.status === 'not-started')
    .map((i) => ({ input: i.input, reason: i.reason ?? i.status }));
}

async function writeAndSay(dir: string, failures: InputFailure[], quiet: boolean): Promise<void> {
  const { writePreview } = await import('../verify/preview.js');
  const summary = await writePreview(dir, failures);
  if (!quiet) process.stderr.write(`preview: ${summary.path} (${summary.images} images)\n`);
}

/** `imgproc preview DIR`: an HTML contact sheet of an output folder. */
export function registerPreviewCommand(program: Command): void {
  program
    .command('preview')
    .description(
      'write DIR/index.html, a contact sheet of an output folder: thumbnails, blur, ' +
        'placeholders, palettes, gradients, links to every output, and failures',
    )
    .argument('<dir>', 'an output folder (the --out of a run)')
    .option('--report <file>', "a run's --report file: its failed inputs are listed")
    .action(async (dir: string, _opts: RawOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RawOptions>();
      const folder = resolve(dir);
      if (
        !(await stat(folder).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      ) {
        throw new UsageError(`preview ${dir}: no such folder`);
      }
      const report = typeof opts.report === 'string' ? resolve(opts.report) : undefined;
      await writeAndSay(folder, report ? await failuresFrom(report) : [], opts.quiet === true);
      process.exitCode = EXIT.ok;
    });
}

/** Whether `--preview` (or IMGPROC_PREVIEW) asks for the contact sheet after a run. */
export function previewRequested(raw: RawOptions): boolean {
  const v = pick(raw, 'preview');
  return typeof v === 'string' ? parseBoolean(envName('preview'), v) : v === true;
}

/** A run with `--preview`: the batch as usual, then the contact sheet with the run's failures. */
export async function runBatchWithPreview(config: BatchConfig): Promise<number> {
  const { runBatch } = await import('./batch.js');
  const ownReport = config.reportPath === undefined;
  const reportPath =
    config.reportPath ??
    join(tmpdir(), `imgproc-preview-report-${randomBytes(6).toString('hex')}.json`);
  try {
    const code = await runBatch({ ...config, reportPath });
    if (!config.dryRun) {
      const failures = await failuresFrom(reportPath).catch(() => []);
      await writeAndSay(config.outDir, failures, config.quiet);
    }
    return code;
  } finally {
    if (ownReport) await rm(reportPath, { force: true });
  }
}
