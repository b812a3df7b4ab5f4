import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { startNetworkSite, startTestHub } from '../harness/network-hub.js';
import type { RunningEdge } from '../../edge/site/run.js';
import { generateHubKeys, hubPrivateKey, signBody } from '../../shared/protocol/signing.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { call } from '../support/http.js';
import { eventually } from '../support/eventually.js';

const UID = '04A1A1A1A1A1A1';
const cleanups = cleanupsAfterEach();

const startSite = (id: string, mqttUrl: string, publicKeyPem: string): Promise<RunningEdge> =>
  startNetworkSite(cleanups, id, mqttUrl, publicKeyPem);

const tap = async (site: RunningEdge, reader = 'front-in') =>
  (await call('POST', `${site.url}/simulate/tap`, { reader, uid: UID })).json as { granted: boolean; reason: string };

describe('a network: one hub, two sites, over MQTT', () => {
  it('a member added at the hub opens both sites; revoked at the hub, the badge stops at both within seconds; events reach the hub once', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
    const sites = [
      await startSite('murat', mqttUrl, hub.publicKeyPem),
      await startSite('allanche', mqttUrl, hub.publicKeyPem),
    ];
    expect(
      (await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth)).status,
    ).toBe(200);
    expect(
      (await call('PUT', `${apiUrl}/directory/members/alice`, { name: 'Alice Martin', plan: 'always' }, auth)).status,
    ).toBe(200);
    expect((await call('PUT', `${apiUrl}/directory/badges/${UID}`, { member: 'alice' }, auth)).status).toBe(200);
    for (const site of sites)
      await eventually(async () => (await tap(site)).granted, `the badge opens ${site.config.site.id}`);
    for (const site of sites) await tap(site, 'front-out');

    const revoked = await call('POST', `${apiUrl}/directory/badges/${UID}/revoke`, undefined, auth);
    expect(revoked.status).toBe(200);
    const latencies = await Promise.all(
      sites.map((site) =>
        eventually(
          async () => (await tap(site)).reason === 'badge_revoked',
          `the revocation reaches ${site.config.site.id}`,
        ),
      ),
    );
    console.log(`revocation reached the sites in ${latencies.join(' and ')} ms`);

    for (const site of sites) {
      const lastSeq = site.edge.store.events.lastSeq();
      await eventually(
        async () => ((await hub.store.progress(site.config.site.id))?.contiguous ?? 0) >= lastSeq,
        `the hub holds every event of ${site.config.site.id}`,
      );
      const stored = (await hub.store.events(site.config.site.id, 0, 100_000)).map((e) => e.seq);
      expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      await eventually(
        () => site.edge.store.events.ackedSeq() >= lastSeq,
        `${site.config.site.id} sees its events acknowledged`,
      );
    }
  });

  it('a forged or replayed directory update injected on the broker is refused, and the badge stays revoked', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
    const site = await startSite('murat', mqttUrl, hub.publicKeyPem);
    await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth);
    await call('PUT', `${apiUrl}/directory/members/alice`, { name: 'Alice Martin', plan: 'always' }, auth);
    await call('PUT', `${apiUrl}/directory/badges/${UID}`, { member: 'alice', status: 'revoked' }, auth);
    await eventually(async () => (await tap(site)).reason === 'badge_revoked', 'the site holds the revoked badge');
    const revision = site.edge.store.directory.describe()?.revision ?? 0;

    const attacker = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, clientId: 'attacker' });
    cleanups.push(() => attacker.endAsync());
    const reinstate = (from: number, to: number, issuedAt: string) => ({
      v: 1,
      site: 'murat',
      kind: 'delta',
      from,
      to,
      issuedAt,
      changes: [{ entity: 'badge', op: 'upsert', value: { uid: UID, member: 'alice' } }],
    });
    const forged = reinstate(revision, revision + 1, new Date().toISOString());
    await attacker.publishAsync(
      'tessera/v1/sites/murat/directory',
      JSON.stringify({ body: forged, signature: signBody(forged, hubPrivateKey(generateHubKeys().privateKeyPem)) }),
      { qos: 1 },
    );
    await attacker.publishAsync('tessera/v1/sites/murat/directory', JSON.stringify({ body: forged, signature: '' }), {
      qos: 1,
    });
    await attacker.publishAsync('tessera/v1/sites/murat/directory', 'not json', { qos: 1 });
    await eventually(
      () =>
        site.edge.store.events
          .list(0, 10_000)
          .filter((e) => e.type === 'device.fault' && e.data.kind === 'directory.rejected').length >= 3,
      'the three injected updates are refused and recorded',
    );
    expect(await tap(site)).toMatchObject({ granted: false, reason: 'badge_revoked' });
    expect(site.edge.store.directory.describe()?.revision).toBe(revision);
  });
});
