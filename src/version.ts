import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * imgproc's package folder, found from this module upwards: the same whether it runs from src/,
 * from dist/ or from the bundle in dist/bundle/ (scripts/bundle.mjs).
 */
function findPackageRoot(from: string): { root: string; version: string } {
  for (let dir = from; ;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version: string;
      };
      if (pkg.name === 'imgproc') return { root: dir, version: pkg.version };
    } catch {
      // no package.json here: look further up
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`imgproc's package.json not found above ${from}`);
    dir = up;
  }
}

const found = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/** The package folder: where native/, src/queue/scripts/ and package.json are. */
export const PACKAGE_ROOT: string = found.root;

/** The package version, read once; it is part of every options hash. */
export const VERSION: string = found.version;
