import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaysElsewhereUpdates } from '../../edge/directory/days-elsewhere.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, signBody } from '../../shared/protocol/signing.js';
import type { DaysElsewhere } from '../../shared/protocol/sync.js';
import type { Harness } from '../harness/site.js';
import { startSite, UID } from '../harness/site.js';
import { silent } from '../support/logger.js';

const HUB = generateHubKeys();
const OTHER = generateHubKeys();
/** Wednesday 25 November 2026, 09:00 in Paris. */
const WEDNESDAY = '2026-11-25T08:00:00Z';
const sites: Harness[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of sites.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function site(storagePath = ':memory:', start = WEDNESDAY) {
  const s = await startSite(
    { directory: { source: 'hub' }, broker: { url: 'mqtt://127.0.0.1:1', hubPublicKey: HUB.publicKeyPem } },
    undefined,
    start,
    storagePath,
  );
  sites.push(s);
  const updates = new DaysElsewhereUpdates({
    site: 'murat',
    publicKey: hubPublicKey(HUB.publicKeyPem),
    edge: s.edge,
    log: silent,
  });
  let second = 0;
  const body = (members: DaysElsewhere['members'], extra: Partial<DaysElsewhere> = {}): DaysElsewhere => ({
    v: 1,
    site: 'murat',
    issuedAt: new Date(s.clock.now() + ++second * 1000).toISOString(),
    members,
    ...extra,
  });
  const send = (b: DaysElsewhere, key = HUB.privateKeyPem) =>
    updates.receive(JSON.stringify({ body: b, signature: signBody(b, hubPrivateKey(key)) }));
  return { s, updates, body, send };
}

const faults = (s: Harness) =>
  s.events().filter((e) => e.type === 'device.fault' && e.data.kind === 'directory.rejected');

describe('days a week counted with the days used at the other sites', () => {
  it('refuses a third day to a member on a 2-days plan who came twice this week elsewhere; a day already spent elsewhere today costs nothing', async () => {
    const { s, body, send } = await site();
    expect(send(body([{ member: 'chloe', days: ['2026-11-23', '2026-11-24'] }]))).toEqual({
      applied: true,
      members: 1,
    });
    expect(s.tap('front-in', UID.chloe)).toMatchObject({ granted: false, reason: 'quota_exhausted' });

    expect(send(body([{ member: 'chloe', days: ['2026-11-23', '2026-11-25'] }]))).toEqual({
      applied: true,
      members: 1,
    });
    expect(s.tap('front-in', UID.chloe)).toMatchObject({ granted: true });
  });

  it('counts only the days of the current week: last week elsewhere spends nothing', async () => {
    const { s, body, send } = await site();
    send(body([{ member: 'chloe', days: ['2026-11-18', '2026-11-19', '2026-11-20'] }]));
    expect(s.tap('front-in', UID.chloe)).toMatchObject({ granted: true });
  });

  it('refuses a forged, a foreign and a malformed message, recording each, and drops a replay quietly; the days in force stay', async () => {
    const { s, updates, body, send } = await site();
    const genuine = body([{ member: 'chloe', days: ['2026-11-23'] }]);
    const signed = JSON.stringify({ body: genuine, signature: signBody(genuine, hubPrivateKey(HUB.privateKeyPem)) });
    expect(updates.receive(signed)).toMatchObject({ applied: true });
    const spend = [{ member: 'chloe', days: ['2026-11-23', '2026-11-24'] }];
    expect(send(body(spend), OTHER.privateKeyPem)).toMatchObject({ refused: 'forged' });
    expect(send(body(spend, { site: 'allanche' }))).toMatchObject({ refused: 'foreign' });
    expect(
      updates.receive(
        JSON.stringify({
          body: { ...body(spend), members: [{ member: 'chloe', days: ['not a day'] }] },
          signature: 'x',
        }),
      ),
    ).toMatchObject({ refused: 'malformed' });
    expect(updates.receive(signed)).toMatchObject({ refused: 'replayed' });
    expect(send(body(spend, { issuedAt: '2026-11-01T00:00:00.000Z' }))).toMatchObject({ refused: 'replayed' });
    expect(faults(s)).toHaveLength(3);
    expect(s.store.daysElsewhere.daysFrom('chloe', '2026-11-23')).toEqual(['2026-11-23']);
    expect(s.tap('front-in', UID.chloe)).toMatchObject({ granted: true });
  });

  it('keeps the last days heard across a restart: a site cut off from the hub still counts them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-days-'));
    dirs.push(dir);
    const path = join(dir, 'edge.db');
    const first = await site(path);
    first.send(first.body([{ member: 'chloe', days: ['2026-11-23', '2026-11-24'] }]));
    await first.s.stop();
    sites.splice(sites.indexOf(first.s), 1);
    const again = await site(path);
    expect(again.s.tap('front-in', UID.chloe)).toMatchObject({ granted: false, reason: 'quota_exhausted' });
  });
});
