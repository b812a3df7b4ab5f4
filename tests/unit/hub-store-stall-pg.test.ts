import { describe, expect, it } from 'vitest';
import { openHubDatabase, type HubDb } from '../../cloud-sync/hub/db.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { freshPgDatabase, pgAdmin, TEST_PG_URL } from '../harness/hub-db.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';
import { tcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * PostgreSQL stalled (the unit-pg project only): a TCP proxy between the hub's pool and the
 * test server stops forwarding, every connection left open, as a hung server or a network
 * partition would; then forwards again.
 */
const BOUNDS = { statementTimeoutMs: 300, connectTimeoutMs: 300, probeEveryMs: 100 };
/** What one call may take while the server is silent: a connection, or a statement and the silent-server margin (1 s). */
const CALL_BOUND_MS = Math.max(BOUNDS.connectTimeoutMs, BOUNDS.statementTimeoutMs + 1_000);
/** A loaded machine's delay on top of a bound. */
const SLACK_MS = 1_000;

const isUnavailable = (err: unknown) => err instanceof TesseraError && err.code === 'store.unavailable';

/** The longest wait between ticks of a 10 ms interval: what a call blocking the event loop would show. */
function eventLoopGaps(): { stop(): number } {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

/** How long `op` took, and whether it failed with store.unavailable (anything else is thrown). */
async function timedFailure(op: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  const outcome = await op().then(
    () => 'succeeded',
    (err: unknown) => (isUnavailable(err) ? 'unavailable' : err),
  );
  if (outcome !== 'unavailable') throw outcome instanceof Error ? outcome : new Error(`the call ${String(outcome)}`);
  return performance.now() - started;
}

describe('hub storage on PostgreSQL: a stalled server', () => {
  const cleanups = cleanupsAfterEach();
  let stalls = 0;

  /** A hub database in a fresh schema, reached through a proxy; its backends named, to be found on the server. */
  async function throughProxy(): Promise<{ db: HubDb; proxy: TcpProxy; app: string }> {
    const proxy = await tcpProxy({ port: Number(new URL(TEST_PG_URL).port || 5432) });
    cleanups.push(() => proxy.close());
    const app = `tessera-stall-${process.pid}-${++stalls}`;
    const direct = await freshPgDatabase();
    const url = `${direct.replace(/@127\.0\.0\.1:\d+\//, `@127.0.0.1:${proxy.port}/`)}&application_name=${app}`;
    const db = await openHubDatabase(url, BOUNDS);
    cleanups.push(() => db.close());
    return { db, proxy, app };
  }

  /** Once every backend of the stalled pool is idle or gone, what it was doing has been committed or rolled back. */
  const settledOnServer = (app: string) =>
    eventually(
      async () =>
        (
          await pgAdmin([
            `SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '${app}' AND state IS DISTINCT FROM 'idle'`,
          ])
        )[0] === '0',
      `the backends of ${app} idle or gone`,
    );

  it('calls fail with store.unavailable within their bound, the event loop runs on, and all is back after the stall', async () => {
    const { db, proxy } = await throughProxy();
    await db.exec('CREATE TABLE ticks (n BIGINT PRIMARY KEY)');
    await db.run('INSERT INTO ticks (n) VALUES (0)');
    const gaps = eventLoopGaps();
    proxy.pause();
    // On a connection of the pool: the statement is sent and never answered.
    const onIdleConnection = await timedFailure(() => db.value('SELECT COUNT(*) FROM ticks'));
    expect(db.available).toBe(false);
    // Several at once, a transaction among them; the pool then opens new connections, never answered either.
    const concurrent = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => timedFailure(() => db.run('INSERT INTO ticks (n) VALUES (?)', [i + 1]))),
      timedFailure(() => db.transaction(async (tx) => tx.run('INSERT INTO ticks (n) VALUES (100)'))),
    ]);
    const onNewConnection = await timedFailure(() => db.value('SELECT 1'));
    const longestGap = gaps.stop();
    expect(db.available).toBe(false);
    for (const took of [onIdleConnection, ...concurrent, onNewConnection])
      expect(took).toBeLessThan(CALL_BOUND_MS + SLACK_MS);
    // Anything blocking the event loop during the stall would show as a gap of at least a bound.
    expect(longestGap).toBeLessThan(BOUNDS.statementTimeoutMs);

    proxy.resume();
    const resumed = performance.now();
    await eventually(
      () =>
        db.value('SELECT 1').then(
          () => true,
          (err: unknown) => (isUnavailable(err) ? false : Promise.reject(err)),
        ),
      'a statement succeeding after the stall',
    );
    const recovered = performance.now() - resumed;
    await eventually(() => db.available, 'the database available again');
    expect(await db.column('SELECT n FROM ticks ORDER BY n')).toEqual([0]);
    await db.run('INSERT INTO ticks (n) VALUES (1)');
    expect(await db.value('SELECT COUNT(*) FROM ticks')).toBe(2);
    console.info(
      `stall: bounds ${JSON.stringify(BOUNDS)}; failed after ${Math.round(onIdleConnection)} ms (a connection of the pool), ` +
        `${Math.round(Math.max(...concurrent))} ms at most (7 at once), ${Math.round(onNewConnection)} ms (a new connection); ` +
        `longest event-loop gap ${Math.round(longestGap)} ms; a statement succeeded ${Math.round(recovered)} ms after the resume`,
    );
  });

  it('a transaction stalled between two statements leaves none of its rows', async () => {
    const { db, proxy, app } = await throughProxy();
    await db.exec('CREATE TABLE rows (n BIGINT PRIMARY KEY)');
    const failed = await timedFailure(() =>
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO rows (n) VALUES (1)');
        await tx.run('INSERT INTO rows (n) VALUES (2)');
        proxy.pause();
        await tx.run('INSERT INTO rows (n) VALUES (3)');
      }),
    );
    expect(failed).toBeLessThan(CALL_BOUND_MS + SLACK_MS);
    proxy.resume();
    await settledOnServer(app);
    expect(await db.column('SELECT n FROM rows')).toEqual([]);
    console.info(`a transaction stalled between statements: failed after ${Math.round(failed)} ms, rolled back`);
  });

  it('a transaction stalled at its commit is applied whole or not at all', async () => {
    const { db, proxy, app } = await throughProxy();
    await db.exec('CREATE TABLE rows (n BIGINT PRIMARY KEY)');
    const failed = await timedFailure(() =>
      db.transaction(async (tx) => {
        for (const n of [1, 2, 3]) await tx.run('INSERT INTO rows (n) VALUES (?)', [n]);
        proxy.pause(); // the COMMIT is sent into the stall
      }),
    );
    expect(failed).toBeLessThan(CALL_BOUND_MS + SLACK_MS);
    proxy.resume();
    await settledOnServer(app);
    // The COMMIT held in the network reaches the server when it heals: the caller was told
    // store.unavailable, and the rows may be there. What must never be is a part of them.
    const rows = await db.column<number>('SELECT n FROM rows ORDER BY n');
    expect([[], [1, 2, 3]]).toContainEqual(rows);
    console.info(
      `a commit stalled: failed after ${Math.round(failed)} ms; once delivered, ${rows.length === 0 ? 'rolled back' : 'committed'} whole`,
    );
  });

  it('a cut link fails the call in progress at once, not at its bound; the next call reconnects', async () => {
    const { db, proxy } = await throughProxy();
    const call = timedFailure(() => db.value('SELECT pg_sleep(0.2)'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    proxy.cutAll();
    expect(await call).toBeLessThan(BOUNDS.statementTimeoutMs);
    expect(await db.value('SELECT 1')).toBe(1);
    expect(db.available).toBe(true);
  });
});
