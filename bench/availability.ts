import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { availability, type AvailabilityAsk, type OccupancyNow } from '../cloud-sync/hub/bookings/availability.js';
import { wallSpan } from '../cloud-sync/hub/bookings/rules.js';
import { MAX_BOOKING_MS } from '../cloud-sync/hub/bookings/store.js';
import type { HubDb, Sql } from '../cloud-sync/hub/db.js';
import { rewritePlaceholders } from '../cloud-sync/hub/storage/placeholders.js';
import { SqliteHubDb } from '../cloud-sync/hub/storage/sqlite.js';
import { createHub, type Hub } from '../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../shared/platform/clock.js';
import type { SiteRecord } from '../shared/protocol/api/hub-admin-sites.js';
import { FAST_PASSWORD_COST, login, TEST_ADMIN, type AuthHeaders } from '../tests/harness/hub-auth.js';
import { silent } from '../tests/support/logger.js';
import { checkSample, planOf } from './availability-check.js';
import { generateNetwork, MONTH, MONTH_DAYS, prng, seedNetwork, YEAR, type Network } from './availability-seed.js';
import { BENCH_PG_URL, benchPostgresMissing, benchSchema } from './pg.js';
import { fmtMs, percentile } from './stats.js';

const SIZES = {
  sites: Number(process.env.BENCH_AVAILABILITY_SITES ?? 100),
  resources: Number(process.env.BENCH_AVAILABILITY_RESOURCES ?? 5_000),
  bookings: Number(process.env.BENCH_AVAILABILITY_BOOKINGS ?? 200_000),
  cancelled: Number(process.env.BENCH_AVAILABILITY_CANCELLED ?? 20_000),
};
const ITERATIONS = Number(process.env.BENCH_AVAILABILITY_ITERATIONS ?? 300);
/** Time bound of each database's measuring loop (the loop stops early, with what it has). */
const BUDGET_MS = Number(process.env.BENCH_AVAILABILITY_BUDGET_MS ?? 90_000);
const WARMUP = 10;
const GOAL_P95_MS = 50;
/** The hub's clock: the day before the month, so that no window holds "now" (no cap by who is in). */
const NOW = Date.parse(`${YEAR}-09-30T12:00:00Z`);

const fmtInt = (n: number) => Math.round(n).toLocaleString('en');
const pad = (n: number) => String(n).padStart(2, '0');

/** A random date of the month and a random window of 2 to 4 hours on quarter hours, between 07:00 and 22:00. */
function randomAsk(random: () => number): AvailabilityAsk {
  const day = 1 + Math.floor(random() * MONTH_DAYS);
  const minutes = 120 + 15 * Math.floor(random() * 9);
  const from = 7 * 60 + 15 * Math.floor(random() * ((22 * 60 - minutes - 7 * 60) / 15 + 1));
  const hhmm = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
  return { date: `${YEAR}-${pad(MONTH)}-${pad(day)}`, from: hhmm(from), to: hhmm(from + minutes) };
}

/** The parameters the store binds for `ask`: the sites, and the union of their windows reached back by the longest booking. */
function windowParams(sites: readonly SiteRecord[], ask: AvailabilityAsk): unknown[] {
  const spans = sites.map((s) => wallSpan(ask, s.timeZone));
  const from = Math.min(...spans.map((s) => s.startMs));
  const to = Math.max(...spans.map((s) => s.endMs));
  return [JSON.stringify(sites.map((s) => s.id)), from - MAX_BOOKING_MS, to, from];
}

/** The statement `availability()` reads the bookings with, and its parameters, caught on their way to the database. */
async function bookingsStatement(db: HubDb, sites: readonly SiteRecord[], ask: AvailabilityAsk) {
  const seen: Array<{ sql: string; params: unknown }> = [];
  const recorder: Sql = {
    dialect: db.dialect,
    all: (sql, params) => (seen.push({ sql, params }), db.all(sql, params)),
    get: (sql, params) => db.get(sql, params),
    column: (sql, params) => db.column(sql, params),
    value: (sql, params) => db.value(sql, params),
    run: (sql, params) => db.run(sql, params),
    exec: (sql) => db.exec(sql),
    transaction: (fn) => db.transaction(fn),
  };
  await availability(recorder, sites, ask, NOW, async () => []);
  const caught = seen.filter((s) => /\bFROM bookings\b/.test(s.sql));
  if (caught.length !== 1) throw new Error(`availability read the bookings in ${caught.length} statements, not 1`);
  const { sql, params } = caught[0] as { sql: string; params: unknown };
  if (JSON.stringify(params) !== JSON.stringify(windowParams(sites, ask)))
    throw new Error(`the bookings statement was bound to ${JSON.stringify(params)}, not the window's parameters`);
  return sql;
}

/** The baseline: that statement prepared once on the bare driver (better-sqlite3, or one node-postgres client), rows counted. */
async function bareQuery(db: HubDb, sql: string, pgUrl: string | undefined) {
  if (db instanceof SqliteHubDb) {
    const statement = db.raw.prepare(sql);
    return { run: async (params: unknown[]) => statement.all(...params).length, close: async () => {} };
  }
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  const text = rewritePlaceholders(sql).text;
  return {
    run: async (params: unknown[]) =>
      (await client.query({ name: 'bench-availability', text, values: params })).rowCount ?? 0,
    close: () => client.end(),
  };
}

interface Paths {
  bare: (ask: AvailabilityAsk) => Promise<number>;
  ours: (ask: AvailabilityAsk) => Promise<unknown>;
  http: (ask: AvailabilityAsk) => Promise<unknown>;
}
type PathName = keyof Paths;
const PATHS: PathName[] = ['bare', 'ours', 'http'];

/** The asks of the measuring loop, drawn before it (warm-up first). */
function measuredAsks(): AvailabilityAsk[] {
  const random = prng(7);
  return Array.from({ length: WARMUP + ITERATIONS }, () => randomAsk(random));
}

/** The three paths interleaved, each in turn first, for the same random asks; bounded in count and time. */
async function measure(
  paths: Paths,
  asks: readonly AvailabilityAsk[],
): Promise<Record<PathName, number[]> & { rows: number }> {
  const samples: Record<PathName, number[]> = { bare: [], ours: [], http: [] };
  let rows = 0;
  const deadline = performance.now() + BUDGET_MS;
  for (let i = 0; i < asks.length && performance.now() < deadline; i++) {
    const ask = asks[i] as AvailabilityAsk;
    for (let k = 0; k < PATHS.length; k++) {
      const name = PATHS[(i + k) % PATHS.length] as PathName;
      const t0 = performance.now();
      const out = await paths[name](ask);
      const ms = performance.now() - t0;
      if (i < WARMUP) continue;
      samples[name].push(ms);
      if (name === 'bare') rows += out as number;
    }
  }
  for (const s of Object.values(samples)) s.sort((a, b) => a - b);
  return { ...samples, rows };
}

/** A hub on a fresh SQLite file or PostgreSQL schema, seeded with the network; `done` stops and removes it. */
async function seededHub(kind: 'sqlite' | 'postgres', network: Network) {
  const dir = kind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'tessera-bench-availability-')) : undefined;
  const schema = kind === 'postgres' ? await benchSchema() : undefined;
  const dbPath = dir ? join(dir, 'hub.db') : (schema?.url ?? '');
  const remove = async () => (dir ? rmSync(dir, { recursive: true, force: true }) : await schema?.drop());
  let hub: Hub;
  try {
    hub = await createHub({
      dbPath,
      clock: new ManualClock(NOW),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
  } catch (err) {
    await remove();
    throw err;
  }
  const done = async () => (await hub.stop(), await remove());
  try {
    const t0 = performance.now();
    await seedNetwork(hub.store.db, hub.directory, hub.sites, network);
    // What autovacuum does soon after such a load (PostgreSQL 13 and later vacuum after inserts too): without
    // the statistics the planner guesses on an empty table's; without the visibility map an index-only scan
    // still visits every heap page it reads.
    if (kind === 'postgres') await hub.store.db.exec('VACUUM ANALYZE bookings');
    const seedS = (performance.now() - t0) / 1000;
    return { hub, dbPath, seedS, auth: await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password), done };
  } catch (err) {
    await done();
    throw err;
  }
}

const row = (what: string, s: number[], base: number[], note: string) =>
  `| ${what} | ${fmtMs(percentile(s, 50))} | ${fmtMs(percentile(s, 95))} | ${(percentile(s, 95) / percentile(base, 95)).toFixed(1)}× | ${note} |`;

/** One database: seeded, checked on a sample, then the three paths measured side by side. */
async function benchOn(kind: 'sqlite' | 'postgres', network: Network): Promise<string[]> {
  const { hub, dbPath, seedS, auth, done } = await seededHub(kind, network);
  try {
    const db = hub.store.db;
    const sites = await hub.sites.list();
    const occupancyNow: OccupancyNow = async () =>
      sites.map((s, i) => ({ site: s.id, present: (i * 7) % 40, capacity: 150 }));
    const sql = await bookingsStatement(db, sites, randomAsk(prng(1)));
    const bare = await bareQuery(db, sql, kind === 'postgres' ? dbPath : undefined);
    // The baseline times the statement alone: its parameters (two wall instants per site) are worked out beforehand.
    const asks = measuredAsks();
    const params = new Map(asks.map((ask) => [ask, windowParams(sites, ask)]));
    try {
      const paths: Paths = {
        bare: (ask) => bare.run(params.get(ask) ?? windowParams(sites, ask)),
        ours: (ask) => availability(db, sites, ask, NOW, occupancyNow),
        http: async (ask) => {
          const r = await hub.api.inject({
            method: 'GET',
            url: `/availability?${new URLSearchParams({ ...ask })}`,
            headers: auth as AuthHeaders,
          });
          if (r.statusCode !== 200) throw new Error(`GET /availability answered ${r.statusCode}: ${r.body}`);
          return r.body;
        },
      };
      const check = await checkSample({
        db,
        sql,
        sites,
        network,
        params: (ask) => windowParams(sites, ask),
        asks: Array.from({ length: 6 }, (_, i) => randomAsk(prng(100 + i))),
        paths,
      });
      const m = await measure(paths, asks);
      const p95 = percentile(m.ours, 95);
      const where =
        kind === 'sqlite'
          ? 'SQLite (file, WAL)'
          : `PostgreSQL at ${BENCH_PG_URL.replace(/\/\/[^@]*@/, '//')} (loopback)`;
      return [
        `### Availability on ${where}`,
        `seeded in ${seedS.toFixed(1)} s (one transaction${kind === 'postgres' ? ', then VACUUM ANALYZE' : ''}); ${check}`,
        `plan of the bookings statement: ${await planOf(db, sql, windowParams(sites, randomAsk(prng(1))))}`,
        `${m.bare.length} asks per path, interleaved (each path first in turn), after ${WARMUP} unmeasured; ${fmtInt(m.rows / Math.max(1, m.bare.length))} booking rows read per ask on average`,
        '',
        '| path | p50 | p95 | p95 ratio | |',
        '|---|---|---|---|---|',
        row(
          "bare indexed SQL: the store's statement for the confirmed bookings overlapping the window, on the driver (baseline)",
          m.bare,
          m.bare,
          'rows counted, not mapped',
        ),
        row(
          "`availability()`: resources, bookings, occupancy → each site's free desks and rooms",
          m.ours,
          m.bare,
          `goal p95 < ${GOAL_P95_MS} ms: ${p95 < GOAL_P95_MS ? 'met' : 'not met'}`,
        ),
        row(
          '`GET /availability` through `app.inject` (auth, validation, sites, serialisation)',
          m.http,
          m.bare,
          'live occupancy of the hub',
        ),
      ];
    } finally {
      await bare.close();
    }
  } finally {
    await done();
  }
}

/** The network's availability for a random 2–4 h window of a month, against a bare read of the bookings it needs. */
export async function benchAvailability(): Promise<string[]> {
  const network = generateNetwork(SIZES);
  const kinds = network.resources.reduce(
    (n, r) => ({ ...n, [r.kind]: (n[r.kind] ?? 0) + 1 }),
    {} as Record<string, number>,
  );
  const poolDesks = network.resources.reduce((n, r) => n + (r.size ?? 0), 0);
  const pgMissing = await benchPostgresMissing();
  const lines = [
    '## Availability across the network',
    `${SIZES.sites} sites (7 in 10 in Europe/Paris, the others in Lisbon, Réunion, Martinique), ${fmtInt(SIZES.resources)} resources (${fmtInt(kinds['desk-pool'] ?? 0)} desk pools holding ${fmtInt(poolDesks)} desks, ${fmtInt(kinds.desk ?? 0)} named desks, ${fmtInt(kinds.room ?? 0)} rooms), ${fmtInt(SIZES.bookings)} confirmed and ${fmtInt(SIZES.cancelled)} cancelled bookings in ${YEAR}-${pad(MONTH)}; each ask a random date of the month and a random 2–4 h window, for every site.`,
    '',
    ...(await benchOn('sqlite', network)),
  ];
  if (pgMissing) lines.push('', '### Availability on PostgreSQL', `skipped: ${pgMissing}`);
  else lines.push('', ...(await benchOn('postgres', network)));
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  process.stdout.write(`${(await benchAvailability()).join('\n')}\n`);
