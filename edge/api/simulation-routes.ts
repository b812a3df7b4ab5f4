import type { FastifyInstance } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import type { Clock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { SimulationRoutes, type TapDecision } from '../../shared/protocol/api/edge.js';
import type { SimGpio } from '../hardware/sim-gpio.js';
import type { SimReader } from '../hardware/sim-reader.js';
import type { EdgeStore } from '../store/store.js';
import { registerSimulatedDevices } from './consumable-routes.js';

/** A door as the simulation sees it: the input lines it can set. */
interface SimulatedDoor {
  readonly id: string;
  readonly contact?: { readonly line: number } | undefined;
  readonly exitButton?: { readonly line: number; readonly debounceMs: number } | undefined;
}

/** What the simulation routes need of the site (edge/site/edge.ts passes itself). */
export interface SimulatedSite {
  readonly store: EdgeStore;
  readonly config: {
    readonly readers: ReadonlyArray<{ readonly id: string }>;
    readonly doors: readonly SimulatedDoor[];
  };
  /** Listens to every tap's result; returns the function that stops listening. */
  onTap(fn: (result: TapDecision) => void): () => void;
}

/** How long a simulated exit button stays pressed. */
const PRESS_MS = 150;

/** Routes that stand in for a person at the door. Registered only with simulated hardware. */
export function registerSimulationRoutes(
  app: FastifyInstance,
  edge: SimulatedSite,
  sim: { reader: SimReader; gpio: SimGpio },
  clock: Clock,
): void {
  registerSimulatedDevices(app, edge.store, clock);
  serve(app, SimulationRoutes.tap, (req) => {
    const body = req.body;
    if (!edge.config.readers.some((r) => r.id === body.reader)) {
      throw new TesseraError(
        'not_found',
        `no reader "${body.reader}" (readers: ${edge.config.readers.map((r) => r.id).join(', ')})`,
      );
    }
    let result: TapDecision | undefined;
    const off = edge.onTap((r) => (result = r));
    try {
      sim.reader.tap(body.reader, body.uid, body.at ? { at: Date.parse(body.at) } : {});
    } catch (err) {
      // The simulated reader refuses what no card could send (not hex, wrong length): the caller's uid.
      if (!(err instanceof TesseraError)) throw err;
      throw new TesseraError('request.invalid', err.message, [{ path: 'uid', message: err.message }]);
    } finally {
      off();
    }
    if (!result)
      throw new TesseraError('request.invalid', 'the card was refused before a decision', [
        { path: 'uid', message: 'expected a badge UID of 4 to 10 bytes in hex' },
      ]);
    return result;
  });

  serve(app, SimulationRoutes.door, (req) => {
    const door = edge.config.doors.find((d) => d.id === req.params.id);
    if (!door) throw new TesseraError('not_found', `no door "${req.params.id}"`);
    if (!door.contact) throw new TesseraError('conflict', `door "${door.id}" has no contact sensor`);
    sim.gpio.setInput(door.contact.line, req.body.open);
    return { door: door.id, open: req.body.open };
  });

  serve(app, SimulationRoutes.exit, (req) => {
    const door = edge.config.doors.find((d) => d.id === req.params.door);
    if (!door) throw new TesseraError('not_found', `no door "${req.params.door}"`);
    if (!door.exitButton) throw new TesseraError('conflict', `door "${door.id}" has no exit button`);
    const line = door.exitButton.line;
    sim.gpio.setInput(line, true);
    clock.setTimeout(() => {
      // The site may have stopped meanwhile, its GPIO closed: then there is no button to release.
      if (sim.gpio.isOpen()) sim.gpio.setInput(line, false);
    }, PRESS_MS + door.exitButton.debounceMs);
    return { door: door.id, pressed: true as const };
  });
}
