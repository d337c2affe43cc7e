export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'human' | 'json';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds these fields to every line (the worker id, once it is known). */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  format: LogFormat;
  level?: LogLevel;
  service?: string;
  write?: (line: string) => void;
}

function human(level: LogLevel, time: Date, msg: string, fields: LogFields): string {
  const { worker, job, input, durationMs, ...rest } = fields;
  const parts = [time.toISOString(), level.toUpperCase().padEnd(5)];
  if (worker) parts.push(`[${String(worker)}]`);
  if (job !== undefined) {
    parts.push(
      input === undefined ? `job ${String(job)}:` : `job ${String(job)} (${String(input)}):`,
    );
  } else if (input !== undefined) parts.push(`${String(input)}:`);
  parts.push(msg);
  if (typeof durationMs === 'number') parts.push(`(${durationMs.toFixed(1)} ms)`);
  const extra = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  if (extra.length) parts.push(extra.join(' '));
  return parts.join(' ');
}

/** Structured logs to stderr: one JSON object a line, or one readable line. */
export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const min = RANK[opts.level ?? 'info'];
  const service = opts.service ?? 'imgproc';
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const time = new Date();
    const all = { ...bound, ...fields };
    if (opts.format === 'json') {
      write(JSON.stringify({ level, time: time.toISOString(), service, ...all, msg }));
    } else {
      write(human(level, time, msg, all));
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}
