import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BillingLedger } from '../../cloud-sync/billing/ledger.js';
import { closableFrom } from '../../cloud-sync/billing/period.js';
import type { PriceList } from '../../cloud-sync/billing/prices.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import type { RunningEdge } from '../../edge/site/run.js';
import { systemClock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { startNetworkSite } from '../harness/network-hub.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { call } from '../support/http.js';
import { eventually } from '../support/eventually.js';

const UID = '04A1A1A1A1A1A1';
const PRICES: PriceList = {
  currency: 'EUR',
  plans: {
    always: {
      kind: 'per-day',
      dayCents: 2000,
      halfDay: { cents: 1000, underMinutes: 240 },
      vatPercent: 20,
      included: { 'print-page': 1000 },
    },
  },
  consumables: {
    'print-page': { name: 'Printed page', unitCents: 10, vatPercent: 20 },
    coffee: { name: 'Coffee', unitCents: 120, vatPercent: 5.5 },
  },
};
const cleanups = cleanupsAfterEach();

async function startHub(): Promise<{ hub: Hub; mqttUrl: string; apiUrl: string; auth: AuthHeaders }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-billing-net-'));
  const hub = await createHub({
    dbPath: await lastingHubDb(dir),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
  });
  const urls = await hub.start();
  cleanups.push(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { hub, ...urls, auth: await loginOver(urls.apiUrl, TEST_ADMIN.username, TEST_ADMIN.password) };
}

const startSite = (id: string, mqttUrl: string, publicKeyPem: string): Promise<RunningEdge> =>
  startNetworkSite(cleanups, id, mqttUrl, publicKeyPem);

describe('billing across a network: from the door and the printer to the invoice', () => {
  it('a visit at one site and print pages and a coffee at another reach the hub over MQTT and make one invoice', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startHub();
    const [murat, allanche] = [
      await startSite('murat', mqttUrl, hub.publicKeyPem),
      await startSite('allanche', mqttUrl, hub.publicKeyPem),
    ] as [RunningEdge, RunningEdge];
    await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth);
    await call('PUT', `${apiUrl}/directory/members/alice`, { name: 'Alice Martin', plan: 'always' }, auth);
    await call('PUT', `${apiUrl}/directory/badges/${UID}`, { member: 'alice' }, auth);
    expect((await call('PUT', `${apiUrl}/billing/prices`, PRICES, auth)).status).toBe(200);
    await eventually(
      async () =>
        (await call('POST', `${murat.url}/simulate/tap`, { reader: 'front-in', uid: UID })).json.granted === true,
      'the badge opens murat',
    );
    await call('POST', `${murat.url}/simulate/tap`, { reader: 'front-out', uid: UID });
    await eventually(
      async () => (await call('POST', `${allanche.url}/simulate/print`, { badge: UID, pages: 1200 })).status === 201,
      'allanche knows the badge',
    );
    expect((await call('POST', `${allanche.url}/simulate/coffee`, { memberId: 'alice' })).status).toBe(201);
    for (const site of [murat, allanche]) {
      const lastSeq = site.edge.store.events.lastSeq();
      await eventually(
        async () => ((await hub.store.progress(site.config.site.id))?.contiguous ?? 0) >= lastSeq,
        `the hub holds every event of ${site.config.site.id}`,
      );
    }

    const period = (murat.edge.store.events.list(0, 1000).find((e) => e.type === 'presence.in')?.at ?? '').slice(0, 7);
    // A visit of a few seconds is a half-day (10.00 + 2.00 VAT); 200 pages beyond the 1000 included
    // (20.00 + 4.00); a coffee at 5.5 % (1.20 + 0.066, rounded to 0.07).
    const preview = await call('GET', `${apiUrl}/billing/periods/${period}`, undefined, auth);
    expect(preview.json).toMatchObject({
      status: 'open',
      invoices: [{ account: { kind: 'member', id: 'alice' }, subtotalCents: 3120, vatCents: 607, totalCents: 3727 }],
    });

    // Closing needs the month to be over: a ledger on the hub's database whose clock is then.
    const ledger = new BillingLedger({
      db: hub.store.db,
      directory: hub.directory,
      sites: hub.sites,
      now: () => closableFrom(period) + 3_600_000,
      log: silent,
    });
    expect(await ledger.close(period)).toMatchObject({ invoices: 1, totalCents: 3727 });
    const [invoice] = await ledger.invoices(period);
    expect(invoice?.bySite).toEqual([
      { site: 'allanche', days: 0, amountCents: 2120 },
      { site: 'murat', days: 1, amountCents: 1000 },
    ]);
  });
});
