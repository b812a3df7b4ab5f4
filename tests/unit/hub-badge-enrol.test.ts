import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { loginAs, signedInHubWithMembers, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

const UID = '04A1B2C3D4E5F6';

describe('POST /directory/badges/:uid/enrol: a badge given to a member, never taken from another', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    ({ hub, admin } = await signedInHubWithMembers(silent, { ana: 'ana', bob: 'bob' }));
  });
  afterEach(async () => hub.stop());

  const enrol = (uid: string, payload: object, headers = admin) =>
    hub.api.inject({ method: 'POST', url: `/directory/badges/${uid}/enrol`, headers, payload });
  const badge = async (uid: string) =>
    (await hub.api.inject({ method: 'GET', url: `/directory/badges/${uid}`, headers: admin })).json<{
      item?: unknown;
    }>().item;

  it('creates the badge, and the same member enrolling it again is no conflict: active again, with the new type', async () => {
    const first = await enrol('04:a1:b2:c3:d4:e5:f6', { member: 'ana', type: 'uid' });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ value: { uid: UID, member: 'ana', status: 'active', type: 'uid' } });
    const revoked = await hub.api.inject({ method: 'POST', url: `/directory/badges/${UID}/revoke`, headers: admin });
    expect(revoked.statusCode).toBe(200);
    const again = await enrol(UID, { member: 'ana', type: 'ntag424' });
    expect(again.statusCode).toBe(200);
    expect(await badge(UID)).toEqual({ uid: UID, member: 'ana', status: 'active', type: 'ntag424' });
    const audit = (await hub.api.inject({ method: 'GET', url: '/audit?limit=5', headers: admin })).json<{
      items: Array<{ action: string; entity: string }>;
    }>();
    expect(audit.items.filter((a) => a.entity === 'badge').map((a) => a.action)).toEqual([
      'update',
      'revoke',
      'create',
    ]);
  });

  it('refuses 409 a badge registered to another member, and leaves it theirs', async () => {
    expect((await enrol(UID, { member: 'ana', type: 'ntag424' })).statusCode).toBe(200);
    const stolen = await enrol(UID, { member: 'bob', type: 'ntag424' });
    expect(stolen.statusCode).toBe(409);
    expect(stolen.json()).toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/already registered to member "ana"/),
    });
    expect(await badge(UID)).toMatchObject({ member: 'ana', status: 'active' });
    // PUT still replaces (the dashboard's edit); enrol is the create-or-same-member request.
    const revision = (await hub.api.inject({ method: 'GET', url: '/directory', headers: admin })).json<{
      revision: number;
    }>().revision;
    expect((await enrol(UID, { member: 'bob', type: 'uid' })).statusCode).toBe(409);
    expect((await hub.api.inject({ method: 'GET', url: '/directory', headers: admin })).json()).toMatchObject({
      revision,
    });
  });

  it('refuses an unknown member, a bad type or UID, and a site manager giving a badge outside their sites', async () => {
    expect((await enrol(UID, { member: 'nobody', type: 'uid' })).statusCode).toBe(400);
    expect((await enrol(UID, { member: 'ana', type: 'mifare' })).statusCode).toBe(400);
    expect((await enrol('not-a-uid', { member: 'ana', type: 'uid' })).statusCode).toBe(404);
    const manager = await loginAs(hub.api, admin, { username: 'manager', role: 'site_manager', sites: ['murat'] });
    expect((await enrol(UID, { member: 'ana', type: 'uid' }, manager)).statusCode).toBe(403);
    expect(await badge(UID)).toBeUndefined();
  });
});
