import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DateTime } from 'luxon';
import { BillingLedger } from '../cloud-sync/billing/ledger.js';
import { EXAMPLE_PRICE_LIST, refusesExtraDays } from '../cloud-sync/billing/prices.js';
import { readWindow } from '../cloud-sync/billing/period.js';
import { openHubSqlite, type HubDb } from '../cloud-sync/hub/db.js';
import type { SqliteHubDb } from '../cloud-sync/hub/storage/sqlite.js';
import { HubDirectory } from '../cloud-sync/hub/directory.js';
import { HubSites } from '../cloud-sync/hub/sites.js';
import { silent } from '../tests/support/logger.js';
import { startWalCheckpointer } from '../shared/platform/wal-checkpointer.js';
import { seededRandom as prng } from '../demo/day-plan.js';
import { peakRssMb } from './process-memory.js';

const EVENTS = Number(process.env.BENCH_BILLING_EVENTS ?? 2_000_000);
const MEMBERS = Number(process.env.BENCH_BILLING_MEMBERS ?? 10_000);
const SITES = Number(process.env.BENCH_BILLING_SITES ?? 100);
const PERIOD = '2026-10';
/** The close happens on 2 November, when October is over everywhere. */
const CLOSE_AT = Date.parse('2026-11-02T09:00:00Z');
/** Liveness bound of each measuring child (not a performance threshold). */
const CHILD_TIMEOUT_MS = 300_000;
/**
 * Rounds of the two passes, in turn: the time of each pass is its median, so that one slow moment
 * of the machine does not decide the verdict; the close's peak RSS is its largest.
 */
const ROUNDS = Number(process.env.BENCH_BILLING_ROUNDS ?? 3);
/** The close's goals against the bare pass: its peak memory, and its time as a multiple of the bare pass's. */
const GOAL_RSS_MB = 256;
const GOAL_RATIO = 2;
const ZONES = ['Europe/Paris', 'Europe/Lisbon', 'Indian/Reunion', 'America/Martinique'];
const PLANS = ['murat-day', 'murat-week', 'reichstett-2-days', 'soho-solo'];

const fmtInt = (n: number) => Math.round(n).toLocaleString('en');

/** Each zone's offset on each day of October 2026 (DST ends on the 25th in Europe), e.g. `+02:00`. */
const offsets = ZONES.map((zone) =>
  Array.from({ length: 32 }, (_, d) =>
    DateTime.fromObject({ year: 2026, month: 10, day: Math.max(1, d), hour: 12 }, { zone }).toFormat('ZZ'),
  ),
);

/** Site-local ISO time of day `day` (1-31) at `minute` past midnight, with the zone's offset. */
function localAt(zone: number, day: number, minute: number): string {
  const hh = String(Math.floor(minute / 60)).padStart(2, '0');
  const mm = String(minute % 60).padStart(2, '0');
  return `2026-10-${String(day).padStart(2, '0')}T${hh}:${mm}:00.000${offsets[zone]?.[day] ?? '+00:00'}`;
}

async function seedDirectory(db: HubDb): Promise<void> {
  const directory = new HubDirectory(db);
  const sites = new HubSites(db, () => CLOSE_AT);
  for (let s = 0; s < SITES; s++)
    await sites.upsert(db, {
      id: `site-${s}`,
      name: `Site ${s}`,
      timeZone: ZONES[s % ZONES.length] ?? 'UTC',
      capacity: 200,
    });
  for (const plan of PLANS) {
    // A tariff that refuses a day beyond N a week needs a door that does: the hub checks (409 billing.contradicts_directory).
    const tariff = EXAMPLE_PRICE_LIST.plans[plan];
    const daysPerWeek =
      tariff?.kind === 'subscription' && refusesExtraDays(tariff.extraDay) ? { daysPerWeek: tariff.daysPerWeek } : {};
    // A tariff that rents lockers needs a plan that opens them (the same check).
    const lockers = tariff?.lockerMonthlyCents !== undefined ? { lockers: true } : {};
    await directory.upsert(db, 'plan', { id: plan, name: plan, access: 'always', ...daysPerWeek, ...lockers });
  }
  for (let e = 0; e < MEMBERS / 20; e++)
    await directory.upsert(db, 'employer', { id: `emp-${e}`, name: `Employer ${e}` });
  // One revision, one transaction.
  await directory.upsertAll(
    db,
    Array.from({ length: MEMBERS }, (_, m) => ({
      entity: 'member' as const,
      value: {
        id: `m${m}`,
        name: `Member ${m}`,
        plan: PLANS[m % PLANS.length],
        ...(m % 10 < 7 ? { employer: `emp-${m % (MEMBERS / 20)}` } : {}),
      },
    })),
  );
  await new BillingLedger({ db, directory, sites, now: () => CLOSE_AT, log: silent }).setPrices(EXAMPLE_PRICE_LIST);
}

/**
 * A month as the hub stores it: visits of 4 events (access granted, check-in, exit granted,
 * check-out) on weekdays at a member's home site (sometimes another), 1 in 20 events a
 * consumable use, until EVENTS events. Written straight into the events table in big transactions.
 */
async function seedEvents(db: HubDb): Promise<{ visits: number; consumables: number }> {
  const random = prng(2026);
  const seq = new Array<number>(SITES).fill(0);
  const insert = 'INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
  /** The rows of the transaction being built, written at its end. */
  let rows: unknown[][] = [];
  let written = 0;
  let visits = 0;
  let consumables = 0;
  const put = (site: number, at: string, type: string, data: object) => {
    const s = (seq[site] ?? 0) + 1;
    seq[site] = s;
    const id = `00000000-0000-7000-8000-${(++written).toString(16).padStart(12, '0')}`;
    const body = JSON.stringify({ v: 1, site: `site-${site}`, seq: s, id, at, type, data });
    rows.push([`site-${site}`, s, id, at, type, body, Date.parse(at) + 1000]);
  };
  const flush = async () => {
    const batch = rows;
    rows = [];
    await db.transaction(async (tx) => {
      for (const row of batch) await tx.run(insert, row);
    });
  };
  const visit = () => {
    const m = Math.floor(random() * MEMBERS);
    const site = random() < 0.8 ? m % SITES : Math.floor(random() * SITES);
    const day = 1 + Math.floor(random() * 31);
    const start = 420 + Math.floor(random() * 600);
    const minutes = 30 + Math.floor(random() * Math.min(540, 1400 - start));
    const zone = site % ZONES.length;
    const badge = { reader: 'in', role: 'entry', door: 'front', badge: '…00AA', memberId: `m${m}`, reason: 'ok' };
    put(site, localAt(zone, day, start), 'access.granted', badge);
    put(site, localAt(zone, day, start), 'presence.in', { memberId: `m${m}`, door: 'front' });
    if (random() < 0.2 && written < EVENTS - 4) {
      put(site, localAt(zone, day, start + 1), 'consumable.used', {
        memberId: `m${m}`,
        item: random() < 0.5 ? 'print-page' : 'coffee',
        quantity: 1 + Math.floor(random() * 60),
      });
      consumables++;
    }
    put(site, localAt(zone, day, start + minutes), 'access.granted', { ...badge, reader: 'out', role: 'exit' });
    put(site, localAt(zone, day, start + minutes), 'presence.out', {
      memberId: `m${m}`,
      cause: 'badge',
      via: 'exit_reader',
      door: 'front',
      minutes,
    });
    visits++;
  };
  while (written <= EVENTS - 5) {
    for (let i = 0; i < 20_000 && written <= EVENTS - 5; i++) visit();
    await flush();
  }
  while (written < EVENTS) put(0, localAt(0, 31, 1200), 'door.forced', { door: 'front' });
  await flush();
  return { visits, consumables };
}

interface ChildResult {
  ms: number;
  maxRssMb: number;
  detail: string;
}

/** Runs one measurement in a fresh process, so that its peak memory is its own. */
function measureInChild(db: string, what: 'baseline' | 'close'): ChildResult {
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', fileURLToPath(import.meta.url), `--${what}`, db],
    { encoding: 'utf8', timeout: CHILD_TIMEOUT_MS },
  );
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{'))
    throw new Error(`billing bench child (${what}) failed: ${r.stderr || r.stdout}`);
  return JSON.parse(last) as ChildResult;
}

/** The round of median time (the middle one of an odd count, the faster middle one of an even count). */
function medianOf(list: readonly ChildResult[]): ChildResult {
  const sorted = [...list].sort((a, b) => a.ms - b.ms);
  const middle = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!middle) throw new Error('billing bench: no round measured');
  return middle;
}

/** The bare pass: the same rows read (straight from SQLite, in one statement) and JSON-parsed, nothing else. */
function bareRead(db: SqliteHubDb): string {
  const w = readWindow(PERIOD);
  let n = 0;
  for (const row of db.raw
    .prepare<[string, string, number], { body: string }>(
      "SELECT body FROM events WHERE type IN ('presence.in', 'presence.out', 'consumable.used') AND at >= ? AND at < ? AND received_at <= ?",
    )
    .iterate(w.from, w.to, CLOSE_AT)) {
    if ((JSON.parse(row.body) as { seq: number }).seq > 0) n++;
  }
  return `${fmtInt(n)} rows`;
}

/** The close, timed; then a re-rating of the closed month (timed apart) to check it gives the same bytes. */
async function closeMonth(db: HubDb): Promise<ChildResult> {
  const ledger = new BillingLedger({
    db,
    directory: new HubDirectory(db),
    sites: new HubSites(db, () => CLOSE_AT),
    now: () => CLOSE_AT,
    log: silent,
  });
  // How long the event loop waits at most during the close (a hub answers meanwhile): its reads and rating run in slices.
  let longestPause = 0;
  let last = performance.now();
  const beat = setInterval(() => {
    const now = performance.now();
    longestPause = Math.max(longestPause, now - last);
    last = now;
  }, 5);
  const t0 = performance.now();
  const s = await ledger.close(PERIOD);
  const ms = performance.now() - t0;
  await new Promise((resolve) => setTimeout(resolve, 10)); // the beat after the close's last step
  clearInterval(beat);
  const maxRssMb = peakRssMb();
  const t1 = performance.now();
  const check = await ledger.verify(PERIOD);
  const again = `re-rated in ${((performance.now() - t1) / 1000).toFixed(1)} s: ${check.identical ? 'byte-identical' : `${check.differing.length} differ`}`;
  return {
    ms,
    maxRssMb,
    detail: `${fmtInt(s.invoices)} invoices, total ${fmtInt(s.totalCents / 100)} EUR; event loop paused ${fmtInt(longestPause)} ms at most; ${again}`,
  };
}

async function child(what: string, path: string): Promise<void> {
  const db = openHubSqlite(path);
  // As a running hub does (cloud-sync/hub-process/hub.ts): the WAL is checkpointed by a worker thread.
  const checkpointer = what === '--close' ? startWalCheckpointer(db.raw, silent) : undefined;
  const t0 = performance.now();
  const result =
    what === '--close'
      ? await closeMonth(db)
      : { detail: bareRead(db), ms: performance.now() - t0, maxRssMb: peakRssMb() };
  await checkpointer?.stop();
  await db.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

/** Closing a month of 2,000,000 events (10,000 members, 100 sites), against a bare read-and-parse of the same rows. */
export async function benchBilling(): Promise<string[]> {
  const cpu = cpus();
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-billing-'));
  try {
    const path = join(dir, 'hub.db');
    const db = openHubSqlite(path);
    const t0 = performance.now();
    await seedDirectory(db);
    const seeded = await seedEvents(db);
    db.raw.pragma('wal_checkpoint(TRUNCATE)');
    await db.close();
    const seedS = (performance.now() - t0) / 1000;
    const bases: ChildResult[] = [];
    const closes: ChildResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      bases.push(measureInChild(path, 'baseline'));
      // A month closes once: each round closes a copy of the seeded database.
      const copy = join(dir, `close-${round}.db`);
      copyFileSync(path, copy);
      closes.push(measureInChild(copy, 'close'));
      for (const file of [copy, `${copy}-wal`, `${copy}-shm`]) rmSync(file, { force: true });
    }
    const base = medianOf(bases);
    const close = { ...medianOf(closes), maxRssMb: Math.max(...closes.map((c) => c.maxRssMb)) };
    const timeRatio = close.ms / base.ms;
    const rounds = (list: ChildResult[]) =>
      `${ROUNDS} round${ROUNDS === 1 ? '' : 's'}: ${list.map((c) => `${(c.ms / 1000).toFixed(2)} s`).join(', ')}`;
    const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
    return [
      '## Billing: closing a month',
      `machine: ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}; file database`,
      `${fmtInt(EVENTS)} events in ${PERIOD} (${fmtInt(seeded.visits)} visits of 4 events, ${fmtInt(seeded.consumables)} consumable uses), ${fmtInt(MEMBERS)} members, ${SITES} sites in ${ZONES.length} time zones; seeded in ${seedS.toFixed(1)} s`,
      '',
      '| pass | time | peak RSS | time ratio | RSS ratio | |',
      '|---|---|---|---|---|---|',
      `| bare read + JSON.parse of the billed rows (baseline) | ${(base.ms / 1000).toFixed(2)} s | ${fmtInt(base.maxRssMb)} MB | 1.0× | 1.0× | ${base.detail}; ${rounds(bases)} |`,
      `| \`close\`: read, validate, rate, invoice, number, store (goal < 30 s) | ${(close.ms / 1000).toFixed(2)} s | ${fmtInt(close.maxRssMb)} MB | ${timeRatio.toFixed(2)}× | ${(close.maxRssMb / base.maxRssMb).toFixed(1)}× | ${close.detail}; ${rounds(closes)} |`,
      '',
      `time: the median of the rounds, the passes in turn; peak RSS: the largest of them. Goals: peak RSS ≤ ${GOAL_RSS_MB} MB: ${met(close.maxRssMb <= GOAL_RSS_MB)} (${fmtInt(close.maxRssMb)} MB); time ≤ ${GOAL_RATIO}× the bare pass: ${met(timeRatio <= GOAL_RATIO)} (${timeRatio.toFixed(2)}×)`,
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [what, path] = process.argv.slice(2);
  if ((what === '--baseline' || what === '--close') && path) await child(what, path);
  else process.stdout.write(`${(await benchBilling()).join('\n')}\n`);
}
