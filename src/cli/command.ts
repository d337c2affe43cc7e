import { Command } from 'commander';
import { didYouMean } from '../config/validate.js';

/** One prefix for every message the CLI ends with, commander's own included. */
export const ERROR_PREFIX = 'imgproc: ';

export const HELP_POINTER = '(run imgproc --help for usage)';

export const EXAMPLES = `
Examples:
  imgproc ./photos --out ./processed          # a folder tree, mirrored
  imgproc 'shots/**/*.jpg' a.png --out ./web  # globs (quoted), single files
  imgproc --manifest jobs.ndjson --out ./web  # explicit jobs, one per line
  imgproc ./photos --out ./web --dry-run      # what it would do; writes nothing
  imgproc ./photos --out ./web --cpu --json   # no GPU; JSON summary on stdout
  imgproc --daemon --redis redis://host:6379  # drain a Redis queue till stopped
  imgproc serve --redis redis://host:6379     # HTTP: upload, poll, download
  imgproc help enqueue                        # the help of one command

Every option can also be set as IMGPROC_<NAME>, e.g. IMGPROC_THUMB_WIDTH=320.
Exit codes: 0 done, 1 fatal, 2 usage, 3 some inputs failed, 130 interrupted.`;

/** The subcommands, in the order help lists them. */
export const SUBCOMMANDS = ['enqueue', 'queue', 'workers', 'doctor', 'verify', 'preview', 'serve'];

/**
 * Whether a command line may run a subcommand or show help (which lists them): it names one, or
 * `help`, or has -h/--help. Otherwise it is a batch or daemon run, which starts without loading
 * them. A value that happens to be a subcommand's name only costs that loading.
 */
export function mayUseSubcommands(args: readonly string[]): boolean {
  return args.some(
    (a) => SUBCOMMANDS.includes(a) || a === 'help' || a === '--help' || /^-[^-]*h/.test(a),
  );
}

/**
 * commander's Command with a stricter did-you-mean for unknown flags: commander's own offers
 * `--force` for `--format`, which would redo every image.
 */
export class ImgprocCommand extends Command {
  override createCommand(name?: string): ImgprocCommand {
    return new ImgprocCommand(name);
  }

  /** Called by commander for a flag no command in the chain declares. */
  unknownOption(flag: string): never {
    const known: string[] = [];
    const addFlags = (cmd: Command) => {
      for (const o of cmd.options) if (o.long && !o.hidden) known.push(o.long.slice(2));
      if (cmd.parent) addFlags(cmd.parent);
    };
    addFlags(this);
    const guess = flag.startsWith('--') ? didYouMean(flag.slice(2), known) : undefined;
    const hint = guess ? ` (did you mean --${guess}?)` : '';
    this.error(`error: unknown option '${flag}'${hint}`, { code: 'commander.unknownOption' });
  }
}

/** Every short flag that takes a value, in the program and its subcommands. */
function shortFlagsWithValue(program: Command): Set<string> {
  const flags = new Set<string>();
  const visit = (cmd: Command) => {
    for (const o of cmd.options) if (o.short && (o.required || o.optional)) flags.add(o.short);
    cmd.commands.forEach(visit);
  };
  visit(program);
  return flags;
}

/**
 * `-o=/tmp/out` means `-o /tmp/out`, as `--out=/tmp/out` does; commander alone would take
 * `=/tmp/out` as the value and write into a folder named `=`.
 */
export function splitShortAssignments(argv: string[], program: Command): string[] {
  const shorts = shortFlagsWithValue(program);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return [...out, ...argv.slice(i)];
    const m = /^(-[A-Za-z])=([\s\S]*)$/.exec(arg);
    if (m && shorts.has(m[1]!)) out.push(m[1]!, m[2]!);
    else out.push(arg);
  }
  return out;
}
