// Mutation testing of the pure modules against the unit tests (`npm run mutation`).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.unit.config.ts' },
  mutate: [
    'src/gradient/**/*.ts',
    'src/plan/**/*.ts',
    'src/config/**/*.ts',
    'src/pipeline/dimensions.ts',
    'src/pipeline/output-sizes.ts',
  ],
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: 'reports/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'html'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  thresholds: { high: 90, low: 80, break: 80 },
  concurrency: 2,
  cleanTempDir: 'always',
};
