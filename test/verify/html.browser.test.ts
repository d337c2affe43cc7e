import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BAD, makeTempDir, ROOT, runCli } from '../e2e/helpers.js';
import { copyOf, editOutput, expectedRun, sampleInputs, shiftColour, verify } from './helpers.js';

// Debian's chromium, which .ci/run installs; screenshots stay under test-results/ for CI to keep.
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(ROOT, 'test-results');

let context: BrowserContext;

beforeAll(async () => {
  context = await chromium.launchPersistentContext(await makeTempDir('imgproc-chromium-'), {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  await mkdir(SCREENSHOTS, { recursive: true });
});

afterAll(async () => {
  await context?.close();
});

interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

/** Opens a page, recording console errors, page errors and every URL it asks for. */
async function open(file: string): Promise<Opened> {
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** Scrolls every image into view (they load lazily) and reports the ones that did not load. */
async function brokenImages(page: Page): Promise<string[]> {
  return page.evaluate(async () => {
    const images = Array.from(document.images);
    for (const img of images) {
      img.scrollIntoView();
      if (!img.complete) {
        await new Promise((resolve) => {
          img.addEventListener('load', resolve, { once: true });
          img.addEventListener('error', resolve, { once: true });
        });
      }
    }
    return images
      .filter((i) => !(i.complete && i.naturalWidth > 0))
      .map((i) => i.alt || i.src.slice(0, 60));
  });
}

describe('HTML pages in a real browser', () => {
  test('the verify report shows the failing item with its images, and loads nothing from elsewhere', async () => {
    const { inputs, expected } = await expectedRun();
    const changed = await copyOf(expected, 'expected');
    await editOutput(join(changed, 'meadow_thumb.webp'), shiftColour(3));
    const html = join(await makeTempDir(), 'report');
    const r = await verify([inputs, '--expected', changed, '--cpu', '--html', html]);
    expect(r.code).toBe(4);

    const { page, errors, requests } = await open(join(html, 'index.html'));
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

    const { page, errors, requests } = await open(join(out, 'index.html'));
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
