import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import mqtt, { type MqttClient } from 'mqtt';
import { createHub } from '../cloud-sync/hub-process/hub.js';
import { systemClock } from '../shared/platform/clock.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import type { DirectoryUpdate } from '../shared/protocol/sync.js';
import { topics } from '../shared/protocol/topics.js';
import { statusOf, membersCsv } from '../tests/harness/hub-fixtures.js';
import { loginOver, TEST_ADMIN } from '../tests/harness/hub-auth.js';
import { fmtInt } from './ingest.js';
import { sleep } from '../tests/support/sleep.js';
import { silent } from '../tests/support/logger.js';

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 200_000);
const SITES = Number(process.env.BENCH_IMPORT_SITES ?? 2);
/** Liveness bound of the whole section (not a performance threshold). */
const BOUND_MS = 30 * 60_000;
const GOAL_MS = 100;
const t = topics();

/**
 * A site as the hub sees it, on the broker: applies what it is sent (a snapshot once all its
 * chunks are in) and says so in its status; while behind, says so again every second (heartbeats
 * and reconnects), which is what made the hub send a new full snapshot each time.
 */
async function simulatedSite(
  mqttUrl: string,
  site: string,
  revision: number,
): Promise<{ revision: () => number; stop: () => Promise<void> }> {
  let held = revision;
  const chunks = new Set<number>();
  const client: MqttClient = await mqtt.connectAsync(mqttUrl, {
    protocolVersion: 4,
    clientId: `bench-site-${site}`,
    reconnectPeriod: 0,
  });
  const status = () =>
    client.publish(
      t.status(site),
      JSON.stringify(statusOf(site, { directory: { revision: held, ageSeconds: 0, stale: false } })),
      { qos: 1 },
    );
  client.on('message', (_topic, payload) => {
    const u = (JSON.parse(payload.toString()) as { body: DirectoryUpdate }).body;
    if (u.kind === 'delta' && u.from === held) held = u.to;
    if (u.kind === 'snapshot') {
      chunks.add(u.chunk);
      if (chunks.size < u.chunks) return;
      chunks.clear();
      held = u.to;
    }
    status();
  });
  await client.subscribeAsync(t.directory(site), { qos: 1 });
  status();
  const heartbeat = setInterval(status, 1000);
  return { revision: () => held, stop: async () => (clearInterval(heartbeat), await client.endAsync()) };
}

interface Figures {
  importMs: number;
  worstMs: number;
  p99Ms: number;
  healthAnswers: number;
  convergeMs: number;
}

async function measureImport(csv: string): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-import-'));
  const hub = await createHub({
    dbPath: join(dir, 'hub.db'),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    initialAdmin: TEST_ADMIN,
  });
  const sites: Array<Awaited<ReturnType<typeof simulatedSite>>> = [];
  try {
    const { apiUrl, mqttUrl } = await hub.start();
    const auth = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
    await hub.directory.upsert(hub.store.db, 'plan', { id: 'always', name: '24/7', access: 'always' });
    const revision = await hub.directory.revision(hub.store.db);
    for (let i = 0; i < SITES; i++) sites.push(await simulatedSite(mqttUrl, `site-${i}`, revision));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    let pending = true;
    let healthAnswers = 0;
    const started = performance.now();
    delay.enable();
    const answer = fetch(`${apiUrl}/directory/members/import`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv', authorization: auth.authorization },
      body: csv,
      signal: AbortSignal.timeout(BOUND_MS),
    }).finally(() => (pending = false));
    while (pending) {
      if ((await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(BOUND_MS) })).ok && pending) healthAnswers++;
      await sleep(50);
    }
    const res = await answer;
    const importMs = performance.now() - started;
    delay.disable();
    const body = (await res.json()) as { revision: number; created: number };
    if (res.status !== 200 || body.created !== ROWS)
      throw new Error(`the import failed: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
    while (sites.some((s) => s.revision() !== body.revision)) {
      if (performance.now() - started > BOUND_MS) throw new Error('the sites did not converge in time');
      await sleep(100);
    }
    return {
      importMs,
      worstMs: delay.max / 1e6,
      p99Ms: delay.percentile(99) / 1e6,
      healthAnswers,
      convergeMs: performance.now() - started - importMs,
    };
  } finally {
    for (const s of sites) await s.stop();
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The baseline: the same file parsed and its rows written in one blocking SQLite transaction, no checks. */
function bareImport(csv: string): { ms: number; worstMs: number } {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE rows (id TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID');
  const insert = db.prepare('INSERT INTO rows (id, value) VALUES (?, ?)');
  const started = performance.now();
  const records = parse(csv, { columns: true }) as Array<Record<string, string>>;
  db.transaction(() => {
    for (const r of records) insert.run(r.member_id, JSON.stringify(r));
  })();
  const ms = performance.now() - started;
  db.close();
  // Blocking from start to end: the event loop's worst delay is the whole of it.
  return { ms, worstMs: ms };
}

/** A members CSV of ROWS rows (one badge each) into a hub with SITES sites connected. */
export async function benchImport(): Promise<string[]> {
  const csv = membersCsv(ROWS);
  const bare = bareImport(csv);
  const f = await measureImport(csv);
  const ms = (n: number) => `${fmtInt(n)} ms`;
  return [
    '## Big members import',
    `${fmtInt(ROWS)} rows (${(csv.length / 1e6).toFixed(1)} MB, one badge each) over HTTP, ${SITES} simulated sites connected that report a stale revision every second; event loop delay by perf_hooks.monitorEventLoopDelay (goal: worst under ${GOAL_MS} ms)`,
    '',
    '| what | import time | worst event-loop delay | p99 delay | `/health` answers during it | sites converged after the answer |',
    '|---|---|---|---|---|---|',
    `| hub: check, write, publish | ${ms(f.importMs)} | **${ms(f.worstMs)}** ${f.worstMs < GOAL_MS ? '(goal met)' : '(over the goal)'} | ${ms(f.p99Ms)} | ${f.healthAnswers} | ${ms(f.convergeMs)} |`,
    `| baseline: bare parse + one-transaction insert, no checks | ${ms(bare.ms)} | ${ms(bare.worstMs)} | — | — | — |`,
    `| ratio hub / baseline | ${(f.importMs / bare.ms).toFixed(1)}× | ${((100 * f.worstMs) / bare.worstMs).toFixed(1)} % | | | |`,
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.stdout.write(`${(await benchImport()).join('\n')}\n`);
