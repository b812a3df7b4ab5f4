import { afterEach, describe, expect, it } from 'vitest';
import { HubDirectoryUpdates } from '../../edge/directory/hub-updates.js';
import { pseudonymOf } from '../../shared/protocol/erasure.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, signBody } from '../../shared/protocol/signing.js';
import type { DirectoryChange, DirectoryUpdate } from '../../shared/protocol/sync.js';
import { BASE_DIRECTORY, startSite, UID, type Harness } from '../harness/site.js';
import { silent } from '../support/logger.js';

const HUB = generateHubKeys();
const SALT = '0123456789abcdef0123456789abcdef';
const ALICE = pseudonymOf(SALT, 'alice');
const eraseAlice: DirectoryChange = { entity: 'member', op: 'erase', pseudonym: ALICE, salt: SALT };

let site: Harness | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

async function hubSite() {
  const s = await startSite({
    directory: { source: 'hub', maxAgeHours: 24 },
    broker: { url: 'mqtt://127.0.0.1:1', hubPublicKey: HUB.publicKeyPem },
  });
  site = s;
  const updates = new HubDirectoryUpdates({
    site: 'murat',
    publicKey: hubPublicKey(HUB.publicKeyPem),
    edge: s.edge,
    log: silent,
  });
  let n = 0;
  const issuedAt = () => new Date(s.clock.now() + ++n * 1000).toISOString();
  const send = (body: DirectoryUpdate) =>
    updates.receive(JSON.stringify({ body, signature: signBody(body, hubPrivateKey(HUB.privateKeyPem)) }));
  const delta = (from: number, to: number, changes: DirectoryChange[]) =>
    send({ v: 1, site: 'murat', kind: 'delta', from, to, issuedAt: issuedAt(), changes });
  const snapshot = (to: number, changes: DirectoryChange[]) =>
    send({ v: 1, site: 'murat', kind: 'snapshot', to, issuedAt: issuedAt(), chunk: 0, chunks: 1, changes });
  return { site: s, delta, snapshot };
}

/** Every text the site's store holds that could name a member. */
function storeText(s: Harness): string {
  const db = s.store.db;
  return JSON.stringify(
    ['events', 'members', 'badges', 'presence', 'day_usage', 'lockers', 'sun_counters'].map((t) =>
      db.prepare(`SELECT * FROM ${t}`).all(),
    ),
  );
}

describe('a member erased at the hub, at a site', () => {
  it('the delta pseudonymises the member’s events, deletes their badges, and they stay counted in under the pseudonym', async () => {
    const { site, delta } = await hubSite();
    expect(site.tap('front-in', UID.alice).granted).toBe(true);
    expect(site.tap('front-in', UID.bob).granted).toBe(true);
    expect(storeText(site)).toContain('"alice"');
    // What the hub sends: the record under the pseudonym (what billing needs), the badge's tombstone, the erasure.
    const record: DirectoryChange = {
      entity: 'member',
      op: 'upsert',
      value: {
        id: ALICE,
        name: ALICE,
        role: 'member',
        plan: 'always',
        employer: 'acme',
        status: 'suspended',
        locker: { bank: 'bank-b', number: 2 },
      },
    };
    expect(delta(1, 2, [record, { entity: 'badge', op: 'delete', id: UID.alice }, eraseAlice])).toEqual({
      applied: true,
      revision: 2,
    });

    const text = storeText(site);
    for (const personal of ['"alice"', 'Alice Martin', UID.alice, '…A1A1']) expect(text).not.toContain(personal);
    const theirs = site.events().filter((e) => 'memberId' in e.data && e.data.memberId === ALICE);
    expect(theirs.map((e) => e.type)).toEqual(['locker.assigned', 'access.granted', 'presence.in']);
    expect(theirs[1]?.data).toMatchObject({ badge: '…', reason: 'ok' });
    expect(site.events().filter((e) => 'memberId' in e.data && e.data.memberId === 'bob')).toHaveLength(2);
    expect(site.store.presence.occupancy()).toBe(2);
    expect(site.store.lockers.allHeldBy(ALICE)).toMatchObject([{ bank: 'bank-b', number: 2 }]);

    expect(site.tap('front-in', UID.alice)).toMatchObject({ granted: false, reason: 'unknown_badge' });
    expect(site.edge.presence.closeDay(site.clock.now() + 3_600_000)).toBe(2);
    // Both checked in at the same instant: the closing checks them out in either order.
    expect(site.events().slice(-2)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'presence.out',
          data: expect.objectContaining({ memberId: ALICE, cause: 'auto' }),
        }),
        expect.objectContaining({
          type: 'presence.out',
          data: expect.objectContaining({ memberId: 'bob', cause: 'auto' }),
        }),
      ]),
    );
    expect(storeText(site)).not.toContain('"alice"');
  });

  it('the same erasure again (in the next delta or a snapshot) finds nothing more to change', async () => {
    const { site, delta, snapshot } = await hubSite();
    site.tap('front-in', UID.alice);
    delta(1, 2, [eraseAlice]);
    const once = storeText(site);
    expect(delta(2, 3, [eraseAlice])).toEqual({ applied: true, revision: 3 });
    expect(storeText(site)).toBe(once);
    const upserts = [
      ...(BASE_DIRECTORY.plans ?? []).map((value) => ({ entity: 'plan', op: 'upsert', value })),
      ...(BASE_DIRECTORY.employers ?? []).map((value) => ({ entity: 'employer', op: 'upsert', value })),
    ] as DirectoryChange[];
    expect(snapshot(4, [...upserts, eraseAlice])).toEqual({ applied: true, revision: 4 });
    expect(storeText(site)).not.toContain('"alice"');
  });

  it('a site that reconnects to a snapshot learns of the erasure from it: the member is absent and their events pseudonymised', async () => {
    const { site, snapshot } = await hubSite();
    site.tap('front-in', UID.alice);
    site.tap('front-out', UID.alice);
    const bob = BASE_DIRECTORY.members?.find((m) => m.id === 'bob');
    const changes = [
      ...(BASE_DIRECTORY.plans ?? []).map((value) => ({ entity: 'plan', op: 'upsert', value })),
      { entity: 'member', op: 'upsert', value: bob },
      { entity: 'badge', op: 'upsert', value: { uid: UID.bob, member: 'bob' } },
      eraseAlice,
    ] as DirectoryChange[];
    expect(snapshot(9, changes)).toEqual({ applied: true, revision: 9 });
    expect(storeText(site)).not.toContain('"alice"');
    expect(site.events().filter((e) => e.type === 'presence.out' && e.data.memberId === ALICE)).toHaveLength(1);
    expect(site.tap('front-in', UID.bob).granted).toBe(true);
  });

  it('a delta refused as inconsistent takes its erasure with it', async () => {
    const { site, delta } = await hubSite();
    site.tap('front-in', UID.alice);
    const aliceEvents = () => site.events().filter((e) => 'memberId' in e.data && e.data.memberId === 'alice').length;
    const named = aliceEvents();
    const orphan: DirectoryChange = {
      entity: 'badge',
      op: 'upsert',
      value: { uid: '04ABABABABABAB', member: 'nobody', status: 'active', type: 'uid' },
    };
    expect(delta(1, 2, [eraseAlice, orphan])).toMatchObject({ refused: 'inconsistent' });
    expect(aliceEvents()).toBe(named);
    expect(site.store.directory.getMember('alice')?.name).toBe('Alice Martin');
    expect(site.store.presence.list().map((p) => p.member)).toContain('alice');
    expect(site.store.directory.describe()?.revision).toBe(1);
  });

  it('an erasure under another salt, or of someone else, changes nothing here', async () => {
    const { site, delta } = await hubSite();
    site.tap('front-in', UID.alice);
    const before = storeText(site);
    expect(
      delta(1, 2, [
        { entity: 'member', op: 'erase', pseudonym: pseudonymOf('f'.repeat(32), 'alice'), salt: SALT },
        { entity: 'member', op: 'erase', pseudonym: pseudonymOf(SALT, 'zoe'), salt: SALT },
      ]),
    ).toEqual({ applied: true, revision: 2 });
    expect(storeText(site)).toBe(before);
  });
});
