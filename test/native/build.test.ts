import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadNativeAddon } from '../../src/native/index.js';

const ADDON = resolve('native/build/Release/imgproc_native.node');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };

// `npm ci` runs the install script, which builds the addon; this checks that it did.
describe('the native build', () => {
  test('native/build/Release/imgproc_native.node exists and loads', () => {
    expect(existsSync(ADDON), `${ADDON} is missing: run npm run build:native`).toBe(true);
    const load = loadNativeAddon({});
    if (!load.ok) throw new Error(load.details);
    expect(load.path).toBe(ADDON);
    const info = load.addon.buildInfo();
    expect(info.version).toBe(pkg.version);
    expect(info.napiVersion).toBe(8);
    console.log(
      `imgproc_native: ${info.cuda ? `CUDA ${info.cudaToolkitVersion} (${info.cudaArchitectures})` : 'C++ reference only'}`,
    );
    if (info.cuda) expect(info.cudaArchitectures).toContain('75-real');
  });

  test('a path that points nowhere gives one message with every reason and the possible solutions', () => {
    const load = loadNativeAddon({ IMGPROC_NATIVE_PATH: '/nowhere/imgproc_native.node' });
    expect(load.ok).toBe(false);
    if (load.ok) return;
    expect(load.reason).toBe('native addon not loaded (/nowhere/imgproc_native.node: not found)');
    expect(load.details).toContain('Possible solutions:');
    expect(load.details).toContain('npm run build:native');
  });

  test('a file that is not an addon is refused with the loader error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imgproc-native-'));
    try {
      const fake = join(dir, 'imgproc_native.node');
      writeFileSync(fake, 'not a shared object');
      const load = loadNativeAddon({ IMGPROC_NATIVE_PATH: fake });
      expect(load.ok).toBe(false);
      if (!load.ok)
        expect(load.reason).toMatch(
          /file too short|invalid ELF header|not an imgproc_native addon/,
        );
      const json = loadNativeAddon({ IMGPROC_NATIVE_PATH: resolve('package.json') });
      expect(json.ok).toBe(false);
      if (!json.ok) expect(json.reason).toContain('not an imgproc_native addon');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('IMGPROC_NATIVE=0 turns the addon off', () => {
    const load = loadNativeAddon({ IMGPROC_NATIVE: '0' });
    expect(load.ok).toBe(false);
    if (!load.ok) expect(load.reason).toBe('native addon disabled by IMGPROC_NATIVE=0');
  });
});
