import { ManualClock } from '../../shared/platform/clock.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { SimReader } from '../../edge/hardware/sim-reader.js';
import { gpioContract } from '../contracts/gpio-contract.js';
import { readerContract } from '../contracts/reader-contract.js';

// The simulators pass the same contracts the real adapters will (docs/decisions/0008-hardware-ports.md).

const NAMES = ['ACS ACR122U PICC Interface 00 00', 'ACS ACR122U PICC Interface 01 00'];

readerContract('SimReader', () => {
  const clock = new ManualClock('2026-03-02T09:00:00+01:00');
  // The contract makes a listener throw on purpose; keep the report out of the test output.
  const reader = new SimReader(NAMES, clock, { onListenerError: () => undefined });
  return {
    reader,
    names: NAMES,
    present: (name, uid) => void reader.tap(name, uid),
    remove: (name) => reader.remove(name),
    unplug: (name) => reader.unplug(name, 'USB cable pulled'),
    plug: (name) => reader.plug(name),
    wait: async (ms) => clock.advance(ms),
  };
});

gpioContract('SimGpio', () => {
  const clock = new ManualClock('2026-03-02T09:00:00+01:00');
  const gpio = new SimGpio(clock);
  return {
    gpio,
    lines: [17, 27, 22, 23],
    raw: (line) => gpio.raw(line),
    setRaw: (line, high) => gpio.setRaw(line, high),
    wait: async (ms) => clock.advance(ms),
  };
});
