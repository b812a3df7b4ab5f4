import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { createHardware, type HardwareOptions } from '../../edge/hardware/factory.js';
import { findGpioBase } from '../../edge/hardware/gpiochip.js';
import { OnoffGpio, type OnoffGpioOptions, type OnoffModule, type OnoffPin } from '../../edge/hardware/onoff-gpio.js';
import { gpioContract } from '../contracts/gpio-contract.js';
import { eventually, realTime as waits } from '../contracts/eventually.js';
import { FakeSysfs, PI4_CHIPS, PI5_CHIPS, type FakeChip } from '../fixtures/fake-sysfs.js';
import { sleep } from '../support/sleep.js';

// onoff's own code runs here, over a kernel-like fake /sys/class/gpio and a fake epoll, in real
// time: its debounce is lodash's, on real timers.

const DEBOUNCE_MS = 20;

afterEach(() => FakeSysfs.disposeInstalled());

/** A fake kernel routed in for this test, and an adapter over it. */
async function rig(chips: readonly FakeChip[] = PI4_CHIPS, opts: Omit<OnoffGpioOptions, 'loadOnoff'> = {}) {
  const kernel = new FakeSysfs(chips).install();
  const gpio = await OnoffGpio.open({
    loadOnoff: () => Promise.resolve(kernel.loadOnoff()),
    onListenerError: () => undefined,
    ...opts,
  });
  return { kernel, gpio };
}

function thrown(fn: () => unknown): TesseraError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TesseraError) return error;
    throw new Error(`expected a TesseraError, got ${String(error)}`);
  }
  throw new Error('expected a TesseraError, nothing was thrown');
}

async function rejected(promise: Promise<unknown>): Promise<TesseraError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TesseraError)) throw new Error(`expected a TesseraError, got ${String(error)}`);
  return error;
}

gpioContract(
  'OnoffGpio over a fake sysfs (Pi 4, gpiochip512)',
  async () => {
    const { kernel, gpio } = await rig();
    return {
      gpio,
      lines: [17, 27, 22, 23],
      raw: (line) => kernel.raw(512 + line),
      setRaw: (line, high) => kernel.setRaw(512 + line, high),
      wait: sleep,
      teardown: () => kernel.dispose(),
    };
  },
  { debounceMs: DEBOUNCE_MS },
);

describe('the fake kernel', () => {
  it('reproduces the start-up hazard: a naive active-low output pulls the relay in', () => {
    const kernel = new FakeSysfs(PI4_CHIPS).install();
    const { Gpio } = kernel.loadOnoff() as OnoffModule;
    const naive = new Gpio(529, 'low', { activeLow: true });
    // The kernel applied "low" raw: the pin is low, so an active-low relay board is energised...
    expect(kernel.raw(529)).toBe(false);
    // ...and the kernel even reports the line active through active_low.
    expect(naive.readSync()).toBe(1);
    const out = new Gpio(530, 'out', { activeLow: true });
    expect(kernel.raw(530)).toBe(false);
    expect(out.readSync()).toBe(1);
    const careful = new Gpio(531, 'high', { activeLow: true });
    expect(kernel.raw(531)).toBe(true);
    expect(careful.readSync()).toBe(0);
  });

  it('exports only lines inside a chip (EINVAL otherwise) and shows the value through active_low', async () => {
    const kernel = new FakeSysfs(PI4_CHIPS).install();
    const { Gpio } = kernel.loadOnoff() as OnoffModule;
    expect(() => new Gpio(17, 'low')).toThrow(/EINVAL/);
    expect(kernel.exportedLines()).toEqual([]);
    const pin = new Gpio(529, 'high', { activeLow: true });
    pin.writeSync(1);
    expect(kernel.raw(529)).toBe(false);
    // onoff's asynchronous read and write go through the same model.
    const same = new Gpio(530, 'high') as OnoffPin & { write(v: 0 | 1): Promise<void>; read(): Promise<0 | 1> };
    await same.write(0);
    expect(kernel.raw(530)).toBe(false);
    expect(await same.read()).toBe(0);
    same.unexport();
    expect(kernel.line(529)).toEqual({ direction: 'out', activeLow: true, edge: 'none' });
    pin.unexport();
    expect(kernel.exportedLines()).toEqual([]);
    // A pin keeps its level after unexport, as a crashed process leaves it.
    expect(kernel.raw(529)).toBe(false);
  });
});

describe('findGpioBase', () => {
  const at = (chips: readonly FakeChip[]) => {
    const kernel = new FakeSysfs(chips);
    try {
      return findGpioBase({ sysfsRoot: kernel.dir });
    } finally {
      kernel.dispose();
    }
  };

  it('finds a Pi 4 on Bookworm at gpiochip512 (pinctrl-bcm2711)', () => {
    expect(at(PI4_CHIPS)).toMatchObject({ base: 512, label: 'pinctrl-bcm2711', ngpio: 58 });
  });

  it('finds a Pi 5 at gpiochip571 (pinctrl-rp1), past the SoC chips with lower bases', () => {
    expect(at(PI5_CHIPS)).toMatchObject({ base: 571, label: 'pinctrl-rp1' });
  });

  it('finds older kernels at base 0 (pinctrl-bcm2835, pinctrl-bcm2711)', () => {
    const expander = { base: 504, ngpio: 8, label: 'raspberrypi-exp-gpio' };
    expect(at([{ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' }, expander])).toMatchObject({
      base: 0,
      label: 'pinctrl-bcm2835',
    });
    expect(at([expander, { base: 0, ngpio: 58, label: 'pinctrl-bcm2711' }])).toMatchObject({
      base: 0,
      label: 'pinctrl-bcm2711',
    });
  });

  it('takes a lone unknown chip, but guesses nothing among several', () => {
    expect(at([{ base: 32, ngpio: 32, label: 'gpio-sunxi' }])).toMatchObject({ base: 32 });
    expect(
      at([
        { base: 0, ngpio: 32, label: 'a' },
        { base: 32, ngpio: 32, label: 'b' },
      ]),
    ).toBeUndefined();
  });

  it('gives nothing without a chip or without sysfs GPIO', () => {
    expect(at([])).toBeUndefined();
    expect(findGpioBase({ sysfsRoot: '/nonexistent/sys/class/gpio' })).toBeUndefined();
  });

  it('reads /sys/class/gpio by default', () => {
    new FakeSysfs(PI5_CHIPS).install();
    expect(findGpioBase()).toMatchObject({ base: 571 });
  });
});

describe('OnoffGpio', () => {
  it('maps BCM 17 to kernel line 529 on a Pi 4 and 588 on a Pi 5', async () => {
    const pi4 = await rig(PI4_CHIPS);
    pi4.gpio.output(17, { activeLow: false });
    expect(pi4.kernel.exportedLines()).toEqual([529]);
    await pi4.gpio.close();
    pi4.kernel.dispose();
    const pi5 = await rig(PI5_CHIPS);
    pi5.gpio.input(17, { activeLow: false, debounceMs: 0 });
    expect(pi5.kernel.exportedLines()).toEqual([588]);
    expect(pi5.kernel.line(588)).toEqual({ direction: 'in', activeLow: false, edge: 'both' });
    await pi5.gpio.close();
  });

  it('uses the configured base over the chip labels', async () => {
    const { kernel, gpio } = await rig(
      [
        { base: 100, ngpio: 54, label: 'custom-gpio' },
        { base: 0, ngpio: 32, label: 'other' },
      ],
      { base: 100 },
    );
    gpio.output(17, { activeLow: false });
    expect(kernel.exportedLines()).toEqual([117]);
    await gpio.close();
  });

  it('claims an active-low relay raw high (never pulled in), and keeps the kernel out of the polarity', async () => {
    const { kernel, gpio } = await rig();
    const relay = gpio.output(17, { activeLow: true });
    // Not even a pulse low on the way: the first level the kernel drove was high.
    expect(kernel.driven(529)).toEqual([true]);
    expect(kernel.line(529)).toEqual({ direction: 'out', activeLow: false, edge: 'none' });
    relay.write(true);
    expect(kernel.raw(529)).toBe(false);
    await gpio.close();
    expect(kernel.driven(529)).toEqual([true, false, true]);
  });

  it('releases a relay left pulled in by a crashed process with active_low set, without a glitch', async () => {
    const { kernel, gpio } = await rig();
    const { Gpio } = kernel.loadOnoff() as OnoffModule;
    new Gpio(529, 'low', { activeLow: true }); // still exported, raw low: the relay is in
    const relay = gpio.output(17, { activeLow: true });
    expect(kernel.driven(529)).toEqual([false, true]);
    expect(relay.active).toBe(false);
    relay.write(true);
    expect(kernel.raw(529)).toBe(false);
    await gpio.close();
  });

  it('refuses a line outside the chip with the kernel error (EINVAL), naming line and kernel line', async () => {
    const { kernel, gpio } = await rig([{ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' }], { base: 512 });
    const error = thrown(() => gpio.output(17, { activeLow: true }));
    expect(error.code).toBe('gpio.unavailable');
    expect(error.message).toMatch(/GPIO line 17 \(kernel line 529 = base 512 \+ 17\).*EINVAL/);
    expect(error.cause).toMatchObject({ code: 'EINVAL' });
    expect(kernel.exportedLines()).toEqual([]);
    await gpio.close();
  });

  it('refuses a line past the chip end before the kernel can give it another chip (the Pi 4 expander)', async () => {
    const { kernel, gpio } = await rig(PI4_CHIPS);
    const error = thrown(() => gpio.output(60, { activeLow: false }));
    expect(error.code).toBe('gpio.unavailable');
    expect(error.message).toMatch(/line 60 is outside gpiochip512 "pinctrl-bcm2711", which has lines 0-57/);
    expect(kernel.exportedLines()).toEqual([]);
    await gpio.close();
  });

  it('closes into the safe state: outputs at their safe raw level, every line unexported, nothing watched', async () => {
    const { kernel, gpio } = await rig();
    const plain = gpio.output(17, { activeLow: false });
    const inverted = gpio.output(27, { activeLow: true });
    gpio.input(22, { activeLow: false, debounceMs: DEBOUNCE_MS });
    plain.write(true);
    inverted.write(true);
    expect([kernel.raw(529), kernel.raw(539)]).toEqual([true, false]);
    const closing = gpio.close();
    // The outputs are safe at once, before the close settles.
    expect([kernel.raw(529), kernel.raw(539)]).toEqual([false, true]);
    await closing;
    await gpio.close();
    expect(kernel.exportedLines()).toEqual([]);
    expect([kernel.raw(529), kernel.raw(539)]).toEqual([false, true]);
    expect(kernel.openValueFds()).toBe(0);
    expect(kernel.epoll.watched()).toEqual([]);
    expect(() => gpio.output(5, { activeLow: false })).toThrow(TesseraError);
  });

  it('survives an input edge just before close (onoff reads after its debounce)', async () => {
    const crashes: unknown[] = [];
    const onCrash = (error: unknown) => crashes.push(error);
    process.on('uncaughtException', onCrash);
    try {
      const { kernel, gpio } = await rig();
      kernel.setRaw(534, false);
      gpio.input(22, { activeLow: false, debounceMs: DEBOUNCE_MS });
      kernel.setRaw(534, true);
      await sleep(1); // the poller has handed the edge to onoff's debounce
      await gpio.close();
      await sleep(DEBOUNCE_MS * 3);
      expect(crashes).toEqual([]);
      expect(kernel.exportedLines()).toEqual([]);
    } finally {
      process.off('uncaughtException', onCrash);
    }
  });

  it('keeps safeState from throwing when a line vanished, and reports a failed write as gpio.unavailable', async () => {
    const errors: unknown[] = [];
    const log = { error: (obj: unknown) => errors.push(obj), info: () => undefined } as unknown as NonNullable<
      OnoffGpioOptions['log']
    >;
    const { kernel, gpio } = await rig(PI4_CHIPS, { log });
    const gone = gpio.output(17, { activeLow: true });
    const kept = gpio.output(27, { activeLow: false });
    kept.write(true);
    // Someone else unexports line 529 behind the adapter's back.
    fs.writeFileSync('/sys/class/gpio/unexport', '529');
    const error = thrown(() => gone.write(true));
    expect(error.message).toMatch(/ENODEV/);
    expect(() => gpio.safeState()).not.toThrow();
    expect(kernel.raw(539)).toBe(false);
    expect(errors).toHaveLength(1);
    await gpio.close();
  });

  it('reports a throwing listener and still tells the others', async () => {
    const reported: unknown[] = [];
    const { kernel, gpio } = await rig(PI4_CHIPS, { onListenerError: (error) => reported.push(error) });
    kernel.setRaw(534, false);
    const button = gpio.input(22, { activeLow: true, debounceMs: DEBOUNCE_MS });
    expect(button.read()).toBe(true);
    const heard: boolean[] = [];
    button.onChange(() => {
      throw new Error('listener bug');
    });
    button.onChange((v) => heard.push(v));
    kernel.setRaw(534, true);
    await eventually(waits, () => heard.length > 0, 'the released button', DEBOUNCE_MS * 20);
    expect(heard).toEqual([false]);
    expect(reported).toHaveLength(1);
    await gpio.close();
  });

  it('says what to do when no chip is found, naming the sysfs path and hardware.gpioChipBase', async () => {
    const kernel = new FakeSysfs([
      { base: 0, ngpio: 8, label: 'a' },
      { base: 8, ngpio: 8, label: 'b' },
    ]).install();
    const error = await rejected(OnoffGpio.open({ loadOnoff: () => Promise.resolve(kernel.loadOnoff()) }));
    expect(error.code).toBe('gpio.unavailable');
    expect(error.message).toMatch(/no Raspberry Pi GPIO chip under \/sys\/class\/gpio/);
    expect(error.message).toMatch(/found gpiochip0 "a", gpiochip8 "b"/);
    expect(error.message).toMatch(/hardware\.gpioChipBase/);
  });

  it('tells a kernel without sysfs GPIO from one without the chip, and an unwritable export', async () => {
    const kernel = new FakeSysfs([], { sysfs: false }).install();
    const loadOnoff = () => Promise.resolve(kernel.loadOnoff());
    const missing = await rejected(OnoffGpio.open({ loadOnoff }));
    expect(missing.message).toMatch(/\/sys\/class\/gpio does not exist: this kernel has no sysfs GPIO/);
    expect(missing.message).not.toMatch(/gpioChipBase/);
    expect((await rejected(OnoffGpio.open({ loadOnoff, base: 512 }))).message).toMatch(
      /\/sys\/class\/gpio\/export cannot be opened for writing/,
    );
  });
});

describe('createHardware with gpio: onoff', () => {
  const base: HardwareOptions = {
    readers: 'simulated',
    gpio: 'onoff',
    readerNames: ['entry'],
    clock: new ManualClock(0),
  };
  const onoffFrom = (kernel: FakeSysfs) => (name: string) =>
    name === 'onoff' ? Promise.resolve(kernel.loadOnoff()) : Promise.reject(new Error(`unexpected ${name}`));

  it('constructs the onoff adapter over the chip it finds', async () => {
    const kernel = new FakeSysfs(PI5_CHIPS).install();
    const hw = await createHardware({ ...base, importModule: onoffFrom(kernel) });
    expect(hw.gpio).toBeInstanceOf(OnoffGpio);
    expect(hw.sim).toBeUndefined();
    hw.gpio.output(17, { activeLow: true });
    expect(kernel.raw(588)).toBe(true);
    await hw.gpio.close();
  });

  it('passes hardware.gpioChipBase through', async () => {
    const kernel = new FakeSysfs([
      { base: 200, ngpio: 54, label: 'custom-gpio' },
      { base: 0, ngpio: 8, label: 'other' },
    ]).install();
    const hw = await createHardware({ ...base, gpioChipBase: 200, importModule: onoffFrom(kernel) });
    hw.gpio.output(4, { activeLow: false });
    expect(kernel.exportedLines()).toEqual([204]);
    await hw.gpio.close();
  });

  it('refuses, with one clear error, when there is no chip', async () => {
    const kernel = new FakeSysfs([]).install();
    const error = await rejected(createHardware({ ...base, importModule: onoffFrom(kernel) }));
    expect(error.code).toBe('hardware.unavailable');
    expect(error.details.map((d) => d.path)).toEqual(['hardware.gpio']);
    expect(error.message).toMatch(/no Raspberry Pi GPIO chip under \/sys\/class\/gpio: .*there is no gpiochip\* there/);
    expect(error.message).toMatch(/hardware\.gpioChipBase/);
    expect(error.message).toMatch(/--simulate/);
  });
});
