import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { login, type AuthHeaders } from '../harness/hub-auth.js';

/**
 * A small network for the self-service tests: two sites, two employers with staff, a member
 * without employer, one on a plan of murat alone (Mia), badges; and the accounts of each role: an operator (`admin`), a manager of
 * murat, Ana's member account, and a manager of acme.
 */
export const UID = {
  ana: '04A1A1A1A1A1A1',
  ana2: '04A2A2A2A2A2A2',
  ben: '04B1B1B1B1B1B1',
  leo: '04C1C1C1C1C1C1',
  eve: '04D1D1D1D1D1D1',
  mia: '04E1E1E1E1E1E1',
} as const;

export interface Network {
  admin: AuthHeaders;
  siteManager: AuthHeaders;
  member: AuthHeaders;
  employerManager: AuthHeaders;
}

const put = async (app: FastifyInstance, admin: AuthHeaders, url: string, payload: object) => {
  const r = await app.inject({ method: 'PUT', url, headers: admin, payload });
  expect(r.statusCode, `${url}: ${r.body}`).toBe(200);
};

/** The directory every self-service test starts from. */
export async function seedDirectory(app: FastifyInstance, admin: AuthHeaders): Promise<void> {
  for (const site of ['murat', 'lyon'])
    await put(app, admin, `/directory/sites/${site}`, { name: site, timeZone: 'Europe/Paris', capacity: 20 });
  await put(app, admin, '/directory/plans/murat-3', {
    name: 'Murat 3 days',
    access: 'always',
    sites: ['murat', 'lyon'],
    daysPerWeek: 3,
  });
  await put(app, admin, '/directory/plans/murat-only', { name: 'Murat', access: 'always', sites: ['murat'] });
  await put(app, admin, '/directory/plans/everywhere', { name: 'Network', access: 'always', sites: 'all' });
  await put(app, admin, '/directory/employers/acme', { name: 'Acme' });
  await put(app, admin, '/directory/employers/globex', { name: 'Globex' });
  await put(app, admin, '/directory/members/ana', {
    name: 'Ana Lima',
    plan: 'murat-3',
    employer: 'acme',
    locker: { bank: 'b1', number: 12 },
  });
  await put(app, admin, '/directory/members/ben', { name: 'Ben Ott', plan: 'everywhere', employer: 'acme' });
  await put(app, admin, '/directory/members/leo', { name: 'Leo Roy', plan: 'everywhere', employer: 'globex' });
  await put(app, admin, '/directory/members/eve', { name: 'Eve Nour', plan: 'everywhere' });
  await put(app, admin, '/directory/members/mia', { name: 'Mia Sol', plan: 'murat-only' });
  await put(app, admin, `/directory/badges/${UID.mia}`, { member: 'mia' });
  await put(app, admin, `/directory/badges/${UID.ana}`, { member: 'ana' });
  await put(app, admin, `/directory/badges/${UID.ana2}`, { member: 'ana', type: 'ntag424' });
  await put(app, admin, `/directory/badges/${UID.ben}`, { member: 'ben' });
  await put(app, admin, `/directory/badges/${UID.leo}`, { member: 'leo' });
  await put(app, admin, `/directory/badges/${UID.eve}`, { member: 'eve' });
}

/** Creates an account through `POST /accounts` as the operator (its own password, not one-time) and logs it in. */
export async function accountOf(
  app: FastifyInstance,
  admin: AuthHeaders,
  account: { username: string; role: string; sites?: string[]; member?: string; employer?: string },
): Promise<AuthHeaders> {
  const password = `${account.username}-password`;
  const r = await app.inject({
    method: 'POST',
    url: '/accounts',
    headers: admin,
    payload: { ...account, password, mustChangePassword: false },
  });
  expect(r.statusCode, r.body).toBe(201);
  return login(app, account.username, password);
}

/** The seeded directory and one signed-in account of each role. */
export async function network(hub: Hub, admin: AuthHeaders): Promise<Network> {
  await seedDirectory(hub.api, admin);
  return {
    admin,
    siteManager: await accountOf(hub.api, admin, { username: 'murat-manager', role: 'site_manager', sites: ['murat'] }),
    member: await accountOf(hub.api, admin, { username: 'ana', role: 'member', member: 'ana' }),
    employerManager: await accountOf(hub.api, admin, {
      username: 'acme-boss',
      role: 'employer_manager',
      employer: 'acme',
    }),
  };
}
