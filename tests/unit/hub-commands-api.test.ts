import { describe, expect, it } from 'vitest';
import { DEFAULT_COMMAND_TTL_MS, SignedCommand } from '../../shared/protocol/commands.js';
import { hubPublicKey, verifyBody } from '../../shared/protocol/signing.js';
import { loginAs } from '../harness/hub-auth.js';
import {
  commandAudit,
  commandsReceived,
  hubWithSite as hubWithSiteReporting,
  reportStatus,
  sendCommand as send,
} from '../harness/hub-commands.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const cleanups = cleanupsAfterEach();

const hubWithSite = (opts: { started?: boolean } = {}) =>
  hubWithSiteReporting(cleanups, { doors: ['front', 'back'] }, opts);

describe('POST /sites/:site/commands: network operators only, audited, the answer says whether the broker took it', () => {
  it('a site manager, even of that site, is refused and nothing is recorded', async () => {
    const { hub, admin } = await hubWithSite();
    const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
    const r = await send(hub, manager, { kind: 'unlock', door: 'front' });
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'auth.forbidden' });
    expect(await commandAudit(hub, admin)).toEqual([]);
  });

  it.each([
    ['an unlock without a door', { kind: 'unlock' }],
    ['an unknown kind', { kind: 'open_all' }],
    ['a resend from seq 0', { kind: 'resend', fromSeq: 0 }],
    ['an extra field', { kind: 'lockdown', ttlSeconds: 86_400 }],
    ['no body', undefined],
  ])('%s is answered 400 request.invalid', async (_name, payload) => {
    const { hub, admin } = await hubWithSite();
    const r = await send(hub, admin, payload);
    expect(r.statusCode).toBe(400);
    expect(r.json()).toMatchObject({ code: 'request.invalid' });
    expect(await commandAudit(hub, admin)).toEqual([]);
  });

  it('a site neither declared nor heard from is answered 404', async () => {
    const { hub, admin } = await hubWithSite();
    expect((await send(hub, admin, { kind: 'lockdown' }, 'lyon')).json()).toMatchObject({ code: 'not_found' });
  });

  it('without a broker connection the answer is 503 sync.rejected, and the attempt is in the audit log', async () => {
    const { hub, admin } = await hubWithSite();
    const r = await send(hub, admin, { kind: 'lockdown' });
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({
      code: 'sync.rejected',
      message: expect.stringMatching(/not taken by the broker/),
    });
    expect(await commandAudit(hub, admin)).toEqual([
      expect.objectContaining({
        actor: expect.objectContaining({ username: 'admin' }),
        action: 'create',
        entityId: 'murat',
        after: expect.objectContaining({ kind: 'lockdown', site: 'murat' }),
      }),
    ]);
  });

  it('published QoS 1, not retained, signed by the hub key over the body, valid 60 s, with a fresh nonce each time', async () => {
    const { hub, admin } = await hubWithSite({ started: true });
    const received = await commandsReceived(hub, cleanups);

    const first = await send(hub, admin, { kind: 'unlock', door: 'front' });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ published: true, item: { kind: 'unlock', door: 'front', site: 'murat' } });
    expect((await send(hub, admin, { kind: 'resend', fromSeq: 12 })).statusCode).toBe(202);
    await expect.poll(() => received.length).toBe(2);

    const commands = received.map((m) => SignedCommand.parse(JSON.parse(m.payload)));
    expect(received.map((m) => [m.qos, m.retain])).toEqual([
      [1, false],
      [1, false],
    ]);
    for (const c of commands) {
      expect(verifyBody(c.body, c.signature, hubPublicKey(hub.publicKeyPem))).toBe(true);
      expect(Date.parse(c.body.expiresAt) - Date.parse(c.body.issuedAt)).toBe(DEFAULT_COMMAND_TTL_MS);
    }
    expect(commands[0]?.body.nonce).not.toBe(commands[1]?.body.nonce);
    expect(commands[0]?.body).toEqual(first.json<{ item: unknown }>().item);
    expect((await commandAudit(hub, admin)).map((a) => a.after.nonce)).toEqual([
      commands[1]?.body.nonce,
      commands[0]?.body.nonce,
    ]);
  });

  it('an unlock of a door the site does not have is refused at the hub: 404 not_found from the doors in its status, nothing audited or published', async () => {
    const { hub, admin } = await hubWithSite({ started: true });
    const received = await commandsReceived(hub, cleanups);

    const garage = await send(hub, admin, { kind: 'unlock', door: 'garage' });
    expect(garage.statusCode).toBe(404);
    expect(garage.json()).toMatchObject({ code: 'not_found', message: expect.stringContaining('"garage"') });
    expect(await commandAudit(hub, admin)).toEqual([]);
    expect((await send(hub, admin, { kind: 'unlock', door: 'back' })).statusCode).toBe(202);
    await expect.poll(() => received.length).toBe(1);
    expect(SignedCommand.parse(JSON.parse(received[0]?.payload ?? '')).body).toMatchObject({
      kind: 'unlock',
      door: 'back',
    });
  });

  it('a site whose status has not named its doors gets no unlock (409 conflict), but a lockdown still goes', async () => {
    const { hub, admin } = await hubWithSite();
    await reportStatus(hub, {});
    const r = await send(hub, admin, { kind: 'unlock', door: 'front' });
    expect(r.statusCode).toBe(409);
    expect(r.json()).toMatchObject({ code: 'conflict', message: expect.stringContaining('doors') });
    expect(await commandAudit(hub, admin)).toEqual([]);
    expect((await send(hub, admin, { kind: 'lockdown' })).statusCode).toBe(503);
  });
});
