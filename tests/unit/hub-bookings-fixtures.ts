import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import type { BookingRecord, SiteAvailability } from '../../shared/protocol/api/hub-bookings.js';
import type { AuthHeaders } from '../harness/hub-auth.js';

/** Europe/Paris sites, plans and members the bookings tests share, put through the admin API. */
export const HOURS = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '07:00', to: '22:00' }];

/** Any answer of these routes, read loosely: each test looks at the fields it expects. */
export interface Answer {
  items: Array<{ id: string; [k: string]: unknown }>;
  item: BookingRecord;
  sites: SiteAvailability[];
  code: string;
  message: string;
}

export async function call(
  hub: Hub,
  headers: AuthHeaders,
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: object,
): Promise<{ status: number; body: Answer }> {
  const r = await hub.api.inject({ method, url, headers, ...(payload ? { payload } : {}) });
  return { status: r.statusCode, body: (r.body === '' ? {} : r.json()) as Answer };
}

export async function seedNetwork(hub: Hub, admin: AuthHeaders): Promise<void> {
  const put = async (url: string, payload: object) => {
    const r = await call(hub, admin, 'PUT', url, payload);
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  await put('/directory/sites/murat', { name: 'Murat', timeZone: 'Europe/Paris' });
  await put('/directory/sites/lyon', { name: 'Lyon', timeZone: 'Europe/Paris', capacity: 30 });
  await put('/directory/plans/murat-only', { name: 'Murat', access: 'always', sites: ['murat'] });
  await put('/directory/plans/network', { name: 'Network', access: 'always', sites: 'all' });
  await put('/directory/employers/acme', { name: 'Acme' });
  await put('/directory/members/ana', { name: 'Ana', plan: 'murat-only', employer: 'acme' });
  await put('/directory/members/leo', { name: 'Leo', plan: 'network' });
  await put('/directory/members/nina', { name: 'Nina', plan: 'network', employer: 'acme' });
  await put('/resources/room-a', { site: 'murat', kind: 'room', name: 'Room A', capacity: 6, hours: HOURS });
  await put('/resources/pool', { site: 'murat', kind: 'desk-pool', name: 'Open space', size: 2, hours: HOURS });
  await put('/resources/desk-7', { site: 'lyon', kind: 'desk', name: 'Desk 7', hours: HOURS, plans: ['network'] });
}
