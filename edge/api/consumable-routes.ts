import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Clock } from '../../shared/platform/clock.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { ConsumableUseBody, recordConsumableUse, SIMULATED_ITEMS, SimulatedCoffee, SimulatedPrint } from '../consumables/consumable-use.js';
import type { EdgeStore } from '../store/store.js';
import { parseOr400 } from '../../shared/platform/http-errors.js';

function answer(reply: FastifyReply, record: () => SiteEvent) {
  const event = record();
  return reply.code(201).send({ seq: event.seq, id: event.id, at: event.at, ...event.data });
}

/**
 * `POST /consumables`: a real printer or coffee machine records a use (201 with the event's seq).
 * The hub bills it; the edge only checks that the member or badge exists and may still be used.
 */
export function registerConsumableRoutes(app: FastifyInstance, store: EdgeStore, clock: Clock): void {
  app.post('/consumables', (req, reply) => {
    const body = parseOr400(reply, ConsumableUseBody, req.body, 'consumable use');
    return body ? answer(reply, () => recordConsumableUse(store, body, body.item, body.quantity, clock.now())) : reply;
  });
}

/** The simulator's printer and coffee machine: the same record, at a given time if asked. */
export function registerSimulatedDevices(app: FastifyInstance, store: EdgeStore, clock: Clock): void {
  const at = (iso: string | undefined) => (iso ? Date.parse(iso) : clock.now());
  app.post('/simulate/print', (req, reply) => {
    const body = parseOr400(reply, SimulatedPrint, req.body, 'print job');
    return body ? answer(reply, () => recordConsumableUse(store, body, SIMULATED_ITEMS.print, body.pages, at(body.at))) : reply;
  });
  app.post('/simulate/coffee', (req, reply) => {
    const body = parseOr400(reply, SimulatedCoffee, req.body ?? {}, 'coffee');
    return body ? answer(reply, () => recordConsumableUse(store, body, SIMULATED_ITEMS.coffee, body.cups, at(body.at))) : reply;
  });
}
