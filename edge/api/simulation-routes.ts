import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Clock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { Edge } from '../site/edge.js';
import type { SimGpio } from '../hardware/sim-gpio.js';
import type { SimReader } from '../hardware/sim-reader.js';
import { parseOr400, sendError } from '../../shared/platform/http-errors.js';
import { registerSimulatedDevices } from './consumable-routes.js';

const TapBody = z.strictObject({
  reader: z.string().min(1),
  uid: z.string().min(1).max(64),
  at: z.iso.datetime({ offset: true }).optional(),
});
const DoorBody = z.strictObject({ open: z.boolean() });

/** How long a simulated exit button stays pressed. */
const PRESS_MS = 150;

/** Routes that stand in for a person at the door. Registered only with simulated hardware. */
export function registerSimulationRoutes(app: FastifyInstance, edge: Edge, sim: { reader: SimReader; gpio: SimGpio }, clock: Clock): void {
  registerSimulatedDevices(app, edge.store, clock);
  app.post('/simulate/tap', (req, reply) => {
    const body = parseOr400(reply, TapBody, req.body, 'tap');
    if (!body) return reply;
    if (!edge.config.readers.some((r) => r.id === body.reader)) {
      return sendError(reply, 'not_found', `no reader "${body.reader}" (readers: ${edge.config.readers.map((r) => r.id).join(', ')})`);
    }
    let result: Parameters<Parameters<Edge['onTap']>[0]>[0] | undefined;
    const off = edge.onTap((r) => (result = r));
    try {
      sim.reader.tap(body.reader, body.uid, body.at ? { at: Date.parse(body.at) } : {});
    } catch (err) {
      if (!(err instanceof TesseraError)) throw err;
      return sendError(reply, 'request.invalid', err.message, [{ path: 'uid', message: err.message }]);
    } finally {
      off();
    }
    if (!result) return sendError(reply, 'request.invalid', 'the card was refused before a decision', [{ path: 'uid', message: 'expected a badge UID of 4 to 10 bytes in hex' }]);
    return result;
  });

  app.post('/simulate/doors/:id', (req, reply) => {
    const body = parseOr400(reply, DoorBody, req.body, 'door state');
    if (!body) return reply;
    const door = edge.config.doors.find((d) => d.id === (req.params as { id: string }).id);
    if (!door) return sendError(reply, 'not_found', `no door "${(req.params as { id: string }).id}"`);
    if (!door.contact) return sendError(reply, 'conflict', `door "${door.id}" has no contact sensor`);
    sim.gpio.setInput(door.contact.line, body.open);
    return { door: door.id, open: body.open };
  });

  app.post('/simulate/exit/:door', (req, reply) => {
    const door = edge.config.doors.find((d) => d.id === (req.params as { door: string }).door);
    if (!door) return sendError(reply, 'not_found', `no door "${(req.params as { door: string }).door}"`);
    if (!door.exitButton) return sendError(reply, 'conflict', `door "${door.id}" has no exit button`);
    const line = door.exitButton.line;
    sim.gpio.setInput(line, true);
    clock.setTimeout(() => {
      // The site may have stopped meanwhile, its GPIO closed: then there is no button to release.
      if (sim.gpio.isOpen()) sim.gpio.setInput(line, false);
    }, PRESS_MS + door.exitButton.debounceMs);
    return { door: door.id, pressed: true };
  });
}
