import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { benchPostgresMissing, benchSchema } from './pg.js';
import { generateHubKeys } from '../shared/protocol/signing.js';
import { fmtInt, nextFromWorker, pct, runPhase, type PhaseResult } from './ingest.js';
import type { PublisherConfig, ToWorker } from './sync-publishers.js';
import { sleep } from '../tests/support/sleep.js';
import { baselineShortfall, failedMeasurement } from './failures.js';
import mqtt from 'mqtt';
import { benchConnections } from './connections.js';
import { benchMosquitto, type BenchMosquitto } from './mosquitto.js';
import { health, startHubProcess, stopHubProcess, type HubProcess } from './hub-process.js';

/**
 * The hub at scale. Ingest through Mosquitto (mosquitto.ts) from 100 sites with one and with
 * two hub instances (separate processes) on PostgreSQL, each as a ratio to a bare mqtt.js
 * subscriber counting the same stream in the same run; then 1,000 simulated sites connecting
 * at once to one hub (connections.ts).
 */
const SITES = Number(process.env.BENCH_SCALE_SITES ?? 100);
const EVENTS = Number(process.env.BENCH_SCALE_EVENTS ?? 60_000);
const SIZES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const WINDOW = 300;
const INSTANCES_HEADING = `### Ingest through Mosquitto with 1 and 2 hub instances on PostgreSQL: ${SITES} sites`;

export async function benchScale(): Promise<string[]> {
  const lines = ['## Hub scale-out', ''];
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-scale-'));
  try {
    writeFileSync(join(dir, 'hub.key'), generateHubKeys().privateKeyPem, { mode: 0o600 });
    const pgMissing = await benchPostgresMissing();
    const mosquitto = pgMissing ? undefined : await benchMosquitto();
    try {
      lines.push(
        ...(pgMissing || !mosquitto
          ? [INSTANCES_HEADING, `skipped: ${pgMissing ?? 'no mosquitto program, and none on 127.0.0.1:1883'}`]
          : await benchInstances(dir, mosquitto)),
        '',
        ...(await benchConnections(dir)),
      );
    } finally {
      await mosquitto?.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
/** Polls the instances' /health every 10 ms in the background: the phase's consumed and received counts. */
function pollHealth(apiUrls: string[]): { consumed: () => number; received: () => number; stop: () => Promise<void> } {
  let batches = 0;
  let received = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const all = await Promise.all(apiUrls.map(health));
      batches = all.reduce((n, h) => n + h.ingest.batches, 0);
      received = all.reduce((n, h) => n + h.ingest.received, 0);
      await sleep(10);
    }
  })();
  return {
    consumed: () => batches,
    received: () => received,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

async function benchInstances(dir: string, mosquitto: BenchMosquitto): Promise<string[]> {
  const sites = Array.from({ length: SITES }, (_, i) => `s${i.toString().padStart(3, '0')}`);
  const batchesPerSite = Math.max(1, Math.round(EVENTS / SITES / 5.5));
  const totalMessages = SITES * batchesPerSite;
  const cfg: PublisherConfig = {
    url: mosquitto.url,
    sites,
    batchesPerSite,
    eventsPerBatch: SIZES,
    window: WINDOW,
  };
  const worker = new Worker(new URL('./sync-publishers.js', import.meta.url), { workerData: cfg });
  const results: Array<{ label: string; r: PhaseResult }> = [];
  try {
    await nextFromWorker(worker, (m): m is { ready: true } => 'ready' in m, 60_000, 'ready');
    const bare = async (label: string) => {
      const prefix = `bench/${randomUUID()}/bare/v1`;
      let messages = 0;
      const sub = await mqtt.connectAsync(cfg.url, {
        clientId: `bench-bare-${randomUUID().slice(0, 8)}`,
        clean: true,
        protocolVersion: 5,
        reconnectPeriod: 0,
      });
      try {
        sub.on('message', () => messages++);
        await sub.subscribeAsync(`$share/bare/${prefix}/sites/+/events`, { qos: 1 });
        results.push({ label, r: await runPhase(worker, prefix, totalMessages, () => messages) });
      } finally {
        await sub.endAsync();
      }
    };
    const hubs = async (label: string, instances: string[]) => {
      const prefix = `bench/${randomUUID()}/v1`;
      const db = await benchSchema();
      const started: HubProcess[] = [];
      try {
        // One after the other: the first migrates the schema and makes the admin.
        // Instance names (so MQTT client ids) of this run only: no process of another run can take them over.
        const run = randomUUID().slice(0, 8);
        for (const name of instances)
          started.push(
            await startHubProcess([
              '--db',
              db.url,
              '--key',
              join(dir, 'hub.key'),
              '--mqtt',
              cfg.url,
              '--instance',
              `${name}-${run}`,
              '--topic-prefix',
              prefix,
            ]),
          );
        const poll = pollHealth(started.map((s) => s.apiUrl));
        try {
          results.push({ label, r: await runPhase(worker, prefix, totalMessages, poll.consumed, poll.received) });
        } finally {
          await poll.stop();
        }
      } finally {
        await Promise.all(started.map(stopHubProcess));
        await db.drop();
      }
    };
    await bare('warm-up');
    results.pop();
    await bare('baseline: bare mqtt.js subscriber (MQTT 5, shared subscription of one), counting, run 1');
    await hubs('hub, 1 instance on PostgreSQL (validate, group commit, ack)', ['a']);
    await hubs('hub, 2 instances on PostgreSQL, one $share group', ['a', 'b']);
    await bare('baseline: bare mqtt.js subscriber, counting, run 2');
  } finally {
    worker.postMessage({ close: true } satisfies ToWorker);
    await nextFromWorker(worker, (m): m is { closed: true } => 'closed' in m, 5000, 'close').catch(() => undefined);
    await worker.terminate();
  }
  return instancesReport(results, totalMessages, mosquitto.label);
}

function instancesReport(
  results: Array<{ label: string; r: PhaseResult }>,
  totalMessages: number,
  broker: string,
): string[] {
  const rate = (p: PhaseResult) => p.consumedMessages / (p.ms / 1000);
  const bare = results.filter((x) => x.label.startsWith('baseline'));
  const bareRate = bare.reduce((s, x) => s + rate(x.r), 0) / bare.length;
  const complete = results.every((x) => x.r.complete);
  const shortfalls = bare.flatMap((x) => baselineShortfall(x.r, totalMessages) ?? []);
  return [
    INSTANCES_HEADING,
    `broker: ${broker}`,
    `${fmtInt(totalMessages)} messages of 1 to 10 events (5.5 on average); each hub instance its own process, on one PostgreSQL database (127.0.0.1:5432), each run on a fresh schema and topic prefix; at most ${WINDOW} messages published and not yet consumed`,
    '',
    '| consumer | messages/s | events/s | time | ratio to the baseline (mean of its 2 runs) |',
    '|---|---|---|---|---|',
    ...results.map(
      ({ label, r }) =>
        `| ${label} | ${fmtInt(rate(r))} | ${fmtInt(rate(r) * 5.5)} | ${(r.ms / 1000).toFixed(2)} s${r.complete ? '' : r.published ? ' (**messages lost**)' : ' (**timed out**)'} | ${label.startsWith('baseline') ? '' : complete ? pct(rate(r), bareRate) : 'not measured'} |`,
    ),
    '',
    ...shortfalls.map((why) => failedMeasurement('scale: ingest with 1 and 2 hub instances', why)),
    'Two instances split the stream between two processes; on this 2-core machine they share the cores with Mosquitto, PostgreSQL and the 100 publishers.',
  ];
}
