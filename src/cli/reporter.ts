import { createRequire } from 'node:module';
import type cliProgressModule from 'cli-progress';

export interface ReporterOptions {
  quiet: boolean;
  progress: boolean;
  /** Plain progress lines every this many ms when stderr is not a TTY (cron logs). */
  plainIntervalMs?: number;
}

function colourEnabled(): boolean {
  if ('NO_COLOR' in process.env && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR) return true;
  return Boolean(process.stderr.isTTY);
}

/** The four styles the CLI uses, as 16-colour ANSI codes, or plain text when colour is off. */
export interface Colours {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  dim(text: string): string;
}

/**
 * Wraps text in an ANSI style as chalk does at level 1: a close code inside is reopened after, and
 * each line break closes and reopens the style, so a pager never carries it to the next line.
 */
function style(open: number, close: number): (text: string) => string {
  const on = `\x1b[${open}m`;
  const off = `\x1b[${close}m`;
  return (text) => {
    if (text === '') return '';
    const body = text
      .split(off)
      .join(off + on)
      .replace(/(\r?\n)/g, `${off}$1${on}`);
    return on + body + off;
  };
}

export function colours(enabled: boolean): Colours {
  if (!enabled) {
    const plain = (text: string) => text;
    return { red: plain, green: plain, yellow: plain, dim: plain };
  }
  return { red: style(31, 39), green: style(32, 39), yellow: style(33, 39), dim: style(2, 22) };
}

/** cli-progress only when a bar is drawn: a run in a pipe or cron never loads it. */
function loadProgress(): typeof cliProgressModule {
  return createRequire(import.meta.url)('cli-progress') as typeof cliProgressModule;
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

/** Everything a human reads goes through here, to stderr; machine output goes to stdout. */
export class Reporter {
  readonly c: Colours;
  private bars?: cliProgressModule.MultiBar;
  private bar?: cliProgressModule.SingleBar;
  private total = 0;
  private done = 0;
  private started = 0;
  private lastPlain = 0;

  constructor(private readonly opts: ReporterOptions) {
    this.c = colours(colourEnabled());
  }

  info(line: string): void {
    if (!this.opts.quiet) this.write(line);
  }

  warn(line: string): void {
    this.write(`${this.c.yellow('warning:')} ${line}`);
  }

  /** One line per input that failed: file, reason, what to do. */
  failure(input: string, reason: string, hint?: string): void {
    const tail = hint ? ` ${this.c.dim(`(${hint})`)}` : '';
    this.write(`${this.c.red('✗')} ${input}: ${reason}${tail}`);
  }

  error(line: string): void {
    this.write(`${this.c.red('error:')} ${line}`);
  }

  startProgress(total: number): void {
    this.total = total;
    this.done = 0;
    this.started = this.lastPlain = Date.now();
    if (this.opts.quiet || !this.opts.progress || total === 0) return;
    if (process.stderr.isTTY) {
      const cliProgress = loadProgress();
      // A MultiBar, for its log(): messages print above the bar instead of through it.
      this.bars = new cliProgress.MultiBar(
        {
          format: ' {bar} {value}/{total} | {speed}',
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: true,
          // Lines logged above the bar wrap whole; only the bar itself is cut to the width.
          linewrap: true,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar = this.bars.create(total, 0, { speed: 'rate: not known yet' });
    }
  }

  tick(): void {
    this.done++;
    if (this.opts.quiet || !this.opts.progress) return;
    const elapsed = (Date.now() - this.started) / 1000;
    const rate = elapsed > 0 ? this.done / elapsed : 0;
    if (this.bar) {
      const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
      const speed = `${rate.toFixed(1)} img/s | ETA ${formatDuration(eta)}`;
      this.bar.update(this.done, { speed });
      return;
    }
    const now = Date.now();
    if (now - this.lastPlain >= (this.opts.plainIntervalMs ?? 5000) || this.done === this.total) {
      this.lastPlain = now;
      const eta = rate > 0 ? (this.total - this.done) / rate : Infinity;
      const pct = Math.floor((100 * this.done) / this.total);
      process.stderr.write(
        `progress: ${this.done}/${this.total} (${pct}%) ${rate.toFixed(1)} img/s, ETA ${formatDuration(eta)}\n`,
      );
    }
  }

  stopProgress(): void {
    // update() writes out the lines log() is still holding; stop() alone would drop them.
    this.bars?.update();
    this.bars?.stop();
    this.bars = undefined;
    this.bar = undefined;
  }

  private write(line: string): void {
    if (this.bars) this.bars.log(line + '\n');
    else process.stderr.write(line + '\n');
  }
}
