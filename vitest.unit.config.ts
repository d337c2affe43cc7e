import { defineConfig } from 'vitest/config';

// The fast, in-process unit tests only: what mutation testing runs for every mutant.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
