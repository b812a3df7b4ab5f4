import { ManualClock, systemClock } from '../shared/platform/clock.js';
import { Directory } from '../shared/protocol/directory.js';
import { SiteConfig } from '../firmware-config/schema.js';
import { PcscReader } from '../edge/hardware/pcsc-reader.js';
import { SimGpio } from '../edge/hardware/sim-gpio.js';
import { createEdge } from '../edge/site/edge.js';
import { EdgeStore } from '../edge/store/store.js';
import { Pcscd, VPCD_READERS, pcscAvailability } from '../tests/fixtures/pcscd.js';
import { timedGpio } from '../tests/fixtures/timed-gpio.js';
import { insert, uidTag } from '../tests/fixtures/vpcd-card.js';
import { fmtMs, percentile } from './stats.js';
import { silent } from '../tests/support/logger.js';

const TAPS = Number(process.env.BENCH_PCSC_TAPS ?? 30);
/** The bench stops early rather than run past this. */
const BUDGET_MS = Number(process.env.BENCH_PCSC_BUDGET_MS ?? 60_000);
const TITLE = '## Tap → relay through pcscd + vpcd (real PC/SC stack, virtual card)';
const READER = VPCD_READERS[0];
const RELAY = 17;
const DOOR_PULSE_MS = 1000;

const uidOf = (i: number) => `04${(0xa00000 + i).toString(16).toUpperCase().padStart(12, '0')}`;

interface Tap {
  inserted: number;
  /** nfc-pcsc's `card` event: pcscd saw the card and connected to it. */
  raw?: number;
  /** Our CardEvent: the UID was read (one APDU). */
  event?: number;
  relay?: number;
}

/** nfc-pcsc's NFC, noting when its readers report a card: where the PC/SC path hands over to us. */
async function nfcWithCardTimes(onRawCard: () => void): Promise<() => Promise<unknown>> {
  const nfcPcsc = await import('nfc-pcsc');
  class TimedNFC extends nfcPcsc.NFC {
    constructor() {
      super();
      this.on('reader', (device) => device.on('card', onRawCard));
    }
  }
  return () => Promise.resolve({ NFC: TimedNFC });
}

/**
 * Card insertions on vpcd through pcscd, nfc-pcsc, PcscReader and the whole edge to the door
 * relay. The PC/SC path (pcscd's ~400 ms presence poll, vpcd's ~45 ms per APDU) is reported apart
 * from our own time, from the card event to the relay write.
 */
export async function benchPcscTap(): Promise<string[]> {
  const stack = await pcscAvailability();
  if (!stack.ok) return [TITLE, '', `skipped: ${stack.reason}`];
  const pcscd = await Pcscd.launch(stack, 30_000);
  const taps: Tap[] = [];
  const current = () => taps[taps.length - 1];
  const config = SiteConfig.parse({
    site: { id: 'bench', name: 'Bench', timeZone: 'Europe/Paris', capacity: 100_000 },
    readers: [{ id: 'in', match: READER, role: 'entry', door: 'front' }],
    doors: [{ id: 'front', relay: { line: RELAY }, pulseMs: DOOR_PULSE_MS }],
    directory: { source: 'file', path: '/unused' },
  });
  // The edge's clock is moved by hand between taps so that every tap writes the relay again.
  const clock = new ManualClock('2026-11-23T08:00:00Z');
  const store = EdgeStore.open(':memory:', 'bench', 'Europe/Paris');
  const gpio = timedGpio(new SimGpio(clock), (line, active) => {
    const tap = current();
    if (tap && line === RELAY && active && tap.relay === undefined) tap.relay = performance.now();
  });
  const importModule = await nfcWithCardTimes(() => {
    const tap = current();
    if (tap && tap.raw === undefined) tap.raw = performance.now();
  });
  const reader = new PcscReader({ clock: systemClock, retryMs: 50, importModule });
  reader.subscribe({
    card: () => {
      const tap = current();
      if (tap && tap.event === undefined) tap.event = performance.now();
    },
  });
  const edge = createEdge({ config, clock, log: silent, store, reader, gpio, clockSynced: () => true });
  const members = Array.from({ length: TAPS }, (_, i) => ({ id: `m${i}`, name: `Member ${i}`, plan: 'always' }));
  edge.applyDirectory(
    Directory.parse({
      plans: [{ id: 'always', name: '24/7', access: 'always' }],
      members,
      badges: members.map((m, i) => ({ uid: uidOf(i), member: m.id })),
    }),
    'bench',
  );
  const started = performance.now();
  try {
    await edge.start();
    await until(() => reader.attached().includes(READER), 5000);
    // Distinct cards: the same card twice within 1.5 s would count once (dedupe).
    for (let i = 0; i < TAPS && performance.now() - started < BUDGET_MS; i++) {
      clock.advance(DOOR_PULSE_MS + 1); // the door relocks between taps
      taps.push({ inserted: performance.now() });
      const card = await insert(pcscd.portOf(READER), uidTag(uidOf(i)));
      await until(() => current()?.relay !== undefined, 5000).catch(() => undefined);
      await card.remove();
      await pcscd.cardGone(READER);
    }
  } finally {
    await edge.stop();
    store.close();
    await pcscd.dispose();
  }
  return report(taps, (performance.now() - started) / 1000);
}

function report(taps: Tap[], seconds: number): string[] {
  const done = taps.filter(
    (t): t is Required<Tap> => t.raw !== undefined && t.event !== undefined && t.relay !== undefined,
  );
  const sorted = (ms: number[]) => [...ms].sort((a, b) => a - b);
  const row = (label: string, ms: number[]) =>
    `| ${label} | ${fmtMs(percentile(sorted(ms), 50))} | ${fmtMs(percentile(sorted(ms), 95))} |`;
  const ours = sorted(done.map((t) => t.relay - t.event));
  const total = sorted(done.map((t) => t.relay - t.inserted));
  const share = (p: number) => `${((percentile(ours, p) / percentile(total, p)) * 100).toFixed(1)} %`;
  return [
    TITLE,
    `${done.length} of ${taps.length} card insertions reached the relay in ${seconds.toFixed(1)} s (Node ${process.version})`,
    '',
    '| segment | p50 | p95 |',
    '|---|---|---|',
    row(
      'PC/SC: insert → nfc-pcsc card event (pcscd presence poll, connect)',
      done.map((t) => t.raw - t.inserted),
    ),
    row(
      'PC/SC: nfc-pcsc card event → CardEvent (UID APDU over vpcd)',
      done.map((t) => t.event - t.raw),
    ),
    row(
      'baseline: the PC/SC path itself, insert → CardEvent',
      done.map((t) => t.event - t.inserted),
    ),
    row('ours: CardEvent → relay write (decision, transaction, relay)', ours),
    row('total: insert → relay write', total),
    `| ratio ours / total | ${share(50)} | ${share(95)} |`,
    '',
    'vpcd is slower than a reader (its ~45 ms per APDU comes from unbuffered writes; a real reader takes 10-30 ms) and pcscd polls presence every ~400 ms: only the "ours" row is our code.',
  ];
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  for (const start = performance.now(); !check(); await new Promise((r) => setTimeout(r, 2))) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
  }
}
