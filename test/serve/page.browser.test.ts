import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, open, SCREENSHOTS, type Opened } from '../verify/browser.js';
import { haveRedisServer } from '../queue/redis-server.js';
import { serveRig, TOKEN, type ServeRig } from './helpers.js';

const PHOTOS = resolve('fixtures/photos');

// The page at / in a real browser: a person drops a photo and sees its outputs appear.
describe.skipIf(!haveRedisServer())('imgproc serve: the page in chromium', () => {
  let rig: ServeRig;
  let url: string;
  let context: BrowserContext;

  beforeAll(async () => {
    rig = await serveRig('page:');
    ({ url } = await rig.serve(['--token', TOKEN]));
    rig.daemon();
    context = await launchBrowser();
  });
  afterAll(async () => {
    await context?.close();
    await rig?.destroy();
  });

  /** The page with the token typed in, recording errors and every URL it asks for. */
  async function openPage(): Promise<Opened> {
    const opened = await open(context, `${url}/`);
    const { page } = opened;
    await page.fill('#token', TOKEN);
    await page.dispatchEvent('#token', 'change');
    return opened;
  }

  const finalState = (page: Page) =>
    page.waitForSelector(
      '#status[data-state="done"], #status[data-state="failed"], #status[data-state="error"]',
      {
        timeout: 30_000,
      },
    );

  it('a chosen photo is uploaded, and its outputs and placeholders appear', async () => {
    const { page, errors, requests } = await openPage();
    await page.setInputFiles('#file', join(PHOTOS, 'harbour.jpg'));
    await finalState(page);
    expect(await page.textContent('#status')).toMatch(/^job j[0-9a-f]{20}: done$/);
    const sizes = await page.$$eval('img[data-output]', (imgs) =>
      (imgs as HTMLImageElement[]).map((i) => [i.dataset.output, i.naturalWidth]),
    );
    expect(Object.fromEntries(sizes)).toMatchObject({ thumb: 256, blur: 256 });
    expect(
      await page.$eval('#blur-data-url', (i) => (i as HTMLImageElement).naturalWidth),
    ).toBeGreaterThan(0);
    expect(await page.$eval('#gradient', (d) => (d as HTMLElement).style.background)).toMatch(
      /linear-gradient/,
    );
    expect(await page.$$eval('#palette span', (s) => s.length)).toBe(6);
    await page.screenshot({ path: join(SCREENSHOTS, 'serve-page.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(requests.filter((r) => !r.startsWith(url) && !/^(data|blob):/.test(r))).toEqual([]);
    await page.close();
  });

  it('a dropped photo works the same way', async () => {
    const { page, errors } = await openPage();
    const bytes = [...readFileSync(join(PHOTOS, 'small-200x150.jpg'))];
    await page.evaluate((data) => {
      const file = new File([new Uint8Array(data)], 'dropped.jpg', { type: 'image/jpeg' });
      const transfer = new DataTransfer();
      transfer.items.add(file);
      document
        .querySelector('#drop')!
        .dispatchEvent(
          new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }),
        );
    }, bytes);
    await finalState(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('done');
    expect(
      await page.$eval('img[data-output="thumb"]', (i) => (i as HTMLImageElement).naturalWidth),
    ).toBe(200);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a file that is not an image shows the job failing with its reason', async () => {
    const { page } = await openPage();
    await page.setInputFiles('#file', resolve('fixtures/bad/text.jpg'));
    await finalState(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('failed');
    expect(await page.textContent('#status')).toMatch(/failed: .*not an image.*\(NOT_AN_IMAGE\)/);
    expect(await page.isHidden('#result')).toBe(true);
    await page.close();
  });

  it('without the token the page says why', async () => {
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.setInputFiles('#file', join(PHOTOS, 'grey.jpg'));
    await finalState(page);
    expect(await page.getAttribute('#status', 'data-state')).toBe('error');
    expect(await page.textContent('#status')).toMatch(/UNAUTHORIZED/);
    await page.close();
  });
});
