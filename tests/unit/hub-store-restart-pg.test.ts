import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';
import { pgServerBin, startPgCluster } from '../support/pg-cluster.js';
import { sleep } from '../support/sleep.js';

/**
 * PostgreSQL restarted under the hub's writes (the unit-pg project only), on a private server
 * this test starts (initdb and pg_ctl: .ci/run installs them; required under CI).
 */
const bin = pgServerBin();
if (bin === undefined && process.env.CI === 'true')
  throw new Error('the PostgreSQL restart test needs initdb and pg_ctl under CI (apt-get install postgresql)');
if (bin === undefined)
  console.warn('PostgreSQL restart test skipped: no initdb here (Debian: apt-get install postgresql)');
const withServerPrograms = bin === undefined ? it.skip : it;

const BOUNDS = { statementTimeoutMs: 2_000, connectTimeoutMs: 1_000, probeEveryMs: 100 };
const WRITERS = 3;
/** A transaction's second row: its first row's number plus this. */
const PAIRED = 500_000;

interface Outcome {
  n: number;
  /** Two rows in one transaction, or one row on its own. */
  pair: boolean;
  startedAt: number;
  endedAt: number;
  error?: unknown;
}

describe('hub storage on PostgreSQL: the server restarted', () => {
  const cleanups = cleanupsAfterEach();

  withServerPrograms(
    'every write under a restart succeeds or fails with store.unavailable; writes succeed after it; none acknowledged is lost',
    async () => {
      const cluster = await startPgCluster(bin);
      cleanups.push(() => cluster.destroy());
      const db = await openHubDatabase(cluster.url, BOUNDS);
      cleanups.push(() => db.close());
      await db.exec('CREATE TABLE writes (n BIGINT PRIMARY KEY)');

      const outcomes: Outcome[] = [];
      let stopping = false;
      let sawUnavailable = false;
      const writer = async (w: number) => {
        for (let i = 0; !stopping; i++) {
          const n = w * 100_000 + i;
          const outcome: Outcome = { n, pair: i % 2 === 0, startedAt: performance.now(), endedAt: 0 };
          try {
            if (outcome.pair)
              await db.transaction(async (tx) => {
                await tx.run('INSERT INTO writes (n) VALUES (?)', [n]);
                await tx.run('INSERT INTO writes (n) VALUES (?)', [n + PAIRED]);
              });
            else await db.run('INSERT INTO writes (n) VALUES (?)', [n]);
          } catch (err) {
            outcome.error = err;
          }
          outcome.endedAt = performance.now();
          if (!db.available) sawUnavailable = true;
          outcomes.push(outcome);
          await sleep(5);
        }
      };
      const writing = Array.from({ length: WRITERS }, (_, w) => writer(w));
      const succeededSince = (t: number) => outcomes.filter((o) => o.error === undefined && o.startedAt >= t).length;
      try {
        await eventually(() => succeededSince(0) >= 30, 'writes going before the restart');
        const restartStarted = performance.now();
        await cluster.restart();
        const restarted = performance.now();
        await eventually(() => succeededSince(restarted) >= 30, 'writes succeeding after the restart', 30_000);
        stopping = true;
        await Promise.all(writing);

        const failures = outcomes.filter((o) => o.error !== undefined);
        const otherErrors = failures.filter(
          (o) => !(o.error instanceof TesseraError && o.error.code === 'store.unavailable'),
        );
        expect(
          otherErrors.map((o) => String(o.error)),
          cluster.log().slice(-3_000),
        ).toEqual([]);
        // The restart was seen: else this test proves nothing.
        expect(failures.length).toBeGreaterThan(0);
        expect(sawUnavailable).toBe(true);
        await eventually(() => db.available, 'the database available again');

        const stored = new Set(await db.column<number>('SELECT n FROM writes'));
        const acknowledged = outcomes.filter((o) => o.error === undefined);
        const lost = acknowledged.filter((o) => !stored.has(o.n) || (o.pair && !stored.has(o.n + PAIRED)));
        expect(lost.map((o) => o.n)).toEqual([]);
        // A transaction that failed is there whole (its commit reached the server) or not at all.
        const halves = outcomes.filter((o) => o.pair && stored.has(o.n) !== stored.has(o.n + PAIRED));
        expect(halves.map((o) => o.n)).toEqual([]);

        const firstAfter = Math.min(...acknowledged.filter((o) => o.startedAt >= restarted).map((o) => o.endedAt));
        const longest = Math.max(...outcomes.map((o) => o.endedAt - o.startedAt));
        console.info(
          `restart: bounds ${JSON.stringify(BOUNDS)}; pg_ctl restart -m fast took ${Math.round(restarted - restartStarted)} ms; ` +
            `${outcomes.length} writes by ${WRITERS} writers, ${acknowledged.length} acknowledged, ${failures.length} store.unavailable, ` +
            `${failures.filter((o) => stored.has(o.n)).length} of those stored all the same; longest call ${Math.round(longest)} ms; ` +
            `first write acknowledged ${Math.round(firstAfter - restarted)} ms after the server was back`,
        );
      } finally {
        stopping = true;
        await Promise.all(writing);
      }
    },
  );
});
