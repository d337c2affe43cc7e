import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { BAD, BIN, PHOTOS, makeTempDir } from './helpers.js';

interface PtyRun {
  /** Everything the terminal received, escape sequences included. */
  screen: string;
  /** The CLI's own exit status (`script -e` returns its child's). */
  code: number | null;
}

/**
 * Runs the built CLI under a real pseudo-terminal of `cols` columns (util-linux `script`).
 * `keys` are typed when the screen first shows their `after` text: `\x03` is a real Ctrl-C,
 * delivered by the terminal to the foreground process.
 */
function inTerminal(
  args: string[],
  cwd: string,
  { cols = 80, keys = [] as Array<{ after: string; type: string }> } = {},
): Promise<PtyRun> {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const command = `stty cols ${cols}; exec '${process.execPath}' '${BIN}' ${quoted}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  const pending = [...keys];
  const onData = (d: Buffer) => {
    screen += d.toString('utf8');
    while (pending.length > 0 && screen.includes(pending[0]!.after)) {
      child.stdin.write(pending.shift()!.type);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ screen, code });
    });
  });
}

let dir: string;
/** A low-quality copy at full size and WebP's highest effort: seconds for one 3000 px image of noise. */
const SLOW = ['--effort', '6', '--lq-scale', '1', '--lq-max-width', '3000'];

beforeAll(async () => {
  dir = await makeTempDir();
  await mkdir(join(dir, 'mixed'));
  for (const f of ['harbour.jpg', 'meadow.jpg', 'palette.png']) {
    await copyFile(join(PHOTOS, f), join(dir, 'mixed', f));
  }
  await copyFile(join(BAD, 'bomb.png'), join(dir, 'mixed', 'bomb.png'));
  // Noise, which the Ctrl-C test encodes whole at WebP's highest effort (SLOW): seconds an image
  // on a fast machine, so that a second Ctrl-C always lands while the first image is in flight.
  await mkdir(join(dir, 'slow'));
  const side = 3000;
  const noise = randomBytes(side * side * 3);
  for (const name of ['a', 'b']) {
    await sharp(noise, { raw: { width: side, height: side, channels: 3 } })
      .jpeg({ quality: 90 })
      .toFile(join(dir, 'slow', `${name}.jpg`));
  }
}, 120_000);

describe('in a real terminal', () => {
  it('prints a failure line whole above the bar at 80 columns, and never turns off line wrapping', async () => {
    const r = await inTerminal(['mixed', '--out', 'o1', '--cpu', '-j', '1'], dir);
    expect(r.code).toBe(3);
    // DECAWM off (ESC[?7l) is what cut long lines at the terminal's edge.
    expect(r.screen).not.toContain('\x1b[?7l');
    expect(r.screen).toMatch(
      /✗ mixed\/bomb\.png: too many pixels: 100000x100000 = 10000000000 > --max-pixels 100000000 \([^)]+\)\r\n/,
    );
    expect(r.screen).toMatch(
      /3 processed, 0 skipped, 1 failed in [\d.]+ s \([\d.]+ images\/s, cpu\)/,
    );
  });

  it('a second Ctrl-C stops at once: one line, the bar closed, the cursor back, no lock left', async () => {
    const out = join(dir, 'o2');
    const r = await inTerminal(['slow', '--out', out, '--cpu', '-j', '1', ...SLOW], dir, {
      keys: [
        { after: '0/2 | rate: not known yet', type: '\x03' },
        { after: 'SIGINT: finishing the images in flight', type: '\x03' },
      ],
    });
    expect(r.screen).toContain(
      'warning: SIGINT: finishing the images in flight, starting no new ones',
    );
    expect(r.screen).toContain(
      'error: SIGINT again: stopping now; a re-run redoes the images left unfinished\r\n',
    );
    expect(r.code).toBe(130);
    // After the last line nothing is drawn again, and the hidden cursor was shown.
    expect(r.screen.endsWith('left unfinished\r\n')).toBe(true);
    expect(r.screen.lastIndexOf('\x1b[?25h')).toBeGreaterThan(r.screen.lastIndexOf('\x1b[?25l'));
    expect(existsSync(join(out, '.imgproc.lock'))).toBe(false);
  });
});
