import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../shared/platform/clock.js';
import { Directory } from '../shared/protocol/directory.js';
import { SiteConfig } from '../firmware-config/schema.js';
import { SimGpio } from '../edge/hardware/sim-gpio.js';
import { SimReader } from '../edge/hardware/sim-reader.js';
import { createEdge } from '../edge/site/edge.js';
import { EdgeStore } from '../edge/store/store.js';
import { startWalCheckpointer } from '../shared/platform/wal-checkpointer.js';
import { fmtMs, timeEach } from './stats.js';
import { silent } from '../tests/support/logger.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100_000);
const STORED_EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const TAPS = Number(process.env.BENCH_TAPS ?? 20_000);

const uidOf = (i: number) => `04${i.toString(16).padStart(12, '0').toUpperCase()}`;

function seed(store: EdgeStore, edge: ReturnType<typeof createEdge>): void {
  const members = Array.from({ length: MEMBERS }, (_, i) => ({
    id: `m${i}`,
    name: `Member ${i}`,
    plan: i % 10 === 0 ? 'two-days' : 'always',
  }));
  edge.applyDirectory(
    Directory.parse({
      plans: [
        { id: 'always', name: '24/7', access: 'always' },
        { id: 'two-days', name: '2 days', access: 'always', daysPerWeek: 2 },
      ],
      members,
      badges: members.map((m, i) => ({ uid: uidOf(i), member: m.id, status: i % 50 === 0 ? 'revoked' : 'active' })),
    }),
    'bench',
  );
  const batch = 50_000;
  for (let done = 0; done < STORED_EVENTS; done += batch) {
    store.transaction(() => {
      for (let i = 0; i < Math.min(batch, STORED_EVENTS - done); i++) {
        store.events.append(
          {
            type: 'access.denied',
            data: { reader: 'in', role: 'entry', door: 'front', badge: '…0000', reason: 'unknown_badge' },
          },
          Date.now(),
        );
      }
    });
  }
}

/** Tap → relay command through the whole edge, against a bare indexed SQLite lookup of the badge. */
export async function benchTapLatency(): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
  const config = SiteConfig.parse({
    site: { id: 'bench', name: 'Bench', timeZone: 'Europe/Paris', capacity: 100_000 },
    readers: [
      { id: 'in', match: 'in', role: 'entry', door: 'front' },
      { id: 'out', match: 'out', role: 'exit', door: 'front' },
    ],
    doors: [{ id: 'front', relay: { line: 17 } }],
    directory: { source: 'file', path: '/unused' },
  });
  const store = EdgeStore.open(join(dir, 'edge.db'), 'bench', 'Europe/Paris');
  const reader = new SimReader(['in', 'out'], systemClock);
  const gpio = new SimGpio(systemClock);
  const edge = createEdge({ config, clock: systemClock, log: silent, store, reader, gpio });
  // As a running site does (edge/site/run.ts): the WAL is checkpointed by a worker thread.
  const checkpointer = startWalCheckpointer(store.db, silent);
  const t0 = Date.now();
  seed(store, edge);
  const seedS = (Date.now() - t0) / 1000;
  await edge.start();

  const pick = (i: number) => (i * 7919) % MEMBERS;
  const bare = store.db.prepare<[string], { uid: string; member: string; status: string }>(
    'SELECT uid, member, status FROM badges WHERE uid = ?',
  );
  const uids = Array.from({ length: TAPS }, (_, i) => uidOf(pick(i)));
  // Warm both paths, then measure them one after the other in the same process.
  for (let i = 0; i < 2000; i++) bare.get(uids[i % uids.length] ?? '');
  for (let i = 0; i < 2000; i++) reader.tap(i % 2 ? 'out' : 'in', uids[i % uids.length] ?? '');
  const baseline = timeEach(TAPS, (i) => bare.get(uids[i] ?? ''));
  let relayCommands = 0;
  const off = edge.onTap((r) => {
    if (r.granted && r.door) relayCommands++;
  });
  const ours = timeEach(TAPS, (i) => reader.tap(i % 3 === 2 ? 'out' : 'in', uids[i] ?? ''));
  off();
  await edge.stop();
  await checkpointer?.stop();
  store.close();
  rmSync(dir, { recursive: true, force: true });
  return [
    `## Tap → relay command (${MEMBERS.toLocaleString('en')} members, ${STORED_EVENTS.toLocaleString('en')} stored events, ${TAPS.toLocaleString('en')} taps)`,
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; seeding took ${seedS.toFixed(1)} s`,
    '',
    '| path | p50 | p99 | per second |',
    '|---|---|---|---|',
    `| edge: tap → decision → transaction → relay | ${fmtMs(ours.p50)} | ${fmtMs(ours.p99)} | ${Math.round(ours.perSecond).toLocaleString('en')} |`,
    `| baseline: bare indexed SQLite badge lookup | ${fmtMs(baseline.p50)} | ${fmtMs(baseline.p99)} | ${Math.round(baseline.perSecond).toLocaleString('en')} |`,
    `| ratio (edge / baseline) | ${(ours.p50 / baseline.p50).toFixed(1)}× | ${(ours.p99 / baseline.p99).toFixed(1)}× | ${(baseline.perSecond / ours.perSecond).toFixed(1)}× slower |`,
    '',
    `door relay commands in the measured taps: ${relayCommands.toLocaleString('en')} (the others were refused: revoked badges, quotas); goals: p99 < 0.5 ms: ${ours.p99 < 0.5 ? 'met' : 'NOT met'}; p50 at most 15× the bare lookup: ${ours.p50 / baseline.p50 <= 15 ? 'met' : 'NOT met'}`,
  ];
}
