import mqtt from 'mqtt';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock, systemClock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import type { SiteStatus } from '../../shared/protocol/sync.js';
import type { Cleanup } from '../support/cleanups.js';
import { silent } from '../support/logger.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from './hub-auth.js';
import { testHubDb } from './hub-db.js';
import { statusOf } from './hub-fixtures.js';

/** Helpers for the tests of the hub's site commands (POST /sites/:site/commands). */

/** The site's status as its edge publishes it, through the hub's ingest. */
export async function reportStatus(hub: Hub, overrides: Partial<SiteStatus>, site = 'murat'): Promise<void> {
  hub.ingest.onMessage(`tessera/v1/sites/${site}/status`, Buffer.from(JSON.stringify(statusOf(site, overrides))));
  await hub.ingest.settled();
}

/**
 * A hub with the site `murat` declared, which has reported `status` (the doors and readers it names),
 * and the test operator logged in. `started`: its broker and API listen on free ports, on the system
 * clock; otherwise nothing listens and the clock is a manual one.
 */
export async function hubWithSite(
  cleanups: Cleanup[],
  status: Partial<SiteStatus>,
  opts: { started?: boolean } = {},
): Promise<{ hub: Hub; admin: AuthHeaders; apiUrl?: string }> {
  const hub = await createHub({
    dbPath: await testHubDb(),
    clock: opts.started ? systemClock : new ManualClock('2026-11-23T08:00:00Z'),
    log: silent,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
    privateKeyPem: generateHubKeys().privateKeyPem,
    ...(opts.started ? { brokerPort: 0, apiPort: 0 } : {}),
  });
  cleanups.push(() => hub.stop());
  const apiUrl = opts.started ? (await hub.start()).apiUrl : undefined;
  await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 10 });
  await reportStatus(hub, status);
  return {
    hub,
    admin: await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password),
    ...(apiUrl ? { apiUrl } : {}),
  };
}

/** POST /sites/:site/commands as `headers`. */
export const sendCommand = (hub: Hub, headers: AuthHeaders, payload: unknown, site = 'murat') =>
  hub.api.inject({ method: 'POST', url: `/sites/${site}/commands`, headers, payload: payload as object });

/** The audit log of the commands, newest first. */
export const commandAudit = async (hub: Hub, admin: AuthHeaders) =>
  (await hub.api.inject({ method: 'GET', url: '/audit?entity=command', headers: admin })).json<{
    items: Array<{ actor: { username: string }; action: string; entityId: string; after: Record<string, unknown> }>;
  }>().items;

/** What the started hub's broker publishes on the commands topic of `murat`, as a site subscribed with QoS 1 receives it. */
export async function commandsReceived(
  hub: Hub,
  cleanups: Cleanup[],
): Promise<Array<{ payload: string; qos: number; retain: boolean }>> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${hub.broker()?.port}`, {
    protocolVersion: 4,
    clientId: 'test-site-listener',
    reconnectPeriod: 0,
  });
  cleanups.push(() => client.endAsync());
  const received: Array<{ payload: string; qos: number; retain: boolean }> = [];
  client.on('message', (_topic, payload, packet) =>
    received.push({ payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
  );
  await client.subscribeAsync('tessera/v1/sites/murat/commands', { qos: 1 });
  return received;
}
