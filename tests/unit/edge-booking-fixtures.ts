import type { z } from 'zod';
import type { SiteConfigInput } from '../../firmware-config/schema.js';
import type { Booking, Resource } from '../../shared/protocol/bookings.js';
import type { Directory } from '../../shared/protocol/directory.js';
import { BASE_CONFIG, BASE_DIRECTORY } from '../harness/site.js';

/** The site of tests/harness/site.ts with a meeting room behind a door and a reader of its own. */
export const ROOM_CONFIG: Partial<SiteConfigInput> = {
  readers: [
    ...(BASE_CONFIG.readers ?? []),
    { id: 'salon-in', match: 'ACR122U 04', role: 'room', door: 'salon', resource: 'salon' },
  ],
  doors: [...(BASE_CONFIG.doors ?? []), { id: 'salon', relay: { line: 23 }, pulseMs: 3000 }],
};

export const SALON: z.input<typeof Resource> = {
  id: 'salon',
  site: 'murat',
  kind: 'room',
  name: 'Salon',
  capacity: 8,
  reader: 'salon-in',
  hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '20:00' }],
};

export const DESKS: z.input<typeof Resource> = {
  id: 'open-space',
  site: 'murat',
  kind: 'desk-pool',
  name: 'Open space',
  size: 4,
  hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '19:00' }],
};

/** Alice holds the salon on Monday 23 November 2026 from 10:00 to 11:00 in Paris (UTC+1). */
export const ALICE_SALON: Booking = {
  id: 'bk-alice-salon',
  resource: 'salon',
  site: 'murat',
  member: 'alice',
  start: '2026-11-23T09:00:00Z',
  end: '2026-11-23T10:00:00Z',
};

/** The harness's directory with the room, a desk pool, Alice's booking and a plan that needs one. */
export const BOOKING_DIRECTORY: z.input<typeof Directory> = {
  ...BASE_DIRECTORY,
  plans: [...(BASE_DIRECTORY.plans ?? []), { id: 'flex', name: 'Flex desk', access: 'always', bookingRequired: true }],
  members: [...(BASE_DIRECTORY.members ?? []), { id: 'fanny', name: 'Fanny Mercier', plan: 'flex' }],
  badges: [...(BASE_DIRECTORY.badges ?? []), { uid: '04F1F1F1F1F1F1', member: 'fanny' }],
  resources: [SALON, DESKS],
  bookings: [ALICE_SALON],
};

export const FANNY = '04F1F1F1F1F1F1';
export const MINUTE_MS = 60_000;
