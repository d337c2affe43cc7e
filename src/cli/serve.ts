import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { RawOptions } from '../config/options.js';
import { checkTokens, isLoopback, resolveServeConfig } from '../config/serve.js';
import { UsageError, errorMessage } from '../errors.js';
import { addConnectionOptions } from './queue.js';

/** Tokens in a file: one a line; blank lines and lines starting with # skipped. */
async function readTokenFile(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --token-file ${path}: ${errorMessage(err)}`);
  }
  const tokens = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (tokens.length === 0) throw new UsageError(`--token-file ${path} holds no token`);
  return checkTokens(tokens, 'token-file');
}

/** `imgproc serve`: an HTTP front that queues uploads for the daemons and serves their outputs. */
export function registerServeCommand(program: Command): void {
  addConnectionOptions(
    program
      .command('serve')
      .exitOverride()
      .description('HTTP front for the queue: POST an image, follow its job, download its outputs')
      .option(
        '--data-dir <dir>',
        "the daemons' data folder: uploads are stored in it, job inputs resolve in it (default: cwd)",
      )
      .option(
        '--upload-dir <dir>',
        'folder inside --data-dir for uploads, or an s3://bucket/prefix under --allow (default: uploads)',
      )
      .option('--host <address>', 'address to listen on (default: 127.0.0.1)')
      .option('--port <port>', 'port to listen on, 0 for any free one (default: 8080)')
      .option(
        '--token <token>',
        'a bearer token clients must send; repeat for more (required beyond loopback)',
        (value: string, previous?: string) => (previous ? `${previous},${value}` : value),
      )
      .option('--token-file <file>', 'bearer tokens, one a line (# comments)')
      .option('--max-upload <size>', 'largest upload taken, like 50MiB (default: 50MiB)')
      .option(
        '--upload-timeout <seconds>',
        'time to receive a whole upload; slower ones get 408 (default: 300)',
      )
      .option(
        '--request-timeout <seconds>',
        'time to receive headers and answer any other request (default: 30)',
      )
      .option('--max-wait <seconds>', 'longest ?wait= of a status request (default: 60)')
      .option(
        '--status-ttl <seconds>',
        "keep each job's status key this long after its last change (default: 604800, a week)",
      )
      .option(
        '--allow <s3-prefix>',
        'an s3://bucket/prefix a JSON job may name as input, and whose outputs are served; repeat for more',
        (value: string, previous?: string) => (previous ? `${previous},${value}` : value),
      )
      .option(
        '--output-cache-control <value>',
        'Cache-Control of served outputs (default: public, max-age=3600)',
      ),
  )
    .addHelpText(
      'after',
      `
Examples:
  imgproc serve --redis redis://127.0.0.1:6379/0 --data-dir /srv/media
  imgproc serve --redis redis://r:6379 --data-dir /srv/media \\
    --host 0.0.0.0 --token-file /etc/imgproc/tokens
  curl -H 'Content-Type: image/jpeg' --data-binary @a.jpg \\
    http://127.0.0.1:8080/v1/jobs
  curl 'http://127.0.0.1:8080/v1/jobs/<id>?wait=30'

Run daemons with the same --redis and --data-dir to do the work; on other
machines, with --upload-dir s3://bucket/prefix and the same --allow.
Every option can also be set as IMGPROC_<NAME>, e.g. IMGPROC_TOKEN
(comma-separated), IMGPROC_MAX_UPLOAD=20MiB.`,
    )
    .action(async (_opts: RawOptions, cmd: Command) => {
      const opts = cmd.optsWithGlobals<RawOptions>();
      const config = resolveServeConfig(opts);
      if (config.tokenFile) config.tokens.push(...(await readTokenFile(config.tokenFile)));
      if (!isLoopback(config.host) && config.tokens.length === 0) {
        throw new UsageError(
          `serve listens on ${config.host}, beyond this machine: give clients a token with --token or --token-file (or IMGPROC_TOKEN)`,
        );
      }
      process.exitCode = await runServer(config);
    });
}

async function runServer(config: ReturnType<typeof resolveServeConfig>): Promise<number> {
  const log = (line: string) => process.stderr.write(`imgproc serve: ${line}\n`);
  let signalled: (sig: string) => void = () => {};
  const stop = new Promise<string>((r) => (signalled = r));
  const onSignal = (sig: NodeJS.Signals) => signalled(sig);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { startServer } = await import('../serve/start.js');
    const server = await startServer(config, log);
    const auth = config.tokens.length ? `${config.tokens.length} token(s)` : 'no token (loopback)';
    log(`listening on ${server.url} (queue ${config.queue ?? 'image_jobs'}, ${auth})`);
    const sig = await stop;
    log(`${sig}: stopping`);
    await server.close();
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
