import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { beforeAll, describe, expect, it } from 'vitest';
import { deltaE2000 } from '../../src/gradient/colour.js';
import { MIN_PALETTE_DELTA_E } from '../../src/gradient/index.js';
import type { Sidecar } from '../../src/pipeline/types.js';
import {
  PHOTOS,
  dimensionsOf,
  listFiles,
  makeTempDir,
  readJson,
  runCli,
  type RunResult,
} from './helpers.js';

let dir: string;
const out = (name: string) => join(dir, name);
const runs: Record<string, RunResult> = {};

const rgb = (hex: string) => {
  const v = parseInt(hex.slice(1), 16);
  return { r: v >> 16, g: (v >> 8) & 0xff, b: v & 0xff };
};

/** Every sidecar under a run's output folder, by path. */
async function sidecars(folder: string): Promise<Map<string, Sidecar>> {
  const files = (await listFiles(folder)).filter((f) => f.endsWith('.json'));
  return new Map(
    await Promise.all(
      files.map(async (f) => [f, await readJson<Sidecar>(join(folder, f))] as const),
    ),
  );
}

beforeAll(async () => {
  dir = await makeTempDir();
  const cli = (name: string, args: string[], folder = name) =>
    runCli([...args, '--out', out(folder), '--cpu', '--no-progress'], {
      timeoutMs: 120_000,
    }).then((r) => (runs[name] = r));
  await cli('full', [PHOTOS]);
  await cli('gradient', [PHOTOS, '--ops', 'gradient']);
  await cli('thumb-gradient', [PHOTOS, '--ops', 'thumb,gradient']);
  const some = ['harbour.jpg', 'small-200x150.jpg', 'transparent.png'].map((f) => join(PHOTOS, f));
  await cli('widths', [...some, '--widths', '1280,320,640,2000']);
  await cli('widths-again', [...some, '--widths', '1280,320,640,2000'], 'widths');
  await cli('lq-cap', [join(PHOTOS, 'harbour.jpg'), '--lq-max-width', '400']);
  const manifest = join(dir, 'jobs.ndjson');
  await writeFile(
    manifest,
    [
      { input: join(PHOTOS, 'harbour.jpg'), id: 'responsive', options: { widths: [480, 960] } },
      { input: join(PHOTOS, 'harbour.jpg'), id: 'plain' },
      { input: join(PHOTOS, 'harbour.jpg'), id: 'bad', options: { widths: [0] } },
    ]
      .map((j) => JSON.stringify(j))
      .join('\n') + '\n',
  );
  await cli('manifest', ['--manifest', manifest]);
}, 300_000);

describe('the palette comes from the same pixels whatever --ops says', () => {
  it('gives every fixture the same gradient record with --ops gradient and thumb,gradient', async () => {
    expect(runs.full!.code).toBe(0);
    const full = await sidecars(out('full'));
    expect(full.size).toBeGreaterThan(15);
    for (const other of ['gradient', 'thumb-gradient']) {
      expect(runs[other]!.code).toBe(0);
      const some = await sidecars(out(other));
      expect([...some.keys()]).toEqual([...full.keys()]);
      for (const [path, sidecar] of some) {
        expect(sidecar.gradient, `${other}: ${path}`).toEqual(full.get(path)!.gradient);
      }
    }
  });

  it('holds no two colours closer than the threshold in any fixture palette', async () => {
    for (const [path, sidecar] of await sidecars(out('full'))) {
      const palette = sidecar.gradient!.palette;
      for (let i = 0; i < palette.length; i++) {
        for (let j = i + 1; j < palette.length; j++) {
          const d = deltaE2000(rgb(palette[i]!), rgb(palette[j]!));
          expect(d, `${path}: ${palette[i]} ${palette[j]}`).toBeGreaterThanOrEqual(
            MIN_PALETTE_DELTA_E,
          );
        }
      }
    }
  });

  it('records ThumbHash, BlurHash and the aspect ratio', async () => {
    const harbour = (await readJson<Sidecar>(join(out('full'), 'harbour.json'))).gradient!;
    expect(harbour.aspectRatio).toBe(1.3333);
    const bytes = Uint8Array.from(Buffer.from(harbour.thumbHash, 'base64'));
    // ThumbHash stores the aspect ratio coarsely (1.4 here): the exact one is the field above.
    expect(Math.abs(thumbHashToApproximateAspectRatio(bytes) - 4 / 3)).toBeLessThan(0.1);
    expect(harbour.blurHash).toHaveLength(28);
  });
});

describe('--widths', () => {
  it('writes each width below the source and one copy at the source width, never larger', async () => {
    expect(runs.widths!.code).toBe(0);
    const files = await listFiles(out('widths'));
    expect(files.filter((f) => f.startsWith('harbour_w'))).toEqual([
      'harbour_w1280.webp',
      'harbour_w320.webp',
      'harbour_w640.webp',
    ]);
    // 200 px wide: every width is above it, so one copy at 200 px.
    expect(files.filter((f) => f.startsWith('small-200x150_w'))).toEqual([
      'small-200x150_w200.webp',
    ]);
    expect(await dimensionsOf(join(out('widths'), 'harbour_w640.webp'))).toEqual({
      width: 640,
      height: 480,
    });
    expect(await dimensionsOf(join(out('widths'), 'small-200x150_w200.webp'))).toEqual({
      width: 200,
      height: 150,
    });
  });

  it('lists each width in the sidecar with its size and bytes, and a ready srcset', async () => {
    const text = await readFile(join(out('widths'), 'harbour.json'), 'utf8');
    const sc = JSON.parse(text) as Sidecar;
    expect(Object.keys(sc)).toEqual([
      'version',
      'source',
      'outputs',
      'srcset',
      'gradient',
      'backend',
      'options',
    ]);
    expect(sc.version).toBe(1);
    expect(Object.keys(sc.outputs)).toEqual(['thumb', 'blur', 'lq', 'w320', 'w640', 'w1280']);
    for (const name of ['w320', 'w640', 'w1280'] as const) {
      const o = sc.outputs[name]!;
      expect(o.path).toBe(`harbour_${name}.webp`);
      expect(await dimensionsOf(join(out('widths'), o.path))).toEqual({
        width: o.width,
        height: o.height,
      });
      expect((await stat(join(out('widths'), o.path))).size).toBe(o.bytes);
    }
    expect(sc.srcset).toBe(
      'harbour_w320.webp 320w, harbour_w640.webp 640w, harbour_w1280.webp 1280w',
    );
    const small = await readJson<Sidecar>(join(out('widths'), 'small-200x150.json'));
    expect(small.srcset).toBe('small-200x150_w200.webp 200w');
  });

  it('keeps the palette of a run without widths when the decode size is the same', async () => {
    const plain = await readJson<Sidecar>(join(out('full'), 'small-200x150.json'));
    const wide = await readJson<Sidecar>(join(out('widths'), 'small-200x150.json'));
    expect(wide.gradient).toEqual(plain.gradient);
    expect(wide.options).not.toBe(plain.options);
  });

  it('skips on a re-run: the widths are part of the completion record', async () => {
    expect(runs['widths-again']!.code).toBe(0);
    expect(runs['widths-again']!.stderr).toMatch(/0 processed, 3 skipped/);
  });

  it('takes widths per job in a manifest, and refuses a bad one with one line', async () => {
    const r = runs.manifest!;
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/entry|jobs\.ndjson:3/);
    expect(r.stderr).toMatch(/Expected an integer between 1 and 16383 for widths but received "0"/);
    const responsive = await readJson<Sidecar>(join(out('manifest'), 'responsive/responsive.json'));
    expect(responsive.srcset).toBe(
      'responsive/responsive_w480.webp 480w, responsive/responsive_w960.webp 960w',
    );
    const plain = await readJson<Sidecar>(join(out('manifest'), 'plain/plain.json'));
    expect(plain.srcset).toBeUndefined();
    expect(Object.keys(plain.outputs)).toEqual(['thumb', 'blur', 'lq']);
  });
});

describe('--lq-max-width', () => {
  it('caps the low-quality copy and changes the options hash', async () => {
    expect(runs['lq-cap']!.code).toBe(0);
    const capped = await readJson<Sidecar>(join(out('lq-cap'), 'harbour.json'));
    expect(capped.outputs.lq).toMatchObject({ width: 400, height: 300 });
    expect(await dimensionsOf(join(out('lq-cap'), 'harbour_lq.webp'))).toEqual({
      width: 400,
      height: 300,
    });
    const plain = await readJson<Sidecar>(join(out('full'), 'harbour.json'));
    expect(plain.outputs.lq).toMatchObject({ width: 640, height: 480 });
    expect(capped.options).not.toBe(plain.options);
  });
});
