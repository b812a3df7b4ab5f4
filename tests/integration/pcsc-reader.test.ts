import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Reader as NfcReader } from 'nfc-pcsc';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { createHardware } from '../../edge/hardware/factory.js';
import { PcscReader, type PcscReaderOptions } from '../../edge/hardware/pcsc-reader.js';
import type { CardEvent } from '../../edge/hardware/types.js';
import { readerContract, type ReaderHarness } from '../contracts/reader-contract.js';
import { eventually as eventuallyIn, realTime } from '../contracts/eventually.js';
import { Pcscd, VPCD_READERS, requirePcscStack } from '../fixtures/pcscd.js';
import { insert, iso14443_4Card, uidTag, type InsertedCard, type VirtualCard } from '../fixtures/vpcd-card.js';

// PcscReader against a real pcscd with virtual cards (vpcd): the Reader contract, then every
// hazard of nfc-pcsc and pcscd listed in docs/decisions/0008-hardware-ports.md.

const stack = await requirePcscStack(it);
const [FIRST, SECOND] = VPCD_READERS;
const eventually = (check: () => boolean, what: string, timeoutMs = 4000) =>
  eventuallyIn(realTime, check, what, timeoutMs);
const UID = '04A1B2C3D4E5F6';

describe.runIf(stack.ok)('PcscReader through pcscd and vpcd', () => {
  let pcscd: Pcscd;
  const cleanups: Array<() => Promise<void> | void> = [];

  beforeAll(async () => {
    if (!stack.ok) return;
    pcscd = await Pcscd.launch(stack);
  }, 150_000);

  afterAll(async () => {
    await pcscd?.dispose();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    if (!pcscd.running) await pcscd.start();
  });

  /** Cards put on the readers during one test; all removed, and seen gone by pcscd, afterwards. */
  function cardsOnReaders() {
    const cards = new Map<string, InsertedCard>();
    const remove = async (reader: string) => {
      await cards.get(reader)?.remove();
      cards.delete(reader);
    };
    return {
      async put(reader: string, card: VirtualCard): Promise<InsertedCard> {
        await remove(reader);
        const inserted = await insert(pcscd.portOf(reader), card);
        cards.set(reader, inserted);
        return inserted;
      },
      remove,
      async clear() {
        for (const reader of [...cards.keys()]) await remove(reader);
        if (pcscd.running) for (const reader of VPCD_READERS) await pcscd.cardGone(reader);
      },
    };
  }

  readerContract(
    'PcscReader over vpcd',
    () => {
      const cards = cardsOnReaders();
      // Dedupe off: the contract taps the same card twice within a second on purpose.
      const reader = new PcscReader({ clock: systemClock, retryMs: 50, dedupeMs: 0, onListenerError: () => undefined });
      const harness: ReaderHarness = {
        reader,
        names: VPCD_READERS,
        present: async (name, uid) => void (await cards.put(name, uidTag(uid))),
        remove: (name) => cards.remove(name),
        // vpcd's readers cannot be unplugged one by one; pcscd going away takes them all.
        unplug: () => pcscd.stop(),
        plug: () => pcscd.start(),
        teardown: async () => {
          if (!pcscd.running) await pcscd.start();
          await cards.clear();
        },
        ...realTime,
      };
      return harness;
    },
    { timeoutMs: 4000 },
  );

  interface Heard {
    cards: CardEvent[];
    removed: string[];
    lost: { reader: string; detail: string }[];
    found: string[];
  }

  /** A started PcscReader with a recording listener, stopped after the test. */
  async function startedReader(opts: Partial<PcscReaderOptions> = {}) {
    const logLines: Array<{ level: number; msg: string }> = [];
    const log = pino(
      { level: 'debug' },
      { write: (line: string) => void logLines.push(JSON.parse(line) as { level: number; msg: string }) },
    );
    const reader = new PcscReader({ clock: systemClock, retryMs: 50, log, ...opts });
    const heard: Heard = { cards: [], removed: [], lost: [], found: [] };
    reader.subscribe({
      card: (e) => heard.cards.push(e),
      removed: (e) => heard.removed.push(e.reader),
      lost: (r, detail) => heard.lost.push({ reader: r, detail }),
      found: (r) => heard.found.push(r),
    });
    const cards = cardsOnReaders();
    cleanups.push(
      () => reader.stop(),
      () => cards.clear(),
    );
    const started = performance.now();
    await reader.start();
    const startMs = performance.now() - started;
    const logged = (pattern: RegExp) => logLines.filter((l) => pattern.test(l.msg));
    return { reader, heard, cards, logged, startMs };
  }

  /**
   * nfc-pcsc's own NFC class, recording every reader object it makes (for faults and raw events)
   * and every close() made while one of that reader's events is being delivered: pcsc-lite holds
   * the reader's mutex then, so such a close deadlocks the JS thread for good.
   */
  async function spiedNfc() {
    const nfcPcsc = await import('nfc-pcsc');
    const devices: NfcReader[] = [];
    const instances: InstanceType<typeof nfcPcsc.NFC>[] = [];
    const closedInsideEvent: string[] = [];
    class SpiedNFC extends nfcPcsc.NFC {
      constructor() {
        super();
        instances.push(this);
        this.on('reader', (device) => {
          devices.push(device);
          let dispatching = false;
          for (const event of ['error', 'end', 'card', 'card.off'])
            device.prependListener(event, () => {
              dispatching = true;
              setImmediate(() => (dispatching = false));
            });
          const close = device.close.bind(device);
          device.close = () => {
            if (dispatching) closedInsideEvent.push(device.reader.name);
            close();
          };
        });
      }
    }
    return { importModule: () => Promise.resolve({ NFC: SpiedNFC }), devices, instances, closedInsideEvent };
  }

  it('starts at once without pcscd, says so in one log line, does not spin, and finds the readers once pcscd starts', async () => {
    await pcscd.stop();
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const { reader, heard, cards, logged, startMs } = await startedReader({ retryMs: 50 });
    expect(startMs).toBeLessThan(500);
    // A busy loop on the JS thread (new NFC() without pcscd) would starve this timer.
    const lateness: number[] = [];
    for (let i = 0; i < 20; i++) {
      const before = performance.now();
      await sleep(50);
      lateness.push(performance.now() - before - 50);
    }
    const wallMs = performance.now() - wallBefore;
    const cpu = process.cpuUsage(cpuBefore);
    expect(Math.max(...lateness)).toBeLessThan(100);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(wallMs * 0.5);
    // About twenty retries, one line.
    expect(
      logged(/waiting for pcscd at \/run\/pcscd\/pcscd\.comm: is pcscd running\? apt-get install pcscd/),
    ).toHaveLength(1);
    expect(reader.attached()).toEqual([]);

    await pcscd.start();
    await eventually(() => VPCD_READERS.every((n) => heard.found.includes(n)), 'both readers found');
    expect(logged(/pcscd is reachable/)).toHaveLength(1);
    await cards.put(FIRST, uidTag(UID));
    await eventually(() => heard.cards.length > 0, 'a card event');
    expect(heard.cards[0]).toMatchObject({ reader: FIRST, uid: UID });
  });

  it('reports every reader lost when pcscd stops, found again when it returns, and the next tap works', async () => {
    const { reader, heard, cards, logged } = await startedReader({ retryMs: 50 });
    await eventually(() => reader.attached().length === 2, 'both readers attached');
    await pcscd.stop();
    await eventually(() => heard.lost.length === 2, 'lost for both readers');
    expect(heard.lost.map((l) => l.reader).sort()).toEqual([...VPCD_READERS]);
    expect(heard.lost[0]?.detail).toMatch(/PC\/SC service lost: .*RPC transport error/);
    expect(reader.attached()).toEqual([]);
    expect(logged(/pcscd went away/)).toHaveLength(1);

    await sleep(300); // a few retries against the missing socket
    expect(logged(/pcscd went away|waiting for pcscd/)).toHaveLength(1);
    const restarted = performance.now();
    await pcscd.start();
    await eventually(() => heard.found.length === 4, 'found again for both readers');
    console.log(
      `readers found again ${(performance.now() - restarted).toFixed(0)} ms after pcscd was started (retryMs 50)`,
    );
    expect(reader.attached().sort()).toEqual([...VPCD_READERS]);
    await cards.put(SECOND, uidTag(UID));
    await eventually(() => heard.cards.length === 1, 'a card event after the restart');
    expect(heard.cards[0]).toMatchObject({ reader: SECOND, uid: UID });
  });

  it('survives an error event from a reader, and starts over after one from nfc-pcsc itself', async () => {
    const spy = await spiedNfc();
    const { reader, heard, cards, logged } = await startedReader({ importModule: spy.importModule });
    await eventually(() => reader.attached().length === 2, 'both readers attached');
    const device = spy.devices.find((d) => d.reader.name === FIRST) ?? expect.fail('no nfc-pcsc reader object');
    device.emit('error', new Error('simulated reader fault'));
    expect(logged(/reader error/)).toHaveLength(1);
    expect(reader.attached()).toContain(FIRST);
    await cards.put(FIRST, uidTag(UID));
    await eventually(() => heard.cards.length === 1, 'a card event after the reader error');

    spy.instances[0]?.emit('error', new Error('SCardGetStatusChange error: simulated'));
    await eventually(() => heard.lost.length === 2 && heard.found.length === 4, 'lost then found again');
    expect(spy.instances).toHaveLength(2);
  });

  it('closes nfc-pcsc only after the event that reported pcscd gone has returned, even when a listener stops the reader', async () => {
    const spy = await spiedNfc();
    const { reader, heard } = await startedReader({ importModule: spy.importModule });
    await eventually(() => reader.attached().length === 2, 'both readers attached');
    const device = spy.devices.find((d) => d.reader.name === FIRST) ?? expect.fail('no nfc-pcsc reader object');
    let stopped: Promise<void> | undefined;
    reader.subscribe({
      lost: () => {
        stopped ??= reader.stop();
      },
    });
    // What pcsc-lite delivers, from inside its status callback, when pcscd dies.
    device.emit('error', new Error('SCardGetStatusChange error: RPC transport error.(0x80100013)'));
    expect(heard.lost).toHaveLength(1); // then the listener stopped the reader: nothing after stop
    await stopped;
    expect(spy.closedInsideEvent).toEqual([]);
    expect(reader.attached()).toEqual([]);
  });

  it('gives an ISO 14443-4 card a transmit bound to it, and an APDU round-trips', async () => {
    const { heard, cards, logged } = await startedReader();
    await eventually(() => heard.found.length === 2, 'both readers found');
    const select = Buffer.from('00A4040007D276000085010100', 'hex');
    const card = await cards.put(
      FIRST,
      iso14443_4Card(UID, (apdu) =>
        apdu.equals(select) ? Buffer.from('CAFE9000', 'hex') : Buffer.from('6A82', 'hex'),
      ),
    );
    await eventually(() => heard.cards.length === 1, 'a card event');
    const event = heard.cards[0] ?? expect.fail('no card');
    expect(event).toMatchObject({ reader: FIRST, uid: UID, atr: '3B8180018080' });
    const transmit = event.transmit ?? expect.fail('an ISO 14443-4 card must come with transmit');
    expect((await transmit(select)).toString('hex').toUpperCase()).toBe('CAFE9000');
    expect((await transmit(Buffer.from('00B0000002', 'hex'))).toString('hex').toUpperCase()).toBe('6A82');
    expect(card.apdus.map((a) => a.toString('hex').toUpperCase())).toEqual([
      'FFCA000000',
      '00A4040007D276000085010100',
      '00B0000002',
    ]);
    // nfc-pcsc with auto-processing on would have failed this card with "AID was not set".
    expect(logged(/reader error|not read/)).toEqual([]);

    await cards.remove(FIRST);
    await eventually(() => heard.removed.length === 1, 'the removal');
    await expect(transmit(select)).rejects.toThrow(TesseraError);

    await cards.put(SECOND, uidTag('04112233445566'));
    await eventually(() => heard.cards.length === 2, 'the UID tag');
    expect(heard.cards[1]?.transmit).toBeUndefined();
  });

  it('counts repeated taps of one card within dedupeMs once, other cards and later taps each', async () => {
    const spy = await spiedNfc();
    let raw = 0;
    const { heard, cards } = await startedReader({ dedupeMs: 3000, importModule: spy.importModule });
    await eventually(() => spy.devices.length === 2, 'both readers');
    for (const device of spy.devices) device.on('card', () => raw++);
    await cards.put(FIRST, uidTag(UID));
    await eventually(() => heard.cards.length === 1, 'the first tap');
    const firstAt = performance.now();
    await cards.remove(FIRST);
    await cards.put(FIRST, uidTag(UID));
    await eventually(() => raw === 2, 'nfc-pcsc to see the second tap');
    expect(performance.now() - firstAt).toBeLessThan(3000);
    await sleep(100);
    expect(heard.cards).toHaveLength(1);
    // Only reported cards have their removal reported.
    await cards.remove(FIRST);
    await pcscd.cardGone(FIRST);
    await sleep(100);
    expect(heard.removed).toEqual([FIRST]);

    await cards.put(FIRST, uidTag('04FFEEDDCCBBAA'));
    await eventually(() => heard.cards.length === 2, 'another card within the window');
    await cards.remove(FIRST);
    await sleep(Math.max(0, 3000 - (performance.now() - firstAt)));
    await cards.put(FIRST, uidTag(UID));
    await eventually(() => heard.cards.length === 3, 'the first card again after the window');
    expect(heard.cards.map((c) => c.uid)).toEqual([UID, '04FFEEDDCCBBAA', UID]);
  });

  it('never throws from feedback, and stops asking a reader that refused the LED/buzzer command', async () => {
    const { reader, heard, cards, logged } = await startedReader();
    await eventually(() => heard.found.length === 2, 'both readers found');
    // No card connected: nothing to address, nothing sent, nothing remembered.
    await expect(reader.feedback(FIRST, true)).resolves.toBeUndefined();

    const refusing = await cards.put(FIRST, uidTag(UID)); // answers 6D00 to FF 00 40
    await eventually(() => heard.cards.length === 1, 'a card on the first reader');
    await expect(reader.feedback(FIRST, true)).resolves.toBeUndefined();
    await expect(reader.feedback(FIRST, false)).resolves.toBeUndefined();
    const ledCommands = (card: InsertedCard) =>
      card.apdus
        .filter((a) => a.subarray(0, 3).equals(Buffer.from('FF0040', 'hex')))
        .map((a) => a.toString('hex').toUpperCase());
    expect(ledCommands(refusing)).toEqual(['FF0040A00402010101']);
    expect(logged(/refuses the LED\/buzzer command/)).toHaveLength(1);

    // A reader that answers like an ACR122U (90 and the LED state) keeps getting feedback.
    const acr = {
      atr: uidTag(UID).atr,
      handle: (apdu: Buffer) =>
        apdu[0] === 0xff && apdu[1] === 0x00 ? Buffer.from('9002', 'hex') : uidTag(UID).handle(apdu),
    };
    const accepting = await cards.put(SECOND, acr);
    await eventually(() => heard.cards.length === 2, 'a card on the second reader');
    await reader.feedback(SECOND, true);
    await reader.feedback(SECOND, false);
    expect(ledCommands(accepting)).toEqual(['FF0040A00402010101', 'FF0040500408010101']);
    await expect(reader.feedback('no such reader', true)).resolves.toBeUndefined();
    await reader.stop();
    await expect(reader.feedback(SECOND, true)).resolves.toBeUndefined();
  });

  it('is what the hardware factory builds for real readers once nfc-pcsc loads', async () => {
    const hw = await createHardware({ readers: 'pcsc', gpio: 'simulated', readerNames: [], clock: systemClock });
    cleanups.push(() => hw.reader.stop());
    expect(hw.reader).toBeInstanceOf(PcscReader);
    expect(hw.sim).toBeUndefined();
    await hw.reader.start();
    await eventually(
      () => VPCD_READERS.every((n) => hw.reader.attached().includes(n)),
      'the vpcd readers through the factory',
    );
  });

  it('lets the process exit after stop, whether pcscd was there or not', async () => {
    const run = (mode: 'card' | 'absent') =>
      new Promise<{ code: number; out: string; ms: number }>((resolve) => {
        const started = performance.now();
        execFile(
          process.execPath,
          ['--input-type=module', '-e', exitCheck(mode)],
          { timeout: 10_000 },
          (error, stdout, stderr) =>
            resolve({
              code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
              out: stdout + stderr,
              ms: performance.now() - started,
            }),
        );
      });
    const cards = cardsOnReaders();
    cleanups.push(() => cards.clear());
    await cards.put(FIRST, uidTag(UID)); // already on the reader when the child starts: it reads it
    const withCard = await run('card');
    expect(withCard.out).toContain('card 04A1B2C3D4E5F6');
    expect(withCard.out).toContain('stopped');
    expect(withCard.code).toBe(0);
    await pcscd.stop();
    const without = await run('absent');
    expect(without.out).toContain('stopped');
    expect(without.code).toBe(0);
    console.log(
      `child processes exited ${withCard.ms.toFixed(0)} ms (card read, stop) and ${without.ms.toFixed(0)} ms (pcscd absent, stop) after spawn`,
    );
  });
});

/**
 * A child process that starts a PcscReader from the built code, stops it, and then simply ends:
 * it exits only if stop() left no handle (timer, socket, pcsc-lite thread) behind.
 */
function exitCheck(mode: 'card' | 'absent'): string {
  const dist = new URL('../../dist/edge/hardware/pcsc-reader.js', import.meta.url).href;
  return `
    import { PcscReader } from ${JSON.stringify(dist)};
    const clock = { now: () => Date.now(), setTimeout: (fn, ms) => { const t = setTimeout(fn, ms); return { cancel: () => clearTimeout(t) }; }, setInterval: (fn, ms) => { const t = setInterval(fn, ms); return { cancel: () => clearInterval(t) }; } };
    const reader = new PcscReader({ clock, retryMs: 50 });
    let card;
    reader.subscribe({ card: (e) => (card = e) });
    await reader.start();
    if (${JSON.stringify(mode)} === 'card') {
      for (const deadline = Date.now() + 4000; !card && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
      console.log(card ? 'card ' + card.uid : 'no card');
    } else await new Promise((r) => setTimeout(r, 300));
    await reader.stop();
    console.log('stopped');
  `;
}
