import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import { TEST_PG_URL } from './tests/harness/hub-db.js';
import { tcpReachable } from './tests/support/tcp.js';
import { fuzzFull, fuzzSeed } from './tests/support/fuzz-seed.js';

/**
 * The hub's tests run a second time on PostgreSQL, in the `unit-pg` and
 * `integration-pg` projects, when the test server answers; under CI=true
 * always (tests/pg-setup.ts then fails loudly if it does not answer). Elsewhere they are left
 * out with one line saying what to install.
 */
const HUB_UNIT_TESTS = [
  'tests/unit/hub-*.test.ts',
  'tests/unit/occupancy*.test.ts',
  'tests/unit/alarms.test.ts',
  'tests/unit/billing-*.test.ts',
  'tests/unit/metrics.test.ts',
  'tests/unit/json-api.test.ts',
  'tests/unit/demo-link-cut.test.ts',
];
const HUB_INTEGRATION_TESTS = [
  'tests/integration/hub-*.test.ts',
  'tests/integration/billing-*.test.ts',
  'tests/integration/broker-identities.test.ts',
  'tests/integration/member-erasure.test.ts',
  'tests/integration/network.test.ts',
  'tests/integration/commands.test.ts',
  'tests/integration/sync-worker.test.ts',
];
/** SQLite by nature: its WAL file and checkpoints. */
const SQLITE_ONLY = ['tests/unit/hub-wal-checkpointer.test.ts'];

const pgUrl = new URL(TEST_PG_URL);

export default defineConfig(async () => {
  const ci = process.env.CI === 'true';
  const onPg = ci || (await tcpReachable(pgUrl.hostname || '127.0.0.1', Number(pgUrl.port || 5432)));
  if (!onPg)
    process.stderr.write(
      `hub tests on PostgreSQL left out: no server at ${TEST_PG_URL} (apt-get install postgresql, or set TESSERA_TEST_PG_URL)\n`,
    );
  process.env.TESSERA_TEST_PG_RUN ??= randomBytes(4).toString('hex');
  // Computed here, once, for every worker (tests/support/fuzz.ts); printed by the fuzz projects' set-up.
  process.env.FUZZ_SEED = String(fuzzSeed());
  const fuzzSetup = ['tests/build-once.ts', 'tests/support/fuzz-seed.ts'];
  const pg: TestProjectInlineConfiguration['test'] = {
    globalSetup: ['tests/build-once.ts', 'tests/pg-setup.ts'],
    env: { TESSERA_TEST_HUB_DB: 'postgres' },
    testTimeout: 180_000,
  };
  const projects: TestProjectInlineConfiguration[] = [
    {
      extends: true,
      test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], exclude: ['tests/unit/**/*-pg.test.ts'] },
    },
    // Property and fuzz tests of every parser at a boundary (docs/security.md, "Garbage at any boundary"):
    // a fixed slice and a slice seeded from the commit (tests/support/fuzz.ts); `npm run fuzz`
    // (FUZZ_FULL=1) gives every parser its 100,000 inputs (about 8 minutes).
    {
      extends: true,
      test: {
        name: 'fuzz',
        include: ['tests/fuzz/**/*.test.ts'],
        globalSetup: fuzzSetup,
        testTimeout: fuzzFull() ? 3_600_000 : 120_000,
      },
    },
    {
      extends: true,
      test: {
        name: 'integration',
        include: ['tests/integration/**/*.test.ts', 'tests/chaos/**/*.test.ts'],
        exclude: ['tests/integration/**/*-pg.test.ts'],
        fileParallelism: false,
        sequence: { groupOrder: 1 },
      },
    },
    // Real Chromium (Debian's) against a real hub and edge: last, one file at a time.
    {
      extends: true,
      test: {
        name: 'browser',
        include: ['tests/browser/**/*.test.ts'],
        fileParallelism: false,
        testTimeout: 60_000,
        hookTimeout: 30_000,
        sequence: { groupOrder: 3 },
      },
    },
    ...(onPg
      ? [
          {
            extends: true as const,
            test: {
              ...pg,
              name: 'unit-pg',
              include: HUB_UNIT_TESTS,
              exclude: SQLITE_ONLY,
              sequence: { groupOrder: 0 },
            },
          },
          // The hub's parsers again with PostgreSQL behind them: their slices only (the full sets run on SQLite).
          {
            extends: true as const,
            test: {
              ...pg,
              name: 'fuzz-pg',
              include: ['tests/fuzz/hub-*.test.ts'],
              globalSetup: [...fuzzSetup, 'tests/pg-setup.ts'],
              env: { ...pg.env, FUZZ_SLICES_ONLY: '1' },
              testTimeout: 300_000,
            },
          },
          {
            extends: true as const,
            test: {
              ...pg,
              name: 'integration-pg',
              include: HUB_INTEGRATION_TESTS,
              fileParallelism: false,
              sequence: { groupOrder: 2 },
            },
          },
          // The dashboard in Chromium against a hub on PostgreSQL: last, one file at a time.
          {
            extends: true as const,
            test: {
              ...pg,
              name: 'browser-pg',
              include: ['tests/browser/**/*.test.ts'],
              fileParallelism: false,
              testTimeout: 60_000,
              hookTimeout: 30_000,
              sequence: { groupOrder: 4 },
            },
          },
        ]
      : []),
  ];
  return {
    test: {
      globalSetup: ['tests/build-once.ts'],
      // Bounds, not goals: generous enough that a test taking 3 s on an idle machine still passes on
      // one loaded by three test processes and other work (15 s seen), and a hung one still ends.
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // Fast unit tests first, two files at a time even on two cores (vitest's default would be one
      // there): most of their time is spent waiting on PostgreSQL, sockets and child processes,
      // not computing. Then, one file at a time and one project after the other, the integration
      // and chaos tests (they spawn processes and real stacks) and the browser tests.
      maxWorkers: Math.max(2, availableParallelism() - 1),
      sequence: { groupOrder: 0 },
      projects,
      // `npm run coverage`: the shipped TypeScript only; the dashboard's browser modules (.js) are the browser tests' to cover.
      coverage: {
        provider: 'v8' as const,
        include: ['shared/**/*.ts', 'edge/**/*.ts', 'cloud-sync/**/*.ts', 'firmware-config/**/*.ts', 'cli/**/*.ts'],
        exclude: ['**/*.d.ts'],
        reporter: ['text-summary', 'html'],
        reportsDirectory: 'coverage',
      },
    },
  };
});
