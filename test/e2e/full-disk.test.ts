import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, isRoot, makeTempDir } from './helpers.js';

/**
 * Runs a shell script in a private mount namespace (unshare), where it may mount small or
 * read-only tmpfs file systems that vanish with it; `imgproc` in the script runs the built CLI.
 * Needs util-linux's unshare and either root (CI runs as root) or unprivileged user namespaces.
 */
function inMountNamespace(
  script: string,
  { realRoot = false } = {},
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    'unshare',
    [
      '--mount',
      // Loop devices are mounted by the real root only, not by root in a user namespace.
      ...(realRoot ? [] : ['--map-root-user']),
      'sh',
      '-c',
      `imgproc() { "${process.execPath}" "${BIN}" "$@"; }\n${script}`,
    ],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NO_COLOR: '1' } },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
  return new Promise((done) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, output });
    }),
  );
}

/** Every image under `out` is complete (sidecar and its three outputs) or absent; no temp files. */
const CONSISTENT = `
check() {
  for f in $(find "$1" -name '*.imgproc-tmp-*'); do echo "LEFTOVER $f"; done
  for w in $(find "$1" -name '*_thumb.webp' -o -name '*_blur.webp' -o -name '*_lq.webp'); do
    stem=\${w%_*}; [ -f "$stem.json" ] || echo "ORPHAN $w"
  done
  for j in $(find "$1" -name '*.json'); do
    stem=\${j%.json}; for o in thumb blur lq; do [ -f "\${stem}_$o.webp" ] || echo "MISSING \${stem}_$o.webp"; done
  done
}
`;

describe('a full or read-only output file system', () => {
  let input: string;

  beforeAll(async () => {
    input = join(await makeTempDir(), 'in');
    await mkdir(join(input, 'sub'), { recursive: true });
    // Noise: every image's outputs take tens of KB, so a small disk fills after a few.
    for (let i = 0; i < 8; i++) {
      const noise = Buffer.alloc(400 * 300 * 3);
      for (let p = 0; p < noise.length; p++) noise[p] = ((p * 2654435761 + i * 7919) >>> 13) & 255;
      const dir = i < 4 ? input : join(input, 'sub');
      await sharp(noise, { raw: { width: 400, height: 300, channels: 3 } })
        .png()
        .toFile(join(dir, `noise-${i}.png`));
    }
  });

  it('ENOSPC: one fatal line naming the folder, no new images started, nothing partial', async () => {
    const out = join(await makeTempDir(), 'out');
    const r = await inMountNamespace(`${CONSISTENT}
      mkdir -p ${out} && mount -t tmpfs -o size=160k tmpfs ${out}
      imgproc ${input} --out ${out} --cpu --concurrency 2 --json; echo "EXIT $?"
      check ${out}
      ls -A ${out} | sed 's/^/ENTRY /'`);
    expect(r.output).toContain('EXIT 1');
    // The --json summary repeats the reason per failed image; the fatal line is printed once.
    const fatal = r.output
      .split('\n')
      .filter((l) => l.includes('no space left') && !l.startsWith('{'));
    expect(fatal, r.output).toHaveLength(1);
    expect(fatal[0]).toMatch(
      new RegExp(
        `^error: no space left on the device in ${out}(/sub)?: free some space or choose another --out; no new images were started$`,
      ),
    );
    // Raw errno text never reaches the human lines (the JSON summary carries the code ENOSPC).
    const humanLines = r.output.split('\n').filter((l) => !l.startsWith('{'));
    expect(humanLines.join('\n')).not.toMatch(/ENOSPC|LEFTOVER|ORPHAN|MISSING|imgproc-tmp/);
    expect(r.output).not.toMatch(/imgproc-tmp/);
    const summary = JSON.parse(r.output.split('\n').find((l) => l.startsWith('{'))!) as {
      processed: number;
      notStarted: number;
    };
    expect(summary.notStarted).toBeGreaterThan(0);
    expect(r.output).not.toContain('ENTRY .imgproc.lock');
  });

  it('a completely full disk: a clear line, no empty lock left, and the next run is not blocked', async () => {
    const out = join(await makeTempDir(), 'out');
    const r = await inMountNamespace(`
      mkdir -p ${out} && mount -t tmpfs -o size=64k tmpfs ${out}
      dd if=/dev/zero of=${out}/filler bs=4k count=100 2>/dev/null
      imgproc ${input}/noise-0.png --out ${out} --cpu; echo "EXIT1 $?"
      ls -A ${out} | sed 's/^/ENTRY /'
      rm ${out}/filler
      start=$(date +%s)
      imgproc ${input}/noise-0.png --out ${out} --cpu; echo "EXIT2 $?"
      echo "WAITED $(( $(date +%s) - start ))"`);
    expect(r.output, r.output).toContain('EXIT1 1');
    expect(r.output).toContain(`imgproc: no space left on the device in ${out}:`);
    expect(r.output.split('\n').filter((l) => l.startsWith('ENTRY '))).toEqual(['ENTRY filler']);
    expect(r.output).toContain('EXIT2 0');
    expect(Number(/WAITED (\d+)/.exec(r.output)![1])).toBeLessThan(20);
  });

  it('EDQUOT: a btrfs quota that runs out stops the run with one line naming the folder', async (ctx) => {
    // Quotas need the kernel's help: ext4 and tmpfs quotas need CONFIG_QUOTA (often absent in
    // containers), btrfs quota groups do not; btrfs-progs is installed by .ci/run.
    const dir = await makeTempDir();
    const mnt = join(dir, 'mnt');
    const out = join(mnt, 'out');
    const unavailable = !isRoot
      ? 'mounting a loop device needs root'
      : await inMountNamespace(
          `truncate -s 128M ${dir}/quota.img && mkfs.btrfs -q -f ${dir}/quota.img >/dev/null 2>&1 \
            || { echo "NO mkfs.btrfs failed or is missing (install btrfs-progs)"; exit; }
          mkdir -p ${mnt} && mount -o loop ${dir}/quota.img ${mnt} 2>&1 | sed 's/^/NO /' || exit
          mountpoint -q ${mnt} || exit
          btrfs quota enable ${mnt} 2>&1 | sed 's/^/NO quota enable: /'
          btrfs subvolume create ${out} >/dev/null 2>&1 && btrfs qgroup limit 64k ${out} 2>&1 | sed 's/^/NO /'
          dd if=/dev/zero of=${out}/probe bs=64k count=4 2>&1 | grep -q 'quota exceeded' \
            || echo "NO a write over the quota did not fail with EDQUOT"`,
          { realRoot: true },
        ).then((r) => (/^NO /m.test(r.output) || r.code !== 0 ? r.output.trim() : undefined));
    if (unavailable) {
      process.stderr.write(`EDQUOT test skipped: quotas are unavailable here: ${unavailable}\n`);
      ctx.skip();
    }
    const r = await inMountNamespace(
      `${CONSISTENT}
      mount -o loop ${dir}/quota.img ${mnt} && rm -f ${out}/probe && sync
      btrfs qgroup limit 200k ${out}
      imgproc ${input} --out ${out} --cpu --concurrency 2 --json; echo "EXIT $?"
      check ${out}
      ls -A ${out} | sed 's/^/ENTRY /'`,
      { realRoot: true },
    );
    expect(r.output, r.output).toContain('EXIT 1');
    const fatal = r.output
      .split('\n')
      .filter((l) => l.includes('disk quota exceeded') && !l.startsWith('{'));
    expect(fatal, r.output).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: disk quota exceeded in ${out}(/sub)?: free some space under the quota or choose another --out; no new images were started$`,
        ),
      ),
    ]);
    // Node names EDQUOT only by number: neither it nor the temporary file reaches the lines.
    expect(r.output).not.toMatch(/Unknown system error|-122|imgproc-tmp|LEFTOVER|ORPHAN|MISSING/);
    const summary = JSON.parse(r.output.split('\n').find((l) => l.startsWith('{'))!) as {
      notStarted: number;
    };
    expect(summary.notStarted).toBeGreaterThan(0);
    expect(r.output).not.toContain('ENTRY .imgproc.lock');
  });

  it('EROFS: a read-only --out is named as such, not as a missing file', async () => {
    const ro = join(await makeTempDir(), 'ro');
    const r = await inMountNamespace(`
      mkdir -p ${ro} && mount -t tmpfs -o size=1m,ro tmpfs ${ro}
      imgproc ${input}/noise-0.png --out ${ro} --cpu; echo "EXIT $?"
      imgproc ${input}/noise-0.png --out ${ro}/new/deeper --cpu; echo "EXIT $?"`);
    expect(r.output).not.toMatch(/ENOENT|no such file/);
    expect(r.output.match(/EXIT 1/g)).toHaveLength(2);
    expect(r.output).toContain(`imgproc: read-only file system in ${ro}:`);
    // The output folder is checked before any work: the missing parent is named as read-only.
    expect(r.output).toContain(
      `imgproc: cannot create output folder ${ro}/new/deeper: ${ro} is on a read-only file system`,
    );
  });

  it('a read-only subfolder is named, not the temporary file, and the others are not half-written', async () => {
    const out = join(await makeTempDir(), 'out');
    const r = await inMountNamespace(`${CONSISTENT}
      mkdir -p ${out} && mount -t tmpfs -o size=8m tmpfs ${out}
      mkdir ${out}/sub && mount --bind ${out}/sub ${out}/sub && mount -o remount,bind,ro ${out}/sub
      imgproc ${input} --out ${out} --cpu --concurrency 1; echo "EXIT $?"
      check ${out}`);
    expect(r.output).toContain('EXIT 1');
    expect(r.output).toContain(`read-only file system in ${out}/sub:`);
    expect(r.output).not.toMatch(/imgproc-tmp|EROFS|LEFTOVER|ORPHAN|MISSING/);
  });
});
