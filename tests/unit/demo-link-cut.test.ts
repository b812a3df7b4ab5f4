import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { BrokerLink } from '../../demo/link-cut.js';
import { systemClock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { topics } from '../../shared/protocol/topics.js';
import { batchOf } from '../harness/hub-fixtures.js';
import { connectOutcome } from '../harness/broker.js';
import { FAST_PASSWORD_COST } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { silent } from '../support/logger.js';

const t = topics();

const cleanups = cleanupsAfterEach();

/** The demo's hub: its embedded broker admits provisioned sites only. */
async function hubWithIdentities(): Promise<{ hub: Hub; brokerPort: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-link-'));
  const hub = await createHub({
    dbPath: await lastingHubDb(dir),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    brokerIdentities: true,
    passwordCost: FAST_PASSWORD_COST,
  });
  const { mqttUrl } = await hub.start();
  cleanups.push(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { hub, brokerPort: Number(new URL(mqttUrl).port) };
}

async function startLink(brokerPort: number): Promise<{ link: BrokerLink; url: string }> {
  const link = new BrokerLink(brokerPort);
  const url = await link.start();
  cleanups.push(() => link.stop());
  return { link, url };
}

describe("the demo's broker link (demo/link-cut.ts)", () => {
  it("relays a site's own identity to the broker both ways, and a wrong password is still refused", async () => {
    const { hub, brokerPort } = await hubWithIdentities();
    const { url } = await startLink(brokerPort);
    const identity = await hub.brokerIdentities.provision('allanche');

    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...identity });
    cleanups.push(() => client.endAsync(true));
    // Up: the site's events reach the hub. Down: the hub's ack reaches the site.
    await client.subscribeAsync(t.ack('allanche'), { qos: 1 });
    const acked = new Promise<string>((resolve) =>
      client.on('message', (_topic, payload) => resolve(payload.toString())),
    );
    await client.publishAsync(t.events('allanche'), JSON.stringify(batchOf('allanche', 1, 3)), { qos: 1 });
    expect(JSON.parse(await acked)).toMatchObject({ site: 'allanche', seq: 3 });
    expect((await hub.store.progress('allanche'))?.contiguous).toBe(3);

    expect(await connectOutcome(url, { ...identity, password: 'not-the-password' })).toMatch(
      /Bad username or password/i,
    );
  });

  it('cut, drops every connection and refuses new ones; restored, relays again', async () => {
    const { hub, brokerPort } = await hubWithIdentities();
    const { link, url } = await startLink(brokerPort);
    const identity = await hub.brokerIdentities.provision('allanche');
    const client = await mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, ...identity });
    cleanups.push(() => client.endAsync(true));
    const dropped = new Promise<void>((resolve) => client.once('close', () => resolve()));

    link.setCut(true);
    expect(link.isCut).toBe(true);
    await dropped;
    expect(client.connected).toBe(false);
    expect(await connectOutcome(url, identity)).not.toBe('connected');

    link.setCut(false);
    expect(link.isCut).toBe(false);
    expect(await connectOutcome(url, identity)).toBe('connected');
  });

  it('stopped, listens no more', async () => {
    const { hub, brokerPort } = await hubWithIdentities();
    const link = new BrokerLink(brokerPort);
    const url = await link.start();
    await link.stop();
    expect(await connectOutcome(url, await hub.brokerIdentities.provision('murat'))).toMatch(/ECONNREFUSED|closed/);
  });
});
