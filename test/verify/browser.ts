import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { makeTempDir, ROOT } from '../e2e/helpers.js';

// Debian's chromium, which .ci/run installs; screenshots stay under test-results/ for CI to keep.
const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test-results');

/** A headless chromium with a fresh profile; close it in afterAll. */
export async function launchBrowser(): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(await makeTempDir('imgproc-chromium-'), {
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
  return context;
}

export interface Opened {
  page: Page;
  errors: string[];
  requests: string[];
}

/**
 * Opens a page (a local file, or an http:// URL), recording console errors, page errors and every
 * URL it asks for.
 */
export async function open(context: BrowserContext, file: string): Promise<Opened> {
  const page = await context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => requests.push(r.url()));
  const url = /^https?:\/\//.test(file) ? file : pathToFileURL(file).href;
  await page.goto(url, { waitUntil: 'load' });
  return { page, errors, requests };
}

/** Scrolls every image into view (they load lazily) and reports the ones that did not load. */
export async function brokenImages(page: Page): Promise<string[]> {
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

/** What an image element shows, read back through a canvas at its natural size. */
export interface Drawn {
  width: number;
  height: number;
  /** Pixels with any opacity. */
  opaque: number;
  /** Distinct RGBA values among them. */
  colours: number;
  /** The RGBA bytes, for comparing two drawings. */
  rgba: number[];
}

/** Draws the `<img>` at `img` into a canvas, as the browser decoded it, and reads its pixels. */
export async function drawnPixels(img: Locator): Promise<Drawn> {
  return img.evaluate(async (el: HTMLImageElement) => {
    el.scrollIntoView();
    await el.decode();
    const canvas = document.createElement('canvas');
    canvas.width = el.naturalWidth;
    canvas.height = el.naturalHeight;
    const g = canvas.getContext('2d')!;
    g.drawImage(el, 0, 0);
    const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
    const seen = new Set<number>();
    let opaque = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 0) opaque++;
      seen.add(
        ((data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!) >>> 0,
      );
    }
    return {
      width: canvas.width,
      height: canvas.height,
      opaque,
      colours: seen.size,
      rgba: Array.from(data),
    };
  });
}
