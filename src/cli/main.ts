import { type Command, CommanderError } from 'commander';
import { resolveBatchConfig } from '../config/batch.js';
import { daemonRequested } from '../config/daemon.js';
import {
  DEFAULT_MAX_PIXELS,
  DEFAULT_OUTPUT_OPTIONS,
  resolveProcessingOptions,
  type RawOptions,
} from '../config/options.js';
import { defaultMaxMemory, formatBytes } from '../pipeline/memory-budget.js';
import { UsageError, errorMessage } from '../errors.js';
import { VERSION } from '../version.js';
import {
  EXAMPLES,
  ERROR_PREFIX,
  HELP_POINTER,
  ImgprocCommand,
  mayUseSubcommands,
  splitShortAssignments,
  SUBCOMMANDS,
} from './command.js';
import { addDaemonOptions } from './daemon.js';
import { EXIT, exitCodeFor } from './exit-codes.js';
import { previewRequested, registerPreviewCommand, runBatchWithPreview } from './preview.js';

const d = DEFAULT_OUTPUT_OPTIONS;

async function addSubcommands(program: Command): Promise<void> {
  const [enqueue, queue, workers, doctor, verify, serve] = await Promise.all([
    import('./enqueue.js'),
    import('./queue.js'),
    import('./workers.js'),
    import('./doctor.js'),
    import('./verify.js'),
    import('./serve.js'),
  ]);
  enqueue.registerEnqueueCommand(program);
  queue.registerQueueCommands(program);
  workers.registerWorkersCommand(program);
  doctor.registerDoctor(program);
  verify.registerVerifyCommand(program);
  registerPreviewCommand(program);
  serve.registerServeCommand(program);
  const names = program.commands.map((c) => c.name());
  if (names.join() !== SUBCOMMANDS.join()) {
    throw new Error(
      `SUBCOMMANDS (${SUBCOMMANDS.join()}) must list every subcommand: ${names.join()}`,
    );
  }
}

function buildProgram(): Command {
  const program = new ImgprocCommand('imgproc')
    .description(
      'Turns folders of photos, a job manifest or a Redis queue into web derivatives: ' +
        'a thumbnail, a blurred placeholder, a low-quality copy (WebP) and a JSON sidecar ' +
        'with a palette and a CSS gradient.',
    )
    .version(VERSION, '-V, --version')
    .argument(
      '[inputs...]',
      'image files, folders (walked recursively), globs, s3://bucket/prefix/ or s3://bucket/key',
    )
    .option(
      '-o, --out <dir>',
      'output folder or s3://bucket/prefix (the input tree is mirrored under it)',
    )
    .option(
      '-m, --manifest <file>',
      'a JSON array or NDJSON of jobs: {"input", "id"?, "ops"?, "options"?}',
    )
    .option('--ops <list>', 'outputs to make: thumb,blur,lq,gradient (default: all)')
    .option('--thumb-width <px>', `thumbnail width, never enlarged (default: ${d.thumbWidth})`)
    .option(
      '--blur-sigma <sigma>',
      `Gaussian blur sigma of the placeholder (default: ${d.blurSigma})`,
    )
    .option('--lq-scale <factor>', `scale of the low-quality copy, 0-1 (default: ${d.lqScale})`)
    .option(
      '--lq-max-width <px>',
      `the low-quality copy is never wider than this (default: ${d.lqMaxWidth})`,
    )
    .option(
      '--widths <list>',
      'responsive widths to write as <stem>_w<N>.webp, for srcset: 320,640,1280 (default: none)',
    )
    .option(
      '--quality <q>',
      `WebP quality, one number or per output (default: thumb=${d.quality.thumb},blur=${d.quality.blur},lq=${d.quality.lq})`,
    )
    .option(
      '--effort <e>',
      `WebP effort 0-6, one number or per output; higher is smaller and slower (default: thumb=${d.effort.thumb},blur=${d.effort.blur},lq=${d.effort.lq})`,
    )
    .option('--palette-size <n>', `colours in the sidecar palette (default: ${d.paletteSize})`)
    .option('--keep-metadata', 'keep EXIF and XMP in outputs (default: stripped)')
    .option('-j, --concurrency <n>', 'images in flight (default: 2 x number of cores)')
    .option(
      '--max-pixels <n>',
      `refuse images whose header declares more pixels (default: ${DEFAULT_MAX_PIXELS})`,
    )
    .option(
      '--max-memory <size>',
      `memory the images in flight may take together, like 4GiB; each waits for its estimated peak (default: half of this machine's, ${formatBytes(defaultMaxMemory())})`,
    )
    .option('-f, --force', 'redo images whose outputs are already current')
    .option('-n, --dry-run', 'show what would be processed, write nothing')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'print only failures')
    .option('--no-progress', 'no progress bar or progress lines')
    .option('--fail-fast', 'stop starting new images after the first failure')
    .option(
      '--report <file>',
      'write a JSON report of every input (processed, skipped or failed and why)',
    )
    .option('--backend <name>', 'where resampling runs: auto, cuda or cpu (default: auto)')
    .option('--cpu', 'never touch the GPU (same as --backend cpu)')
    .option('--gpu <n>', 'CUDA device index (default: 0)')
    .option('--gpu-timeout <seconds>', 'time limit of one GPU operation (default: 30)')
    .option('--preview', 'also write <out>/index.html, an HTML contact sheet of the outputs')
    .option(
      '--s3-endpoint <url>',
      's3:// inputs and outputs: an S3-compatible endpoint (default: AWS_ENDPOINT_URL, else AWS)',
    )
    .option('--s3-path-style', 's3://: address buckets as http://host/bucket (MinIO, s3rver, Ceph)')
    .option(
      '--s3-region <region>',
      's3://: region (default: AWS_REGION or the profile, else us-east-1)',
    )
    .option('--cache-control <value>', 's3://: Cache-Control of every object written');
  // Before the subcommands are added, so that they inherit it: usage errors exit 2, not 1.
  program.exitOverride();
  program.configureOutput({
    outputError: (text, write) => write(text.replace(/^error: /, ERROR_PREFIX)),
  });
  // `imgproc help [command]`, although the root command also takes inputs.
  program.helpCommand(true).addHelpText('after', EXAMPLES);
  addDaemonOptions(program)
    .showHelpAfterError(HELP_POINTER)
    .action(async (inputs: string[], opts: RawOptions) => {
      if (daemonRequested(opts)) {
        const { runDaemon } = await import('./daemon.js');
        process.exitCode = await runDaemon(opts, resolveProcessingOptions(opts));
        return;
      }
      const config = resolveBatchConfig(inputs, opts);
      if (previewRequested(opts)) {
        process.exitCode = await runBatchWithPreview(config);
        return;
      }
      const { runBatch } = await import('./batch.js');
      process.exitCode = await runBatch(config);
    });
  return program;
}

async function main(argv: string[]): Promise<void> {
  // `imgproc … | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const program = buildProgram();
  if (mayUseSubcommands(argv.slice(2))) await addSubcommands(program);
  try {
    await program.parseAsync(splitShortAssignments(argv, program));
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; commander has already printed its message.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.stderr.write(`${ERROR_PREFIX}${errorMessage(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(`${HELP_POINTER}\n`);
    process.exitCode = exitCodeFor(err);
  }
}

void main(process.argv);
