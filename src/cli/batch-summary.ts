import type { Sidecar } from '../pipeline/types.js';
import type { NameCollision } from '../plan/plan.js';
import type { Reporter } from './reporter.js';

/**
 * One input's outcome. Paths follow one convention, in --report and --json alike: `input` is
 * absolute; `sidecar` and `outputs.*.path` are relative to --out, as in the sidecar itself.
 */
export interface ReportItem {
  input: string;
  status: 'processed' | 'skipped' | 'failed' | 'not-started';
  outputs?: Sidecar['outputs'];
  sidecar?: string;
  code?: string;
  reason?: string;
  hint?: string;
}

const byInput = (a: ReportItem, b: ReportItem) =>
  a.input < b.input ? -1 : a.input > b.input ? 1 : 0;

/** Counts every outcome; keeps failures always (they are few) and every item only for --report. */
export class BatchOutcome {
  readonly counts: Record<ReportItem['status'], number> = {
    processed: 0,
    skipped: 0,
    failed: 0,
    'not-started': 0,
  };
  private readonly items: ReportItem[] = [];
  private readonly failed: ReportItem[] = [];
  /** Inputs that wrote nothing: failed or never started. */
  private readonly unwritten = new Set<string>();

  constructor(private readonly keepItems: boolean) {}

  record(item: ReportItem): void {
    this.counts[item.status]++;
    if (this.keepItems) this.items.push(item);
    if (item.status === 'failed') this.failed.push(item);
    if (item.status === 'failed' || item.status === 'not-started') this.unwritten.add(item.input);
  }

  wrote(input: string): boolean {
    return !this.unwritten.has(input);
  }

  /** In input order, whatever order the images finished in. */
  failures(): ReportItem[] {
    return [...this.failed].sort(byInput);
  }

  allItems(): ReportItem[] {
    return [...this.items].sort(byInput);
  }
}

/** Names listed in one warning line; the rest are counted. */
const NAMES_PER_LINE = 5;
/** Warning lines about renames; the rest are counted in one more line. */
const COLLISION_LINES = 10;

function listed(names: string[]): string {
  const head = names.slice(0, NAMES_PER_LINE).join(', ');
  const rest = names.length - NAMES_PER_LINE;
  return rest > 0 ? `${head} and ${rest} more` : head;
}

/**
 * One line per group of inputs that share output names, for the members that were written (a
 * group whose files all failed wrote nothing to tell apart), at most COLLISION_LINES lines.
 */
export function warnCollisions(
  reporter: Reporter,
  collisions: NameCollision[],
  wrote: (input: string) => boolean,
): void {
  let lines = 0;
  let more = 0;
  for (const c of collisions) {
    const members = c.renamed.filter((m) => wrote(m.input));
    if (members.length === 0) continue;
    if (lines === COLLISION_LINES) {
      more++;
      continue;
    }
    lines++;
    const stems = members.map((m) => `${m.stem}_*`);
    reporter.warn(
      members.length === 1
        ? `${members[0]!.shown} shares its name with another input: writing ${stems[0]} instead of ${c.stem}_*`
        : `${listed(members.map((m) => m.shown))} would all write ${c.stem}_*; ` +
            `writing ${listed(stems)} instead`,
    );
  }
  if (more > 0) reporter.warn(`${more} more groups of inputs with the same name were renamed`);
}
