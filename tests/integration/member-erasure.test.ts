import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import type { AuthHeaders } from '../harness/hub-auth.js';
import { startTestHub } from '../harness/network-hub.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { call } from '../support/http.js';
import { eventually } from '../support/eventually.js';

const ALICE = '04A1A1A1A1A1A1';
const BOB = '04B2B2B2B2B2B2';
const cleanups = cleanupsAfterEach();

/** A site process-alike over MQTT; its directory (and database) survive a restart. */
function siteIn(id: string, mqttUrl: string, publicKeyPem: string) {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${id}-`));
  writeFileSync(
    join(dir, 'site.yaml'),
    networkSiteYaml({ id, mqttUrl, hubPublicKeyPem: publicKeyPem, heartbeatSeconds: 5 }),
  );
  let running: RunningEdge | undefined;
  cleanups.push(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    start: async () => (running = await runEdge({ configPath: join(dir, 'site.yaml'), simulate: true, log: silent })),
    stop: async () => {
      await running?.stop();
      running = undefined;
    },
  };
}

const tap = async (site: RunningEdge, uid: string, reader = 'front-in') =>
  (await call('POST', `${site.url}/simulate/tap`, { reader, uid })).json as { granted: boolean; reason: string };

/** Everything the site's database holds that could name a member: events, directory, presence, lockers, day usage. */
const siteText = (site: RunningEdge) =>
  JSON.stringify(
    ['events', 'members', 'badges', 'presence', 'day_usage', 'lockers'].map((t) =>
      site.edge.store.db.prepare(`SELECT * FROM ${t}`).all(),
    ),
  );
const hubText = async (hub: Hub) => (await hub.store.db.column<string>('SELECT body FROM events')).join('\n');

async function seed(apiUrl: string, auth: AuthHeaders): Promise<void> {
  expect((await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth)).status).toBe(
    200,
  );
  for (const [id, name, uid] of [
    ['alice', 'Alice Martin', ALICE],
    ['bob', 'Bob Durand', BOB],
  ] as const) {
    expect((await call('PUT', `${apiUrl}/directory/members/${id}`, { name, plan: 'always' }, auth)).status).toBe(200);
    expect((await call('PUT', `${apiUrl}/directory/badges/${uid}`, { member: id }, auth)).status).toBe(200);
  }
}

describe('a member erased at the hub, over MQTT', () => {
  it('the site pseudonymises its events and forgets the badge; a tap after it reaches the hub without the id', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
    const site = await siteIn('murat', mqttUrl, hub.publicKeyPem).start();
    await seed(apiUrl, auth);
    for (const uid of [ALICE, BOB])
      await eventually(async () => (await tap(site, uid)).granted, `${uid} is let in at Murat`);
    await eventually(
      async () => ((await hub.store.progress('murat'))?.contiguous ?? 0) >= site.edge.store.events.lastSeq(),
      'the hub holds the site’s events',
    );
    expect(await hubText(hub)).toContain('"alice"');

    const erased = await call('POST', `${apiUrl}/directory/members/alice/erase`, { confirm: 'alice' }, auth);
    expect(erased.status).toBe(200);
    const { pseudonym, revision } = erased.json as { pseudonym: string; revision: number };
    await eventually(
      () => (site.edge.store.directory.describe()?.revision ?? 0) >= revision,
      'the site applies the erasure',
    );

    const text = siteText(site);
    for (const personal of ['"alice"', 'Alice Martin', ALICE]) expect(text).not.toContain(personal);
    expect(text).toContain(pseudonym);
    expect(site.edge.store.presence.occupancy()).toBe(2);
    const erasedAt = site.edge.store.events.lastSeq();
    expect(await tap(site, ALICE)).toMatchObject({ granted: false, reason: 'unknown_badge' });
    expect((await tap(site, BOB, 'front-out')).granted).toBe(true);

    await eventually(
      async () => ((await hub.store.progress('murat'))?.contiguous ?? 0) >= site.edge.store.events.lastSeq(),
      'the hub holds the taps after the erasure',
    );
    const denied = (await hub.store.events('murat', erasedAt, 1000)).filter((e) => e.event.type === 'access.denied');
    expect(denied.map((e) => e.event.data)).toMatchObject([{ reason: 'unknown_badge' }]);
    expect(denied[0]?.event.data).not.toHaveProperty('memberId');
    expect(await hubText(hub)).not.toContain('"alice"');
    expect((await hub.live.projection.whoIsIn('murat')).map((m) => m.memberId)).toEqual([pseudonym]);
  });

  it('a site offline during the erasure applies it when it comes back, and its events reach the hub pseudonymised', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
    const allanche = siteIn('allanche', mqttUrl, hub.publicKeyPem);
    let site = await allanche.start();
    await seed(apiUrl, auth);
    await eventually(async () => (await tap(site, ALICE)).granted, 'Alice is let in at Allanche');
    await allanche.stop();

    const erased = await call('POST', `${apiUrl}/directory/members/alice/erase`, { confirm: 'alice' }, auth);
    const { pseudonym, revision } = erased.json as { pseudonym: string; revision: number };
    site = await allanche.start();
    await eventually(
      () => (site.edge.store.directory.describe()?.revision ?? 0) >= revision,
      'the site catches up with the erasure',
    );
    expect(siteText(site)).not.toContain('"alice"');
    expect(await tap(site, ALICE)).toMatchObject({ reason: 'unknown_badge' });
    await eventually(
      async () => ((await hub.store.progress('allanche'))?.contiguous ?? 0) >= site.edge.store.events.lastSeq(),
      'the hub holds every event of the site',
    );
    expect(await hubText(hub)).not.toContain('"alice"');
    expect(await hubText(hub)).toContain(pseudonym);
  });
});
