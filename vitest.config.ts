import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['tests/build-once.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Fast unit tests first; integration and chaos tests spawn processes and real stacks.
    sequence: { groupOrder: 0 },
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      // Property and fuzz tests of every parser at a boundary (docs/security.md, "Garbage at any boundary"): about 70 s;
      // under CI=true, or FUZZ_FULL=1, every parser gets 100,000 inputs (about 8 minutes).
      { extends: true, test: { name: 'fuzz', include: ['tests/fuzz/**/*.test.ts'], testTimeout: process.env.FUZZ_FULL === '1' || process.env.CI === 'true' ? 3_600_000 : 120_000 } },
      { extends: true, test: { name: 'integration', include: ['tests/integration/**/*.test.ts', 'tests/chaos/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } } },
      // Real Chromium (Debian's) against a real hub and edge: last, one file at a time.
      { extends: true, test: { name: 'browser', include: ['tests/browser/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000, hookTimeout: 30_000, sequence: { groupOrder: 2 } } },
    ],
  },
});
