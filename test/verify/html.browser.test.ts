import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BAD, makeTempDir, runCli } from '../e2e/helpers.js';
import { brokenImages, launchBrowser, open, SCREENSHOTS } from './browser.js';
import { copyOf, editOutput, expectedRun, sampleInputs, shiftColour, verify } from './helpers.js';

let context: BrowserContext;

beforeAll(async () => {
  context = await launchBrowser();
});

afterAll(async () => {
  await context?.close();
});

describe('HTML pages in a real browser', () => {
  test('the verify report shows the failing item with its images, and loads nothing from elsewhere', async () => {
    const { inputs, expected } = await expectedRun();
    const changed = await copyOf(expected, 'expected');
    await editOutput(join(changed, 'meadow_thumb.webp'), shiftColour(3));
    const html = join(await makeTempDir(), 'report');
    const r = await verify([inputs, '--expected', changed, '--cpu', '--html', html]);
    expect(r.code).toBe(4);

    const { page, errors, requests } = await open(context, join(html, 'index.html'));
    expect(await page.locator('#verdict').textContent()).toBe('FAIL');
    const failing = page.locator('section.item.failing');
    await expect(failing.count()).resolves.toBe(1);
    expect(await failing.isVisible()).toBe(true);
    expect(await failing.locator('h3').textContent()).toContain('meadow.jpg');
    expect(await failing.locator('.differences li').first().textContent()).toMatch(
      /thumb: mean colour shift 3\.\d\d levels/,
    );
    // Expected, actual and the heat map, each drawn.
    expect(await failing.locator('figure img').count()).toBe(3);
    expect(await brokenImages(page)).toEqual([]);
    // The passing items are folded away.
    expect(await page.locator('details.passing').getAttribute('open')).toBeNull();
    expect(await page.locator('details.passing summary').textContent()).toBe('3 passing items');
    expect(errors).toEqual([]);
    expect(
      requests.filter((u) => !u.startsWith('data:') && !u.endsWith('/report/index.html')),
    ).toEqual([]);
    await page.screenshot({ path: join(SCREENSHOTS, 'verify-report.png'), fullPage: true });
    await page.close();
  });

  test('the preview contact sheet draws every image, palette and gradient, and lists failures', async () => {
    const inputs = await sampleInputs();
    await copyFile(join(BAD, 'truncated.jpg'), join(inputs, 'truncated.jpg'));
    const out = join(await makeTempDir(), 'out');
    const run = await runCli([inputs, '--out', out, '--cpu', '--preview']);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/preview: .*index\.html \(4 images\)/);

    const { page, errors, requests } = await open(context, join(out, 'index.html'));
    expect(await page.locator('article.card').count()).toBe(4);
    expect(await page.locator('.problems li').first().textContent()).toMatch(
      /\/truncated\.jpg: corrupt or truncated image/,
    );
    const meadow = page.locator('article.card', { hasText: 'meadow.jpg' });
    expect(await meadow.locator('.swatches span').count()).toBeGreaterThan(1);
    expect(
      await meadow.locator('.gradient').evaluate((el) => getComputedStyle(el).backgroundImage),
    ).toMatch(/^linear-gradient/);
    expect(await meadow.locator('.links a').allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^thumb 256×\d+$/), 'json']),
    );
    // Outputs load lazily from beside the page; placeholders are inlined.
    expect(await page.locator('.pics img[loading="lazy"]').count()).toBe(8);
    expect(await brokenImages(page)).toEqual([]);
    expect(errors).toEqual([]);
    const outUrl = pathToFileURL(out).href;
    expect(requests.filter((u) => !u.startsWith('data:') && !u.startsWith(outUrl + '/'))).toEqual(
      [],
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'preview.png'), fullPage: true });
    await page.close();
  });
});
