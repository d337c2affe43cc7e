import { realpath, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { writeAtomic } from '../storage/atomic-write.js';

/** Where --report goes: stdout (`-`), a regular file (replaced atomically), or a pipe or device. */
export type ReportTarget =
  { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 'stream'; path: string };

/**
 * Checked before any work, so that a bad --report fails at once, not after the whole run. A
 * symbolic link to a file is followed, and the link kept; pipes and devices are written, never
 * replaced by a rename.
 */
export async function checkReportTarget(report: string): Promise<ReportTarget> {
  if (report === '-') return { kind: 'stdout' };
  const st = await stat(report).catch(() => undefined);
  if (st?.isDirectory()) {
    throw new UsageError(`--report ${report} is a folder; give a file name, or - for stdout`);
  }
  if (st && !st.isFile()) return { kind: 'stream', path: report };
  if (st) return { kind: 'file', path: await realpath(report) };
  const parent = await stat(dirname(report)).catch(() => undefined);
  if (!parent?.isDirectory()) {
    throw new UsageError(`--report ${report}: the folder ${dirname(report)} does not exist`);
  }
  return { kind: 'file', path: report };
}

export async function writeReport(target: ReportTarget, text: string): Promise<void> {
  if (target.kind === 'stdout') process.stdout.write(text);
  else if (target.kind === 'stream') await writeFile(target.path, text);
  else await writeAtomic(target.path, text);
}
