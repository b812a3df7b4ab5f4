import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthHeaders } from '../harness/hub-auth.js';
import { startTestHub } from '../harness/network-hub.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { generateHubKeys, hubPrivateKey, signBody } from '../../shared/protocol/signing.js';

const silent = pino({ level: 'silent' });
const UID = '04A1A1A1A1A1A1';
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startSite(id: string, mqttUrl: string, publicKeyPem: string): Promise<RunningEdge> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${id}-`));
  const config = join(dir, 'site.yaml');
  writeFileSync(config, networkSiteYaml({ id, mqttUrl, hubPublicKeyPem: publicKeyPem, heartbeatSeconds: 5 }));
  const running = await runEdge({ configPath: config, simulate: true, log: silent });
  cleanups.push(async () => {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return running;
}

async function call(method: string, url: string, body?: unknown, auth?: AuthHeaders): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers = { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: auth.authorization } : {}) };
  const res = await fetch(url, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const tap = async (site: RunningEdge, reader = 'front-in') => (await call('POST', `${site.url}/simulate/tap`, { reader, uid: UID })).json as { granted: boolean; reason: string };

/** Polls until `check` holds, bounded in time: the liveness bound of a test, not a performance threshold. */
async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<number> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - start;
}

describe('a network: one hub, two sites, over MQTT', () => {
  it('a member added at the hub opens both sites; revoked at the hub, the badge stops at both within seconds; events reach the hub once', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
    const sites = [await startSite('murat', mqttUrl, hub.publicKeyPem), await startSite('allanche', mqttUrl, hub.publicKeyPem)];
    expect((await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth)).status).toBe(200);
    expect((await call('PUT', `${apiUrl}/directory/members/alice`, { name: 'Alice Martin', plan: 'always' }, auth)).status).toBe(200);
    expect((await call('PUT', `${apiUrl}/directory/badges/${UID}`, { member: 'alice' }, auth)).status).toBe(200);
    for (const site of sites) await eventually(async () => (await tap(site)).granted, `the badge opens ${site.config.site.id}`);
    for (const site of sites) await tap(site, 'front-out');

    const revoked = await call('POST', `${apiUrl}/directory/badges/${UID}/revoke`, undefined, auth);
    expect(revoked.status).toBe(200);
    const latencies = await Promise.all(sites.map((site) => eventually(async () => (await tap(site)).reason === 'badge_revoked', `the revocation reaches ${site.config.site.id}`)));
    console.log(`revocation reached the sites in ${latencies.join(' and ')} ms`);

    for (const site of sites) {
      const lastSeq = site.edge.store.events.lastSeq();
      await eventually(() => (hub.store.progress(site.config.site.id)?.contiguous ?? 0) >= lastSeq, `the hub holds every event of ${site.config.site.id}`);
      const stored = hub.store.events(site.config.site.id, 0, 100_000).map((e) => e.seq);
      expect(stored).toEqual(Array.from({ length: stored.length }, (_, i) => i + 1));
      await eventually(() => site.edge.store.events.ackedSeq() >= lastSeq, `${site.config.site.id} sees its events acknowledged`);
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
    const reinstate = (from: number, to: number, issuedAt: string) => ({ v: 1, site: 'murat', kind: 'delta', from, to, issuedAt, changes: [{ entity: 'badge', op: 'upsert', value: { uid: UID, member: 'alice' } }] });
    const forged = reinstate(revision, revision + 1, new Date().toISOString());
    await attacker.publishAsync('tessera/v1/sites/murat/directory', JSON.stringify({ body: forged, signature: signBody(forged, hubPrivateKey(generateHubKeys().privateKeyPem)) }), { qos: 1 });
    await attacker.publishAsync('tessera/v1/sites/murat/directory', JSON.stringify({ body: forged, signature: '' }), { qos: 1 });
    await attacker.publishAsync('tessera/v1/sites/murat/directory', 'not json', { qos: 1 });
    await eventually(
      () => site.edge.store.events.list(0, 10_000).filter((e) => e.type === 'device.fault' && e.data.kind === 'directory.rejected').length >= 3,
      'the three injected updates are refused and recorded',
    );
    expect(await tap(site)).toMatchObject({ granted: false, reason: 'badge_revoked' });
    expect(site.edge.store.directory.describe()?.revision).toBe(revision);
  });
});
