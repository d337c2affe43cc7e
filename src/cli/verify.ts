import type { Command } from 'commander';
import { readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pick, resolveProcessingOptions, type RawOptions } from '../config/options.js';
import { resolveObjectStoreSettings } from '../config/object-store.js';
import { UsageError } from '../errors.js';
import { writeAtomic } from '../storage/atomic-write.js';
import type { InputFailure, VerifyResult } from '../verify/types.js';
import { EXIT } from './exit-codes.js';
import { Reporter } from './reporter.js';

/** The processing flags a verify run passes on to the batch run (inherited from the program). */
const PROCESSING_KEYS = [
  'manifest',
  'ops',
  'thumbWidth',
  'blurSigma',
  'lqScale',
  'quality',
  'effort',
  'paletteSize',
  'keepMetadata',
  'widths',
  'lqMaxWidth',
  'concurrency',
  'maxPixels',
  'backend',
  'cpu',
  'gpu',
  'gpuTimeout',
];

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function isFolder(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** `imgproc verify`: a run compared with an expected folder; see runVerifyCommand. */
export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description(
      'process the inputs into a temporary folder as a normal run would (same processing flags), ' +
        'and compare every output and sidecar with --expected DIR, made by an earlier ' +
        '`imgproc <inputs> --out DIR`; or compare two existing folders with --actual DIR. ' +
        'Exit 0: within tolerance, 4: outputs differ, 3: inputs failed, 2: usage. --json prints the result.',
    )
    .argument('[inputs...]', 'image files, folders and globs, as for a run')
    .option('--expected <dir>', 'the folder of trusted outputs to compare with (required)')
    .option('--actual <dir>', 'compare this existing output folder instead of processing inputs')
    .option(
      '--tolerance <name=value>',
      'override a tolerance, e.g. thumb.mismatch=0.05,lq.ssim=0.97 (repeatable; "off" disables)',
      collect,
    )
    .option(
      '--config <file>',
      'tolerances and options file (default: <expected>/imgproc-verify.json)',
    )
    .option(
      '--update',
      'replace the expected folder with this run (atomically) and list what changed',
    )
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--html <dir>', 'write a self-contained HTML report to <dir>/index.html')
    .action(async (inputs: string[], _opts: RawOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RawOptions & { tolerance?: string[] }>();
      process.exitCode = await runVerifyCommand(inputs, opts);
    });
}

export async function runVerifyCommand(
  inputs: string[],
  opts: RawOptions & { tolerance?: string[] },
): Promise<number> {
  const reporter = new Reporter({ quiet: opts.quiet === true, progress: false });
  const expected = pick(opts, 'expected');
  if (typeof expected !== 'string' || expected === '') {
    throw new UsageError('missing --expected DIR: the folder of trusted outputs to compare with');
  }
  const expectedDir = resolve(expected);
  const actual = typeof opts.actual === 'string' ? resolve(opts.actual) : undefined;
  const manifest = pick(opts, 'manifest');
  if (actual && (inputs.length > 0 || manifest)) {
    throw new UsageError('give inputs (or --manifest) to process, or --actual DIR, not both');
  }
  if (!actual && inputs.length === 0 && !manifest) {
    throw new UsageError(
      'no inputs: give files, folders or globs, --manifest FILE, or --actual DIR',
    );
  }
  if (actual && !(await isFolder(actual)))
    throw new UsageError(`--actual ${actual}: no such folder`);
  if (actual && opts.update) throw new UsageError('--update needs inputs to process, not --actual');
  const update = opts.update === true;
  if (!update && !(await isFolder(expectedDir))) {
    throw new UsageError(
      `--expected ${expected}: no such folder (make it with \`imgproc <inputs> --out ${expected}\`, or add --update)`,
    );
  }

  const { loadVerifyConfig } = await import('../verify/config.js');
  const config = await loadVerifyConfig(
    expectedDir,
    typeof opts.config === 'string' ? resolve(opts.config) : undefined,
    opts.tolerance ?? [],
  );
  // Flags win over the config file's options, which win over the defaults.
  const processingRaw: RawOptions = { ...config.processing };
  for (const key of PROCESSING_KEYS) if (opts[key] !== undefined) processingRaw[key] = opts[key];
  const processing = resolveProcessingOptions(processingRaw);

  const { runVerify } = await import('../verify/run.js');
  const produce = async (outDir: string): Promise<InputFailure[]> => {
    const { runBatch } = await import('./batch.js');
    const reportPath = join(
      tmpdir(),
      `imgproc-verify-report-${randomBytes(6).toString('hex')}.json`,
    );
    try {
      await runBatch({
        inputs,
        manifest: typeof manifest === 'string' && manifest !== '' ? manifest : undefined,
        outDir,
        reportPath,
        dryRun: false,
        failFast: false,
        json: false,
        quiet: true,
        objectStore: resolveObjectStoreSettings(opts as RawOptions),
        progress: false,
        processing: { ...processing, force: true },
      });
      const report = JSON.parse(await readFile(reportPath, 'utf8')) as {
        items: { input: string; status: string; reason?: string }[];
      };
      return report.items
        .filter((i) => i.status === 'failed' || i.status === 'not-started')
        .map((i) => ({ input: i.input, reason: i.reason ?? i.status }));
    } finally {
      await rm(reportPath, { force: true });
    }
  };

  const { result, updated } = await runVerify({
    expectedDir,
    actualDir: actual,
    produce: actual ? undefined : produce,
    actualOptions: actual ? undefined : processing.output,
    tolerances: config.tolerances,
    concurrency: processing.concurrency,
    update,
    report: (r) => writeReports(r, opts),
  });
  printResult(result, reporter, updated);
  if (opts.json === true) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (result.failures.length > 0) return EXIT.someFailed;
  if (updated) return EXIT.ok;
  return result.passed ? EXIT.ok : EXIT.outputsDiffer;
}

async function writeReports(result: VerifyResult, opts: RawOptions): Promise<void> {
  if (typeof opts.junit === 'string' && opts.junit !== '') {
    const { junitXml } = await import('../verify/report-junit.js');
    await writeAtomic(resolve(opts.junit), junitXml(result));
  }
  if (typeof opts.html === 'string' && opts.html !== '') {
    const { writeHtmlReport } = await import('../verify/report-html.js');
    await writeHtmlReport(result, resolve(opts.html));
  }
}

function printResult(result: VerifyResult, reporter: Reporter, updated: boolean): void {
  const c = reporter.c;
  const differences = [...result.items.flatMap((i) => i.differences), ...result.files];
  for (const d of differences) {
    const where = d.output === 'file' ? d.item : `${d.item} ${d.output}`;
    if (updated) reporter.info(`${c.yellow('updated')} ${where}: ${d.message}`);
    else reporter.failure(where, d.message);
  }
  for (const o of result.options) {
    const line = `option ${o.option} differs: the expected run used ${o.expected}, this run ${o.actual} (${o.items} ${o.items === 1 ? 'item' : 'items'})`;
    if (o.fails && !updated) reporter.failure('options', line);
    else reporter.info(`note: ${line}`);
  }
  for (const n of result.notes) reporter.info(`note: ${n}`);
  const s = result.summary;
  const parts = [
    `${s.identical} identical`,
    `${s.within} within tolerance`,
    `${s.differs} differ`,
    `${s.missing} missing`,
    `${s.extra} extra`,
  ];
  if (result.files.length) parts.push(`${result.files.length} other files differ`);
  if (s.inputsFailed) parts.push(`${s.inputsFailed} inputs failed`);
  const verdict = updated
    ? c.yellow(`updated ${result.expectedDir}`)
    : result.passed
      ? c.green('pass')
      : c.red('FAIL');
  reporter.info(
    `verify ${verdict}: ${s.items} items: ${parts.join(', ')} in ${result.seconds.toFixed(1)} s`,
  );
}
