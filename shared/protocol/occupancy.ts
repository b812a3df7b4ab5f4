import { z } from 'zod';
import { SITE_ID_PATTERN } from './topics.js';

/**
 * `tessera/v1/network/occupancy`, hub → anyone (displays, Home Assistant), QoS 0, retained: the
 * live occupancy of every site and of the network. `rate` is present / capacity (3 decimals),
 * null for a site the operator has not declared yet.
 */
export const NETWORK_OCCUPANCY_VERSION = 1;

const Count = z.number().int().nonnegative();
const Rate = z.number().nonnegative().nullable();

export const NetworkOccupancyMessage = z.strictObject({
  v: z.literal(NETWORK_OCCUPANCY_VERSION),
  at: z.iso.datetime({ offset: true }),
  total: z.strictObject({ present: Count, capacity: Count, rate: Rate }),
  sites: z.record(
    z.string().regex(SITE_ID_PATTERN),
    z.strictObject({ name: z.string(), present: Count, capacity: Count.nullable(), rate: Rate }),
  ),
});
export type NetworkOccupancyMessage = z.infer<typeof NetworkOccupancyMessage>;
