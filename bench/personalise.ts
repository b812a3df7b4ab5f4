import { SELECT_APPLICATION } from '../edge/badges/apdu.js';
import { personalise } from '../edge/badges/personalise.js';
import { SoftNtag424 } from '../edge/badges/soft-ntag424.js';
import { PcscReader } from '../edge/hardware/pcsc-reader.js';
import type { CardEvent } from '../edge/hardware/types.js';
import { systemClock } from '../shared/platform/clock.js';
import { Pcscd, VPCD_READERS, pcscAvailability } from '../tests/fixtures/pcscd.js';
import { insert, iso14443_4Card } from '../tests/fixtures/vpcd-card.js';
import { fmtMs, percentile } from './stats.js';

const CARDS = Number(process.env.BENCH_PERSONALISE_CARDS ?? 3);
const TITLE = '## Personalising an NTAG 424 DNA through pcscd + vpcd (what `tessera badge enrol` does to a card)';
const READER = VPCD_READERS[0];
const MASTER = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');

const uidOf = (i: number) => `04${(0xb00000 + i).toString(16).toUpperCase().padStart(12, '0')}`;

interface StepTime {
  step: string;
  ms: number;
  apdus: number;
}

/**
 * One blank software card per run behind vpcd, personalised through pcscd, nfc-pcsc and
 * PcscReader as `tessera badge enrol` does it, each step timed with the APDUs it sent. The
 * baseline, measured on the same card in the same run: as many trivial APDUs (a SELECT) as the
 * personalisation sent, the transport's floor. Our cost is the ratio of a step to its APDUs' floor.
 */
export async function benchPersonalise(): Promise<string[]> {
  const stack = await pcscAvailability();
  if (!stack.ok) return [TITLE, '', `skipped: ${stack.reason}`];
  const pcscd = await Pcscd.launch(stack, 30_000);
  const reader = new PcscReader({ clock: systemClock, retryMs: 50, dedupeMs: 0 });
  let latest: CardEvent | undefined;
  reader.subscribe({ card: (event) => (latest = event) });
  const runs: Array<{ steps: StepTime[]; floorMs: number[] }> = [];
  const started = performance.now();
  try {
    await reader.start();
    await until(() => reader.attached().includes(READER), 5000);
    for (let i = 0; i < CARDS; i++) {
      const uid = uidOf(i);
      const soft = SoftNtag424.blank(uid);
      latest = undefined;
      const card = await insert(
        pcscd.portOf(READER),
        iso14443_4Card(uid, (apdu) => soft.handle(apdu)),
      );
      await until(() => latest?.uid === uid, 5000);
      const transmit = latest!.transmit!;
      let apdus = 0;
      const counted = (apdu: Buffer) => (apdus++, transmit(apdu));
      const steps: StepTime[] = [];
      let mark = performance.now();
      let sent = 0;
      await personalise(counted, {
        uid,
        masterKey: MASTER,
        aid: Buffer.from('3042F5', 'hex'),
        systemIdentifier: Buffer.from('Tessera'),
        url: 'https://hub.example/badge',
        onStep: (step) => {
          const now = performance.now();
          steps.push({ step, ms: now - mark, apdus: apdus - sent });
          mark = now;
          sent = apdus;
        },
      });
      const floorMs: number[] = [];
      for (let k = 0; k < apdus; k++) {
        const t = performance.now();
        await transmit(SELECT_APPLICATION);
        floorMs.push(performance.now() - t);
      }
      runs.push({ steps, floorMs });
      await card.remove();
      await pcscd.cardGone(READER);
    }
  } finally {
    await reader.stop();
    await pcscd.dispose();
  }
  return report(runs, (performance.now() - started) / 1000);
}

function report(runs: Array<{ steps: StepTime[]; floorMs: number[] }>, seconds: number): string[] {
  const median = (xs: number[]) =>
    percentile(
      [...xs].sort((a, b) => a - b),
      50,
    );
  const rtt = median(runs.flatMap((r) => r.floorMs));
  const names = runs[0]?.steps.map((s) => s.step) ?? [];
  const rows = names.map((name) => {
    const of = runs.map((r) => r.steps.find((s) => s.step === name)!);
    const ms = median(of.map((s) => s.ms));
    const apdus = of[0]!.apdus;
    return `| ${name} | ${apdus} | ${fmtMs(ms)} | ${fmtMs(apdus * rtt)} | ${(ms / (apdus * rtt)).toFixed(2)}× |`;
  });
  const total = median(runs.map((r) => r.steps.reduce((sum, s) => sum + s.ms, 0)));
  const apdus = runs[0]?.steps.reduce((sum, s) => sum + s.apdus, 0) ?? 0;
  return [
    TITLE,
    `${runs.length} blank cards personalised in ${seconds.toFixed(1)} s (Node ${process.version}); baseline: the same number of trivial APDUs (SELECT) on the same card, median round trip ${fmtMs(rtt)}`,
    '',
    '| step | APDUs | median | floor (APDUs × round trip) | ratio |',
    '|---|---|---|---|---|',
    ...rows,
    `| whole card | ${apdus} | ${fmtMs(total)} | ${fmtMs(apdus * rtt)} | ${(total / (apdus * rtt)).toFixed(2)}× |`,
    '',
    'A ratio near 1 means the step costs its round trips and our crypto is lost in them; vpcd (~45 ms per APDU) is slower than a USB reader (10-30 ms).',
  ];
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  for (const start = performance.now(); !check(); await new Promise((r) => setTimeout(r, 2))) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms`);
  }
}
