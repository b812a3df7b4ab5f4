import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../shared/platform/clock.js';
import { TesseraError, type ErrorCode } from '../../shared/platform/errors.js';
import { createHardware, type HardwareOptions } from '../../edge/hardware/factory.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { ISO14443_3_ATR, SimReader } from '../../edge/hardware/sim-reader.js';
import type { CardEvent } from '../../edge/hardware/types.js';

const START = '2026-03-02T09:00:00+01:00';
const ENTRY = 'ACS ACR122U PICC Interface 00 00';
const EXIT = 'ACS ACR122U PICC Interface 01 00';

function thrown(fn: () => unknown): TesseraError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TesseraError) return error;
    throw error;
  }
  throw new Error('expected a TesseraError, nothing was thrown');
}

function codeOf(fn: () => unknown): ErrorCode {
  return thrown(fn).code;
}

async function startedReader(onListenerError = vi.fn()) {
  const clock = new ManualClock(START);
  const reader = new SimReader([ENTRY, EXIT], clock, { onListenerError });
  const cards: CardEvent[] = [];
  reader.subscribe({ card: (e) => cards.push(e) });
  await reader.start();
  return { clock, reader, cards, onListenerError };
}

describe('SimReader', () => {
  it('refuses a tap on an unknown, an unplugged or a stopped reader', async () => {
    const { reader } = await startedReader();
    expect(codeOf(() => reader.tap('Some Other Reader', '04A1B2C3'))).toBe('reader.unavailable');
    reader.unplug(EXIT, 'cable');
    expect(codeOf(() => reader.tap(EXIT, '04A1B2C3'))).toBe('reader.unavailable');
    await reader.stop();
    expect(codeOf(() => reader.tap(ENTRY, '04A1B2C3'))).toBe('reader.unavailable');
  });

  it('delivers the card before tap returns, UID normalised, default 14443-3 ATR, clock time', async () => {
    const { clock, reader, cards } = await startedReader();
    reader.tap(ENTRY, '04:a1-b2 c3:d4:e5:f6');
    expect(cards).toEqual([{ reader: ENTRY, uid: '04A1B2C3D4E5F6', atr: ISO14443_3_ATR, at: clock.now() }]);
    reader.tap(EXIT, '04a1b2c3', { atr: '3b8180018080', at: 1234 });
    expect(cards[1]).toEqual({ reader: EXIT, uid: '04A1B2C3', atr: '3B8180018080', at: 1234 });
  });

  it('refuses a UID that is not whole bytes of hex, too short or too long, and an invalid time', async () => {
    const { reader, cards } = await startedReader();
    for (const uid of ['04A1B2C', 'zz112233', '0102', '0102030405060708090A0B'])
      expect(codeOf(() => reader.tap(ENTRY, uid))).toBe('request.invalid');
    expect(codeOf(() => reader.tap(ENTRY, '04A1B2C3', { at: Date.parse('not a date') }))).toBe('request.invalid');
    // Finite, but later than any Date can be: the tap handler could not write the event's time.
    expect(codeOf(() => reader.tap(ENTRY, '04A1B2C3', { at: 8.64e15 + 1 }))).toBe('request.invalid');
    expect(cards).toEqual([]);
  });

  it('keeps delivering when a listener throws, and reports the error with its context', async () => {
    const { reader, cards, onListenerError } = await startedReader();
    const boom = new Error('listener bug');
    reader.subscribe({
      card: () => {
        throw boom;
      },
    });
    const later: string[] = [];
    reader.subscribe({ card: (e) => later.push(e.uid) });
    reader.tap(ENTRY, '04A1B2C3');
    reader.tap(ENTRY, '04A1B2C4');
    expect(cards.map((c) => c.uid)).toEqual(['04A1B2C3', '04A1B2C4']);
    expect(later).toEqual(['04A1B2C3', '04A1B2C4']);
    expect(onListenerError).toHaveBeenCalledTimes(2);
    expect(onListenerError).toHaveBeenCalledWith(boom, { source: 'reader', event: 'card', target: ENTRY });
  });

  it('raises a process warning for a throwing listener when nobody handles it', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const reader = new SimReader([ENTRY], new ManualClock(START));
      reader.subscribe({
        found: () => {
          throw new Error('found bug');
        },
      });
      await reader.start();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('found bug'));
    } finally {
      warn.mockRestore();
    }
  });

  it('gives each listener its own copy of the event', async () => {
    const { reader, cards } = await startedReader();
    reader.subscribe({
      card: (e) => {
        e.uid = 'EDITED';
      },
    });
    reader.subscribe({ card: (e) => cards.push(e) });
    reader.tap(ENTRY, '04A1B2C3');
    expect(cards.map((c) => c.uid)).toEqual(['04A1B2C3', '04A1B2C3']);
  });

  it('records the last feedback per reader and never throws', async () => {
    const { clock, reader } = await startedReader();
    await reader.feedback(ENTRY, true);
    clock.advance(500);
    await reader.feedback(ENTRY, false);
    await reader.feedback('not a reader', true);
    expect(reader.lastFeedback(ENTRY)).toEqual({ granted: false, at: clock.now() });
    expect(reader.lastFeedback(EXIT)).toBeUndefined();
  });

  it('lists no reader before start, and follows unplug and plug, including a new reader', async () => {
    const reader = new SimReader([ENTRY, EXIT], new ManualClock(START));
    expect(reader.attached()).toEqual([]);
    const found: string[] = [];
    const lost: string[] = [];
    reader.subscribe({ found: (r) => found.push(r), lost: (r, detail) => lost.push(`${r}: ${detail}`) });
    await reader.start();
    reader.unplug(ENTRY, 'cable');
    reader.unplug(ENTRY, 'again');
    expect(reader.attached()).toEqual([EXIT]);
    reader.plug('Spare Reader');
    expect(found).toEqual([ENTRY, EXIT, 'Spare Reader']);
    expect(lost).toEqual([`${ENTRY}: cable`]);
    expect(codeOf(() => reader.unplug('nobody', 'x'))).toBe('reader.unavailable');
  });
});

describe('SimGpio', () => {
  it('keeps a history of output changes with their clock times, for pulse timing', () => {
    const clock = new ManualClock(START);
    const gpio = new SimGpio(clock);
    const t0 = clock.now();
    const relay = gpio.output(17, { activeLow: true });
    clock.advance(100);
    relay.write(true);
    relay.write(true);
    clock.advance(3000);
    relay.write(false);
    expect(gpio.history(17)).toEqual([
      { at: t0, active: false },
      { at: t0 + 100, active: true },
      { at: t0 + 3100, active: false },
    ]);
    expect(gpio.isActive(17)).toBe(false);
    expect(gpio.raw(17)).toBe(true);
  });

  it('delivers at once, synchronously, with a debounce of 0', () => {
    const gpio = new SimGpio(new ManualClock(START));
    const button = gpio.input(5, { activeLow: true, debounceMs: 0 });
    const heard: boolean[] = [];
    button.onChange((v) => heard.push(v));
    gpio.press(5, true);
    expect(heard).toEqual([true]);
    expect(gpio.raw(5)).toBe(false);
    gpio.press(5, false);
    expect(heard).toEqual([true, false]);
  });

  it('waits for the level to hold debounceMs after its last change', () => {
    const clock = new ManualClock(START);
    const gpio = new SimGpio(clock);
    const contact = gpio.input(6, { activeLow: false, debounceMs: 30 });
    const heard: boolean[] = [];
    contact.onChange((v) => heard.push(v));
    gpio.setInput(6, true);
    clock.advance(20);
    gpio.setRaw(6, false);
    clock.advance(5);
    gpio.setRaw(6, true);
    clock.advance(29);
    expect(heard).toEqual([]);
    expect(gpio.isActive(6)).toBe(true);
    clock.advance(1);
    expect(heard).toEqual([true]);
  });

  it('isolates a throwing change listener and reports it', () => {
    const onListenerError = vi.fn();
    const gpio = new SimGpio(new ManualClock(START), { onListenerError });
    const input = gpio.input(6, { activeLow: false, debounceMs: 0 });
    const heard: boolean[] = [];
    input.onChange(() => {
      throw new Error('bug');
    });
    input.onChange((v) => heard.push(v));
    gpio.setInput(6, true);
    expect(heard).toEqual([true]);
    expect(onListenerError).toHaveBeenCalledWith(expect.any(Error), {
      source: 'gpio',
      event: 'change',
      target: 'line 6',
    });
  });

  it('refuses to drive an output as an input, or an unclaimed line logically', () => {
    const gpio = new SimGpio(new ManualClock(START));
    gpio.output(17, { activeLow: false });
    expect(codeOf(() => gpio.setRaw(17, true))).toBe('gpio.unavailable');
    expect(codeOf(() => gpio.setInput(4, true))).toBe('gpio.unavailable');
    expect(codeOf(() => gpio.raw(9))).toBe('gpio.unavailable');
  });

  it('leaves no timer behind on close, and refuses new claims', async () => {
    const clock = new ManualClock(START);
    const gpio = new SimGpio(clock);
    gpio.input(6, { activeLow: false, debounceMs: 30 });
    gpio.setInput(6, true);
    expect(clock.pendingTimers()).toBe(1);
    await gpio.close();
    expect(clock.pendingTimers()).toBe(0);
    expect(codeOf(() => gpio.output(17, { activeLow: false }))).toBe('gpio.unavailable');
  });

  it('delivers exactly the levels that held for the debounce time (property)', () => {
    const step = fc.record({ high: fc.boolean(), gap: fc.integer({ min: 0, max: 80 }) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.integer({ min: 1, max: 50 }), (steps, debounceMs) => {
        const clock = new ManualClock(START);
        const gpio = new SimGpio(clock);
        const heard: boolean[] = [];
        gpio.input(6, { activeLow: false, debounceMs }).onChange((v) => heard.push(v));
        // The model: a level is delivered once it has held, unchanged, for debounceMs.
        let raw = false;
        let delivered = false;
        let held = 0;
        const expected: boolean[] = [];
        for (const { high, gap } of [...steps, { high: steps.at(-1)?.high ?? false, gap: debounceMs }]) {
          gpio.setRaw(6, high);
          clock.advance(gap);
          if (high !== raw) [raw, held] = [high, 0];
          held += gap;
          if (raw !== delivered && held >= debounceMs) expected.push((delivered = raw));
        }
        expect(heard).toEqual(expected);
        expect(gpio.isActive(6)).toBe(raw);
      }),
    );
  });
});

describe('createHardware', () => {
  const base: HardwareOptions = {
    readers: 'simulated',
    gpio: 'simulated',
    readerNames: [ENTRY],
    clock: new ManualClock(START),
  };
  afterEach(() => vi.restoreAllMocks());

  async function failure(opts: Partial<HardwareOptions>): Promise<TesseraError> {
    const error: unknown = await createHardware({ ...base, ...opts }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof TesseraError)) throw new Error(`expected a TesseraError, got ${String(error)}`);
    return error;
  }

  it('returns the simulators, as the reader and gpio and as handles to drive them', async () => {
    const hw = await createHardware(base);
    expect(hw.sim?.reader).toBeInstanceOf(SimReader);
    expect(hw.sim?.gpio).toBeInstanceOf(SimGpio);
    expect(hw.reader).toBe(hw.sim?.reader);
    expect(hw.gpio).toBe(hw.sim?.gpio);
    await hw.reader.start();
    expect(hw.reader.attached()).toEqual([ENTRY]);
  });

  // What is installed on the host must not decide these: the packages' absence is injected.
  const notInstalled = (name: string) =>
    Promise.reject(
      Object.assign(new Error(`Cannot find package '${name}' imported from x`), { code: 'ERR_MODULE_NOT_FOUND' }),
    );

  it('explains, with one clear error, that real PC/SC readers need nfc-pcsc', async () => {
    const error = await failure({ readers: 'pcsc', importModule: notInstalled });
    expect(error.code).toBe('hardware.unavailable');
    expect(error.message).toMatch(/nfc-pcsc/);
    expect(error.message).toMatch(/libpcsclite-dev/);
    expect(error.message).toMatch(/--simulate/);
    expect(error.details.map((d) => d.path)).toEqual(['hardware.readers']);
  });

  it('explains that real GPIO needs onoff, and suggests --simulate', async () => {
    const error = await failure({ gpio: 'onoff', importModule: notInstalled });
    expect(error.code).toBe('hardware.unavailable');
    expect(error.message).toMatch(/onoff/);
    expect(error.message).toMatch(/--simulate/);
  });

  it('names every missing piece in the one error', async () => {
    const error = await failure({ readers: 'pcsc', gpio: 'onoff', importModule: notInstalled });
    expect(error.details.map((d) => d.path)).toEqual(['hardware.readers', 'hardware.gpio']);
    expect(error.message.split('\n')).toHaveLength(2);
  });

  it('tells a missing package from one that fails to load', async () => {
    const missing = Object.assign(new Error("Cannot find package 'onoff' imported from x"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const broken = new Error('libpcsclite.so.1: cannot open shared object file');
    const importModule = (name: string) => Promise.reject(name === 'onoff' ? missing : broken);
    const error = await failure({ readers: 'pcsc', gpio: 'onoff', importModule });
    expect(error.details[0]?.message).toMatch(/nfc-pcsc is installed but failed to load \(libpcsclite\.so\.1/);
    expect(error.details[1]?.message).toMatch(/needs the optional package onoff/);
  });
});
