import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { TesseraError, type ErrorDetail } from '../../shared/platform/errors.js';
import { OnoffGpio } from './onoff-gpio.js';
import { PcscReader } from './pcsc-reader.js';
import { SimGpio } from './sim-gpio.js';
import { SimReader } from './sim-reader.js';
import type { Gpio, Reader } from './types.js';

export interface HardwareOptions {
  readers: 'pcsc' | 'simulated';
  gpio: 'onoff' | 'simulated';
  /** Names the simulated readers expose; real readers are discovered instead. */
  readerNames: string[];
  clock: Clock;
  /** gpiochip base added to BCM lines (real GPIO only). */
  gpioChipBase?: number;
  log?: Logger;
  /** Simulated GPIO only: mirror pin levels to files in this folder (SimGpioOptions.mirrorDir). */
  simGpioDir?: string;
  /** How native modules are imported; tests replace it to play "installed" or "missing". */
  importModule?: (name: NativePackage) => Promise<unknown>;
}

export interface Hardware {
  reader: Reader;
  gpio: Gpio;
  /** Present when both readers and GPIO are simulated: the handles that drive them. */
  sim?: { reader: SimReader; gpio: SimGpio };
}

/** The optional native packages behind the real adapters (package.json optionalDependencies). */
export type NativePackage = 'nfc-pcsc' | 'onoff';

export type NativeLoad = { ok: true; module: unknown } | { ok: false; missing: boolean; detail: string };

const SIMULATE_HINT = 'run with --simulate to use simulated hardware';
const PCSC_INSTALL = 'apt-get install libpcsclite-dev pcscd; npm install';

/**
 * Imports an optional native package, only when real hardware is asked for (docs/decisions/0008-hardware-ports.md), so a
 * laptop without PC/SC or GPIO runs everything else. Importing is safe; constructing is not
 * always (nfc-pcsc's `new NFC()` spins forever without pcscd), so nothing is constructed here.
 */
export async function loadNative(name: NativePackage, importModule = defaultImport): Promise<NativeLoad> {
  try {
    return { ok: true, module: await importModule(name) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: unknown } | null)?.code;
    const notFound =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(detail);
    // Missing means the package itself; a missing dependency of it (the native addon) is a failed load.
    return { ok: false, missing: notFound && detail.includes(`'${name}'`), detail };
  }
}

function defaultImport(name: NativePackage): Promise<unknown> {
  // A non-literal specifier keeps TypeScript from requiring the (absent, untyped) module at build time.
  return import(name) as Promise<unknown>;
}

type Opened<T> = { ok: true; value: T } | { ok: false; problem: ErrorDetail };

async function openPcscReader(opts: HardwareOptions): Promise<Opened<Reader>> {
  const loaded = await loadNative('nfc-pcsc', opts.importModule);
  const path = 'hardware.readers';
  if (!loaded.ok && loaded.missing)
    return {
      ok: false,
      problem: {
        path,
        message: `real PC/SC readers need the optional package nfc-pcsc and libpcsclite-dev (${PCSC_INSTALL}); ${SIMULATE_HINT}`,
      },
    };
  if (!loaded.ok)
    return {
      ok: false,
      problem: {
        path,
        message: `nfc-pcsc is installed but failed to load (${loaded.detail}); its native part needs libpcsclite-dev (${PCSC_INSTALL}); ${SIMULATE_HINT}`,
      },
    };
  // Constructing PcscReader touches nothing: pcscd is awaited in start(), never here.
  const module = loaded.module;
  return {
    ok: true,
    value: new PcscReader({
      clock: opts.clock,
      importModule: () => Promise.resolve(module),
      ...sinkOf(opts.log, 'pcsc-reader'),
    }),
  };
}

async function openOnoffGpio(opts: HardwareOptions): Promise<Opened<Gpio>> {
  const loaded = await loadNative('onoff', opts.importModule);
  const path = 'hardware.gpio';
  if (!loaded.ok && loaded.missing)
    return {
      ok: false,
      problem: {
        path,
        message: `real GPIO needs the optional package onoff, which builds only on Linux (npm install on the Pi); ${SIMULATE_HINT}`,
      },
    };
  if (!loaded.ok)
    return {
      ok: false,
      problem: { path, message: `onoff is installed but failed to load (${loaded.detail}); ${SIMULATE_HINT}` },
    };
  // Opening claims no line: a failure of the reader side leaves no GPIO to release.
  const module = loaded.module;
  try {
    const gpio = await OnoffGpio.open({
      loadOnoff: () => Promise.resolve(module),
      ...(opts.gpioChipBase !== undefined ? { base: opts.gpioChipBase } : {}),
      ...sinkOf(opts.log, 'onoff-gpio'),
    });
    return { ok: true, value: gpio };
  } catch (error) {
    return {
      ok: false,
      problem: { path, message: `${error instanceof Error ? error.message : String(error)}; ${SIMULATE_HINT}` },
    };
  }
}

/**
 * The one place that chooses between real and simulated hardware. Asking for real hardware that
 * cannot be had gives one TesseraError('hardware.unavailable') naming every missing piece, before
 * anything is constructed or any line is claimed.
 */
export async function createHardware(opts: HardwareOptions): Promise<Hardware> {
  // Simulators have no side effects, so building one before the other side is checked costs nothing.
  const reader: Opened<Reader> =
    opts.readers === 'pcsc'
      ? await openPcscReader(opts)
      : { ok: true, value: new SimReader(opts.readerNames, opts.clock, sinkOf(opts.log, 'sim-reader')) };
  const gpio: Opened<Gpio> =
    opts.gpio === 'onoff'
      ? await openOnoffGpio(opts)
      : {
          ok: true,
          value: new SimGpio(opts.clock, {
            ...sinkOf(opts.log, 'sim-gpio'),
            ...(opts.simGpioDir !== undefined ? { mirrorDir: opts.simGpioDir } : {}),
          }),
        };
  if (!reader.ok || !gpio.ok) {
    // When real adapters exist, the one that did open must be stopped here before throwing.
    const problems = [reader, gpio].flatMap((r) => (r.ok ? [] : [r.problem]));
    throw new TesseraError('hardware.unavailable', problems.map((p) => `${p.path}: ${p.message}`).join('\n'), problems);
  }
  const hardware: Hardware = { reader: reader.value, gpio: gpio.value };
  if (reader.value instanceof SimReader && gpio.value instanceof SimGpio)
    hardware.sim = { reader: reader.value, gpio: gpio.value };
  return hardware;
}

function sinkOf(log: Logger | undefined, module: string): { log?: Logger } {
  return log ? { log: log.child({ module }) } : {};
}
