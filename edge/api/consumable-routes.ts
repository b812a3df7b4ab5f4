import type { FastifyInstance, FastifyReply } from 'fastify';
import { serve } from '../../shared/platform/api-contract.js';
import type { Clock } from '../../shared/platform/clock.js';
import { EdgeRoutes, SimulationRoutes, type ConsumableRecorded } from '../../shared/protocol/api/edge.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { recordConsumableUse, SIMULATED_ITEMS } from '../consumables/consumable-use.js';
import type { EdgeStore } from '../store/store.js';

/** 201 with the recorded event; a refusal (unknown member, revoked badge) is thrown by the recorder. */
function answer(reply: FastifyReply, record: () => SiteEvent): ConsumableRecorded {
  const event = record();
  if (event.type !== 'consumable.used') throw new Error(`a consumable use recorded a ${event.type} event`);
  void reply.code(201);
  return { seq: event.seq, id: event.id, at: event.at, ...event.data };
}

/**
 * `POST /consumables`: a real printer or coffee machine records a use (201 with the event's seq).
 * The hub bills it; the edge only checks that the member or badge exists and may still be used.
 */
export function registerConsumableRoutes(app: FastifyInstance, store: EdgeStore, clock: Clock): void {
  serve(app, EdgeRoutes.consumables, (req, reply) =>
    answer(reply, () => recordConsumableUse(store, req.body, req.body.item, req.body.quantity, clock.now())),
  );
}

/** The simulator's printer and coffee machine: the same record, at a given time if asked. */
export function registerSimulatedDevices(app: FastifyInstance, store: EdgeStore, clock: Clock): void {
  const at = (iso: string | undefined) => (iso ? Date.parse(iso) : clock.now());
  serve(app, SimulationRoutes.print, (req, reply) =>
    answer(reply, () => recordConsumableUse(store, req.body, SIMULATED_ITEMS.print, req.body.pages, at(req.body.at))),
  );
  serve(app, SimulationRoutes.coffee, (req, reply) =>
    answer(reply, () => recordConsumableUse(store, req.body, SIMULATED_ITEMS.coffee, req.body.cups, at(req.body.at))),
  );
}
