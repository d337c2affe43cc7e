import { join } from 'node:path';
import { decode as decodeBlurHash } from 'blurhash';
import type { BrowserContext, Locator } from 'playwright-core';
import { thumbHashToRGBA } from 'thumbhash';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeTempDir, readJson, runCli } from '../e2e/helpers.js';
import { drawnPixels, launchBrowser, open, SCREENSHOTS } from './browser.js';
import { copyOf, editJson, expectedRun, sampleInputs, verify } from './helpers.js';

// ThumbHash and BlurHash in real sidecars: verify compares them by their decoded pixels, and the
// verify report and the contact sheet draw them, checked pixel by pixel in chromium.

interface Gradient {
  thumbHash: string;
  blurHash: string;
}

let context: BrowserContext;

beforeAll(async () => {
  context = await launchBrowser();
});

afterAll(async () => {
  await context?.close();
});

/** What a front end draws from the strings: ThumbHash at its own size, BlurHash at 32x32. */
function thumbHashPixels(hash: string): number[] {
  return Array.from(thumbHashToRGBA(Buffer.from(hash, 'base64')).rgba);
}
function blurHashPixels(hash: string): number[] {
  return Array.from(decodeBlurHash(hash, 32, 32));
}

/**
 * The drawing holds the pixels decoded from the hash, and is not blank. Compared premultiplied:
 * a canvas keeps no colour under a transparent pixel and rounds under translucent ones.
 */
async function expectDrawn(img: Locator, pixels: number[]): Promise<void> {
  const drawn = await drawnPixels(img);
  expect(drawn.opaque).toBeGreaterThan(0);
  expect(drawn.colours).toBeGreaterThan(4);
  expect(drawn.rgba).toHaveLength(pixels.length);
  let worst = 0;
  for (let p = 0; p < pixels.length; p += 4) {
    const da = drawn.rgba[p + 3] as number;
    const pa = pixels[p + 3] as number;
    worst = Math.max(worst, Math.abs(da - pa));
    for (let c = 0; c < 3; c++) {
      const d = ((drawn.rgba[p + c] as number) * da) / 255;
      worst = Math.max(worst, Math.abs(d - ((pixels[p + c] as number) * pa) / 255));
    }
  }
  expect(worst).toBeLessThanOrEqual(2);
}

describe('ThumbHash and BlurHash placeholders', () => {
  test('verify passes on equal placeholders, fails naming file, field and measure on a changed one, and the report draws both', async () => {
    const { inputs, expected } = await expectedRun();
    const same = await verify([inputs, '--expected', expected, '--cpu']);
    expect(same.stderr).toMatch(/^verify pass: 4 items: 4 identical/m);
    expect(same.code).toBe(0);

    // Another 4:3 image's placeholders in the expected copy: the same sizes, other pixels.
    const meadow = (await readJson<{ gradient: Gradient }>(join(expected, 'meadow.json'))).gradient;
    const other = (await readJson<{ gradient: Gradient }>(join(expected, 'small-200x150.json')))
      .gradient;
    expect(other.thumbHash).not.toBe(meadow.thumbHash);
    expect(other.blurHash).not.toBe(meadow.blurHash);
    const changed = await copyOf(expected, 'expected');
    await editJson(join(changed, 'meadow.json'), (json) => {
      const g = json.gradient as Gradient;
      g.thumbHash = other.thumbHash;
      g.blurHash = other.blurHash;
    });
    const html = join(await makeTempDir(), 'report');
    const r = await verify([inputs, '--expected', changed, '--cpu', '--html', html]);
    expect(r.code).toBe(4);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('✗'));
    expect(lines).toEqual([
      expect.stringMatching(
        /^✗ meadow\.jpg gradient\.thumbHash: thumbHash differs by \d+\.\d\d levels on average > 6$/,
      ),
      expect.stringMatching(
        /^✗ meadow\.jpg gradient\.blurHash: blurHash differs by \d+\.\d\d levels on average > 6$/,
      ),
    ]);
    expect(r.stderr).toMatch(/^verify FAIL: 4 items: 3 identical, 0 within tolerance, 1 differ/m);

    const { page, errors } = await open(context, join(html, 'index.html'));
    const failing = page.locator('section.item.failing');
    expect(await failing.count()).toBe(1);
    expect(await failing.locator('h3').textContent()).toContain('meadow.jpg');
    for (const [field, draw] of [
      ['thumbHash', thumbHashPixels],
      ['blurHash', blurHashPixels],
    ] as const) {
      const panel = failing.locator('.output.placeholder', { hasText: `gradient.${field}` });
      expect(await panel.isVisible()).toBe(true);
      const figure = (caption: string) =>
        panel.locator('figure', { has: page.locator('figcaption', { hasText: caption }) });
      // Expected: the edited sidecar's string; actual: this run's, which is meadow's own.
      await expectDrawn(figure('expected').locator('img'), draw(other[field]));
      await expectDrawn(figure('actual').locator('img'), draw(meadow[field]));
      const heat = await drawnPixels(figure('heat map').locator('img'));
      expect(heat.colours).toBeGreaterThan(1);
    }
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'verify-placeholders.png'), fullPage: true });
    await page.close();
  });

  test('the contact sheet draws every image’s ThumbHash and BlurHash', async () => {
    const inputs = await sampleInputs();
    const out = join(await makeTempDir(), 'out');
    const run = await runCli([inputs, '--out', out, '--cpu', '--preview', '--quiet']);
    expect(run.code).toBe(0);

    const { page, errors } = await open(context, join(out, 'index.html'));
    const cards = page.locator('article.card');
    expect(await cards.count()).toBe(4);
    for (const stem of ['meadow', 'rgba-hard-edges', 'orientation-6', 'small-200x150']) {
      const { gradient, source } = await readJson<{ gradient: Gradient; source: { path: string } }>(
        join(out, `${stem}.json`),
      );
      const card = page.locator('article.card', { hasText: source.path });
      const placeholder = (caption: string) =>
        card.locator('.placeholders figure', { hasText: caption }).locator('img');
      await expectDrawn(placeholder('ThumbHash'), thumbHashPixels(gradient.thumbHash));
      await expectDrawn(placeholder('BlurHash'), blurHashPixels(gradient.blurHash));
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});
