import { afterEach, describe, expect, it } from 'vitest';
import { TesseraError } from '../../shared/platform/errors.js';
import type { Gpio } from '../../edge/hardware/types.js';
import { eventually, type Waits } from './eventually.js';

/**
 * What every Gpio must do, whatever drives it: SimGpio today, OnoffGpio over a fake sysfs tree
 * (or a real board) later. The harness reads and drives physical (raw) pin levels, so polarity is
 * checked where it matters: at the pin.
 */
export interface GpioHarness extends Waits {
  gpio: Gpio;
  /** Four distinct lines that are free to claim. */
  lines: readonly [number, number, number, number];
  /** Physical level of a claimed line: true = high. */
  raw(line: number): boolean | Promise<boolean>;
  /** Drives the physical level of an input pin, as the wiring would; also before it is claimed. */
  setRaw(line: number, high: boolean): void | Promise<void>;
  teardown?(): void | Promise<void>;
}

export interface GpioContractOptions {
  /** Debounce used for inputs; large enough for real timers to keep their order. */
  debounceMs?: number;
}

export function gpioContract(
  name: string,
  makeHarness: () => GpioHarness | Promise<GpioHarness>,
  options: GpioContractOptions = {},
): void {
  const debounceMs = options.debounceMs ?? 50;
  describe(`Gpio contract: ${name}`, () => {
    let h: GpioHarness | undefined;
    const harness = async (): Promise<GpioHarness> => (h = await makeHarness());
    /** Two outputs on the harness's first lines: one wired plain, one active-low. */
    const twoOutputs = async () => {
      const x = await harness();
      const [a, b] = x.lines;
      return {
        x,
        a,
        b,
        plain: x.gpio.output(a, { activeLow: false }),
        inverted: x.gpio.output(b, { activeLow: true }),
      };
    };

    afterEach(async () => {
      if (!h) return;
      await h.gpio.close();
      await h.teardown?.();
      h = undefined;
    });

    it('starts outputs inactive; an active-low relay is not pulled in at start (raw high)', async () => {
      const { x, a, b, plain, inverted } = await twoOutputs();
      expect([plain.active, inverted.active]).toEqual([false, false]);
      expect(await x.raw(a)).toBe(false);
      expect(await x.raw(b)).toBe(true);
    });

    it('writes the logical level and drives the pin through the polarity', async () => {
      const { x, a, b, plain, inverted } = await twoOutputs();
      plain.write(true);
      inverted.write(true);
      expect([plain.active, inverted.active]).toEqual([true, true]);
      expect([await x.raw(a), await x.raw(b)]).toEqual([true, false]);
      inverted.write(false);
      expect(inverted.active).toBe(false);
      expect(await x.raw(b)).toBe(true);
    });

    it('reads an input through its polarity, after the debounce time', async () => {
      const x = await harness();
      const [, , c, d] = x.lines;
      await x.setRaw(c, false);
      await x.setRaw(d, true);
      const plain = x.gpio.input(c, { activeLow: false, debounceMs });
      const inverted = x.gpio.input(d, { activeLow: true, debounceMs });
      expect([plain.read(), inverted.read()]).toEqual([false, false]);
      const heard: boolean[] = [];
      plain.onChange((v) => heard.push(v));
      await x.setRaw(c, true);
      await x.wait(Math.floor(debounceMs / 2));
      expect(heard).toEqual([]);
      expect(plain.read()).toBe(false);
      await eventually(x, () => heard.length > 0, 'the debounced change', debounceMs * 20);
      expect(heard).toEqual([true]);
      expect(plain.read()).toBe(true);
      await x.setRaw(d, false);
      await eventually(x, () => inverted.read(), 'the active-low input to read active', debounceMs * 20);
    });

    it('filters a bounce shorter than the debounce time', async () => {
      const x = await harness();
      const [, , c] = x.lines;
      await x.setRaw(c, false);
      const input = x.gpio.input(c, { activeLow: false, debounceMs });
      const heard: boolean[] = [];
      input.onChange((v) => heard.push(v));
      await x.setRaw(c, true);
      await x.wait(Math.floor(debounceMs / 5));
      await x.setRaw(c, false);
      await x.wait(debounceMs * 3);
      expect(heard).toEqual([]);
      expect(input.read()).toBe(false);
    });

    it('stops telling a listener once it unsubscribes', async () => {
      const x = await harness();
      const [, , c] = x.lines;
      await x.setRaw(c, false);
      const input = x.gpio.input(c, { activeLow: false, debounceMs });
      const kept: boolean[] = [];
      const dropped: boolean[] = [];
      input.onChange((v) => kept.push(v));
      input.onChange((v) => dropped.push(v))();
      await x.setRaw(c, true);
      await eventually(x, () => kept.length > 0, 'the debounced change', debounceMs * 20);
      expect(dropped).toEqual([]);
    });

    it('drives every output inactive on safeState, synchronously', async () => {
      const { x, a, b, plain, inverted } = await twoOutputs();
      plain.write(true);
      inverted.write(true);
      x.gpio.safeState();
      expect([plain.active, inverted.active]).toEqual([false, false]);
      expect([await x.raw(a), await x.raw(b)]).toEqual([false, true]);
    });

    it('closes idempotently into the safe state and ignores writes after close', async () => {
      const { x, a, b, plain, inverted } = await twoOutputs();
      plain.write(true);
      inverted.write(true);
      await x.gpio.close();
      await x.gpio.close();
      expect(() => plain.write(true)).not.toThrow();
      expect(() => x.gpio.safeState()).not.toThrow();
      expect([await x.raw(a), await x.raw(b)]).toEqual([false, true]);
    });

    it('refuses to claim a line twice', async () => {
      const x = await harness();
      const [a, , c] = x.lines;
      x.gpio.output(a, { activeLow: false });
      x.gpio.input(c, { activeLow: false, debounceMs });
      const claims = [
        () => x.gpio.output(a, { activeLow: false }),
        () => x.gpio.input(a, { activeLow: false, debounceMs }),
        () => x.gpio.output(c, { activeLow: false }),
      ];
      for (const claim of claims) {
        const error: unknown = (() => {
          try {
            claim();
          } catch (e) {
            return e;
          }
        })();
        expect(error).toBeInstanceOf(TesseraError);
        expect((error as TesseraError).code).toBe('gpio.unavailable');
      }
    });
  });
}
