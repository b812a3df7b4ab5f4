import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { HubDirectoryUpdates } from '../../edge/directory/hub-updates.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, signBody } from '../../shared/protocol/signing.js';
import type { DirectoryChange, DirectoryUpdate } from '../../shared/protocol/sync.js';
import type { Harness } from '../harness/site.js';
import { BASE_DIRECTORY, startSite, UID } from '../harness/site.js';
import { silent } from '../support/logger.js';

const HUB = generateHubKeys();
const OTHER = generateHubKeys();
let site: Harness | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

async function hubSite() {
  site = await startSite({
    directory: { source: 'hub', maxAgeHours: { visitor: 1 } },
    broker: { url: 'mqtt://127.0.0.1:1', hubPublicKey: HUB.publicKeyPem },
  });
  const updates = new HubDirectoryUpdates({
    site: 'murat',
    publicKey: hubPublicKey(HUB.publicKeyPem),
    edge: site.edge,
    log: silent,
  });
  let minute = 0;
  const issued = () => new Date(site!.clock.now() + ++minute * 1000).toISOString();
  const delta = (from: number, to: number, changes: DirectoryChange[], extra: Partial<DirectoryUpdate> = {}) =>
    ({ v: 1, site: 'murat', kind: 'delta', from, to, issuedAt: issued(), changes, ...extra }) as DirectoryUpdate;
  const send = (body: DirectoryUpdate, key = HUB.privateKeyPem) =>
    updates.receive(JSON.stringify({ body, signature: signBody(body, hubPrivateKey(key)) }));
  return { site, updates, delta, send, issued };
}

const revokeAlice: DirectoryChange = {
  entity: 'badge',
  op: 'upsert',
  value: { uid: UID.alice, member: 'alice', status: 'revoked', type: 'uid' },
};

describe('directory updates from the hub', () => {
  it('a signed delta that revokes a badge stops it at the next tap', async () => {
    const { site, delta, send } = await hubSite();
    expect(site.tap('front-in', UID.alice).granted).toBe(true);
    expect(send(delta(1, 2, [revokeAlice]))).toEqual({ applied: true, revision: 2 });
    expect(site.tap('front-in', UID.alice)).toMatchObject({ granted: false, reason: 'badge_revoked' });
    expect(site.store.directory.describe()?.revision).toBe(2);
  });

  it('refuses a forged, a foreign and an older update and records each; the update in force received again is no fault', async () => {
    const { site, updates, delta, send } = await hubSite();
    expect(send(delta(1, 2, [revokeAlice]), OTHER.privateKeyPem)).toMatchObject({ refused: 'forged' });
    expect(send(delta(1, 2, [revokeAlice], { site: 'allanche' }))).toMatchObject({ refused: 'foreign' });
    const genuine = delta(1, 2, []);
    const signed = JSON.stringify({ body: genuine, signature: signBody(genuine, hubPrivateKey(HUB.privateKeyPem)) });
    expect(updates.receive(signed)).toMatchObject({ applied: true });
    // The update in force received again (a QoS 1 redelivery) is harmless: ignored, not recorded.
    expect(updates.receive(signed)).toEqual({ applied: false, duplicate: true });
    expect(send(delta(0, 1, [revokeAlice]))).toMatchObject({ refused: 'replayed' });
    expect(site.tap('front-in', UID.alice).granted).toBe(true);
    const rejected = site.events().filter((e) => e.type === 'device.fault' && e.data.kind === 'directory.rejected');
    expect(rejected).toHaveLength(3);
  });

  it('a delta that does not follow on is refused quietly, so the status can ask for the right one', async () => {
    const { site, updates, delta, send } = await hubSite();
    expect(updates.missed()).toBeUndefined();
    expect(send(delta(5, 6, [revokeAlice]))).toMatchObject({ refused: 'out_of_order' });
    expect(send(delta(3, 4, []))).toMatchObject({ refused: 'out_of_order' });
    expect(site.events().some((e) => e.type === 'device.fault' && e.data.kind === 'directory.rejected')).toBe(false);
    expect(site.store.directory.describe()?.revision).toBe(1);
    // What the status tells the hub: the newest revision refused, until an update applies again.
    expect(updates.missed()).toBe(6);
    expect(send(delta(1, 2, [revokeAlice]))).toEqual({ applied: true, revision: 2 });
    expect(updates.missed()).toBeUndefined();
  });

  it('a delta that would leave a badge without its member changes nothing', async () => {
    const { site, delta, send } = await hubSite();
    const orphan: DirectoryChange = {
      entity: 'badge',
      op: 'upsert',
      value: { uid: '04ABABABABABAB', member: 'nobody', status: 'active', type: 'uid' },
    };
    expect(send(delta(1, 2, [revokeAlice, orphan]))).toMatchObject({ refused: 'inconsistent' });
    expect(site.tap('front-in', UID.alice).granted).toBe(true);
    expect(site.store.directory.describe()?.revision).toBe(1);
  });

  it('a snapshot in chunks replaces the directory only once every chunk has arrived', async () => {
    const { site, send, issued } = await hubSite();
    const upserts = (entity: 'plan' | 'member' | 'badge', values: unknown[]) =>
      values.map((value) => ({ entity, op: 'upsert', value }) as DirectoryChange);
    const issuedAt = issued();
    const chunk = (n: number, changes: DirectoryChange[]) =>
      ({ v: 1, site: 'murat', kind: 'snapshot', to: 9, issuedAt, chunk: n, chunks: 2, changes }) as DirectoryUpdate;
    expect(send(chunk(1, upserts('badge', [{ uid: UID.bob, member: 'bob' }])))).toEqual({
      applied: false,
      pending: true,
    });
    expect(site.tap('front-in', UID.alice).granted).toBe(true);
    expect(
      send(
        chunk(0, [
          ...upserts('plan', [BASE_DIRECTORY.plans?.[0]]),
          ...upserts('member', [{ id: 'bob', name: 'Bob', plan: 'always' }]),
        ]),
      ),
    ).toEqual({ applied: true, revision: 9 });
    expect(site.tap('front-in', UID.alice)).toMatchObject({ granted: false, reason: 'unknown_badge' });
    expect(site.tap('front-in', UID.bob).granted).toBe(true);
  });

  it('garbage never throws and never changes the directory', async () => {
    const { site, updates } = await hubSite();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify({ body: v, signature: 'AAAA' })),
        ),
        (payload) => {
          expect(updates.receive(payload).applied).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
    expect(site.store.directory.describe()?.revision).toBe(1);
  });
});

describe('a stale directory', () => {
  it('past a role’s maximum age refuses that role and admits the roles still within theirs, until the hub confirms it', async () => {
    const { site, delta, send } = await hubSite();
    const visitorDirectory = {
      entity: 'member',
      op: 'upsert',
      value: { id: 'eve', name: 'Eve Blanc', plan: 'always', role: 'visitor' },
    } as DirectoryChange;
    send(delta(1, 2, [visitorDirectory]));
    expect(site.tap('front-in', UID.eve).granted).toBe(true);
    site.tap('front-out', UID.eve);
    site.clock.advance(61 * 60_000);
    expect(site.tap('front-in', UID.eve)).toMatchObject({ granted: false, reason: 'directory_stale' });
    expect(site.tap('front-in', UID.alice)).toMatchObject({ granted: true });
    expect(send(delta(2, 2, []))).toEqual({ applied: true, revision: 2 });
    expect(site.tap('front-in', UID.eve).granted).toBe(true);
  });
});
