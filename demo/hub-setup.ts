import { createServer } from 'node:net';
import type { HubSession } from '../shared/platform/hub-client.js';
import type { Hub } from '../cloud-sync/hub-process/hub.js';
import { hashPassword, randomPassword } from '../cloud-sync/hub/auth/password.js';
import { EMPLOYERS, INVITED_MEMBER, MEMBERS, PLANS, PRICES, RESOURCES } from './network.js';
import type { RunningSite } from './sites.js';

/** The demo's hub: its ports, the simulator's own account, and the directory it is seeded with. */

/** `preferred` if nothing listens on it on loopback, else 0 (any free port): the demo starts anyway. */
export async function portOr0(preferred: number): Promise<number> {
  const server = createServer();
  const free = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(preferred, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => server.close(() => resolve()));
  return free ? preferred : 0;
}

/** A port of the demo: the one asked for, or the default if free, else any free one (0). */
export interface PortChoice {
  port: number;
  /** The default, when it was wanted and found taken: the banner says so. */
  defaultTaken?: number;
}

/** `asked` as is (0 included); without it, `preferred` if free, else 0. */
export async function choosePort(asked: number | undefined, preferred: number): Promise<PortChoice> {
  if (asked !== undefined) return { port: asked };
  const port = await portOr0(preferred);
  return port === preferred ? { port } : { port, defaultTaken: preferred };
}

export const SIMULATOR_ACCOUNT = 'demo-simulator';

/**
 * An operator account for the simulator, so that the admin's one-time password stays the
 * visitor's to use. Made before the API listens; a kept demo folder gets a new password.
 */
export async function simulatorAccount(hub: Hub): Promise<{ username: string; password: string }> {
  const password = randomPassword();
  const hash = await hashPassword(password);
  const { db } = hub.store;
  const existing = await hub.auth.accounts.credentials(db, SIMULATOR_ACCOUNT);
  if (existing) await hub.auth.accounts.setPasswordHash(db, existing.account.id, hash, false);
  else
    await hub.auth.accounts.create(db, {
      username: SIMULATOR_ACCOUNT,
      role: 'operator',
      sites: [],
      passwordHash: hash,
      mustChangePassword: false,
    });
  return { username: SIMULATOR_ACCOUNT, password };
}

async function put(hub: HubSession, path: string, body: unknown): Promise<void> {
  const res = await hub.fetch(path, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`seeding the hub: PUT ${path} answered ${res.status} ${await res.text()}`);
}

/**
 * Declares the sites and enters plans, employers, members, badges, the bookable desks and rooms
 * and prices through the admin API, as an operator would.
 */
export async function seedHub(hub: HubSession, sites: readonly RunningSite[]): Promise<void> {
  for (const { site, facts } of sites)
    await put(hub, `/directory/sites/${site.id}`, {
      name: facts.name,
      timeZone: facts.timeZone,
      capacity: facts.capacity,
    });
  for (const { id, ...plan } of PLANS) await put(hub, `/directory/plans/${id}`, plan);
  for (const { id, name } of EMPLOYERS) await put(hub, `/directory/employers/${id}`, { name });
  for (const m of MEMBERS) {
    await put(hub, `/directory/members/${m.id}`, {
      name: m.name,
      plan: m.plan,
      ...(m.employer ? { employer: m.employer } : {}),
    });
    await put(hub, `/directory/badges/${m.uid}`, { member: m.id });
  }
  for (const { id, ...resource } of RESOURCES) await put(hub, `/resources/${id}`, resource);
  await put(hub, '/billing/prices', PRICES);
}

/** The one-time link that opens a member's own space (phone-first pages): what an operator hands over. */
export async function inviteMember(hub: HubSession): Promise<{ member: string; link: string }> {
  const res = await hub.fetch('/invitations', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'member', member: INVITED_MEMBER, language: 'fr' }),
  });
  if (!res.ok) throw new Error(`inviting a member: POST /invitations answered ${res.status} ${await res.text()}`);
  const { link } = (await res.json()) as { link: string };
  return { member: MEMBERS.find((m) => m.id === INVITED_MEMBER)?.name ?? INVITED_MEMBER, link };
}
