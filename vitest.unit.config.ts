import { defineConfig } from 'vitest/config';

// The unit tests of the modules under mutation (`npm run mutation`); the pipeline's own unit
// tests exercise none of them, so every mutant would only pay for their images.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: [
      'test/unit/jpeg-scans.test.ts',
      'test/unit/webp-metadata.test.ts',
      'test/unit/signature.test.ts',
      'test/unit/paths.test.ts',
    ],
    testTimeout: 60_000,
  },
});
