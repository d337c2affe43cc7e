import { Chalk, type ChalkInstance } from 'chalk';
import cliProgress from 'cli-progress';

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

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.round(seconds - m * 60)).padStart(2, '0')}s`;
}

/** Everything a human reads goes through here, to stderr; machine output goes to stdout. */
export class Reporter {
  readonly c: ChalkInstance;
  private bars?: cliProgress.MultiBar;
  private bar?: cliProgress.SingleBar;
  private total = 0;
  private done = 0;
  private started = 0;
  private lastPlain = 0;

  constructor(private readonly opts: ReporterOptions) {
    this.c = new Chalk({ level: colourEnabled() ? 1 : 0 });
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
