import { describe, expect, it } from 'vitest';
import { CommandSender } from '../../cloud-sync/hub/commands.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { MAX_ENROL_TTL_MS, SignedCommand } from '../../shared/protocol/commands.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, verifyBody } from '../../shared/protocol/signing.js';
import { loginAs, type AuthHeaders } from '../harness/hub-auth.js';
import { batchOf, json } from '../harness/hub-fixtures.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { silent } from '../support/logger.js';
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
  hubWithSiteReporting(cleanups, { doors: ['front'], readers: ['front-in', 'front-out'] }, opts);

describe('POST /sites/:site/commands with kind enrol: operators only, a reader the site named', () => {
  it('a site manager of that site is refused 403 and nothing is recorded', async () => {
    const { hub, admin } = await hubWithSite();
    const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
    const r = await send(hub, manager, { kind: 'enrol', reader: 'front-in' });
    expect(r.statusCode).toBe(403);
    expect(r.json()).toMatchObject({ code: 'auth.forbidden' });
    expect(await commandAudit(hub, admin)).toEqual([]);
  });

  it('a reader the site did not name in its status is 404; a site that named none is 409; nothing audited', async () => {
    const { hub, admin } = await hubWithSite();
    const vault = await send(hub, admin, { kind: 'enrol', reader: 'vault-in' });
    expect(vault.statusCode).toBe(404);
    expect(vault.json()).toMatchObject({ code: 'not_found', message: expect.stringContaining('front-in, front-out') });
    await reportStatus(hub, { doors: ['front'] });
    const older = await send(hub, admin, { kind: 'enrol', reader: 'front-in' });
    expect(older.statusCode).toBe(409);
    expect(older.json()).toMatchObject({ code: 'conflict', message: expect.stringContaining('readers') });
    expect(await commandAudit(hub, admin)).toEqual([]);
  });

  it.each([
    ['an enrol without a reader', { kind: 'enrol' }],
    ['an enrol with a validity of its own', { kind: 'enrol', reader: 'front-in', ttlSeconds: 3600 }],
  ])('%s is answered 400', async (_name, payload) => {
    const { hub, admin } = await hubWithSite();
    expect((await send(hub, admin, payload)).statusCode).toBe(400);
  });

  it("an operator's enrol is signed, audited and published, valid 60 s", async () => {
    const { hub, admin } = await hubWithSite({ started: true });
    const received = await commandsReceived(hub, cleanups);

    const r = await send(hub, admin, { kind: 'enrol', reader: 'front-out' });
    expect(r.statusCode).toBe(202);
    await expect.poll(() => received.length).toBe(1);
    const command = SignedCommand.parse(JSON.parse(received[0]?.payload ?? ''));
    expect(command.body).toMatchObject({ kind: 'enrol', reader: 'front-out', site: 'murat' });
    expect(verifyBody(command.body, command.signature, hubPublicKey(hub.publicKeyPem))).toBe(true);
    expect(Date.parse(command.body.expiresAt) - Date.parse(command.body.issuedAt)).toBe(MAX_ENROL_TTL_MS);
    expect((await commandAudit(hub, admin)).map((a) => a.after.kind)).toEqual(['enrol']);
  });

  it('a hub that makes its commands last longer still makes an enrol last 60 s', () => {
    const keys = generateHubKeys();
    const sender = new CommandSender({
      key: hubPrivateKey(keys.privateKeyPem),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      publish: () => Promise.resolve(),
      log: silent,
      ttlMs: 5 * 60_000,
    });
    const life = (c: SignedCommand) => Date.parse(c.body.expiresAt) - Date.parse(c.body.issuedAt);
    expect(life(sender.prepare('murat', { kind: 'enrol', reader: 'front-in' }))).toBe(MAX_ENROL_TTL_MS);
    expect(life(sender.prepare('murat', { kind: 'lockdown' }))).toBe(5 * 60_000);
  });
});

/** A batch of one event, a presented card's, as the site sends it. */
function presentedBatch(): EventBatch {
  const batch = batchOf('murat', 1, 1);
  const presented: SiteEvent = {
    ...(batch.events[0] as SiteEvent),
    type: 'badge.presented',
    data: {
      reader: 'front-in',
      command: 'kq2Jx9vV0aYc3n1o8bZL4w',
      uid: '04ABCDEF012345',
      badge: '…2345',
      card: 'iso14443-3',
      known: false,
    },
  };
  return { ...batch, events: [presented] };
}

/** Reads a live stream until a `badge.presented` event comes, and gives its data. */
async function presentedOn(body: ReadableStream<Uint8Array>): Promise<Record<string, unknown>> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended before the event: ${text}`);
    text += decoder.decode(value, { stream: true });
    const line = text.split('\n').find((l) => l.startsWith('data: ') && l.includes('"badge.presented"'));
    if (line) {
      await reader.cancel();
      return (JSON.parse(line.slice('data: '.length)) as { data: Record<string, unknown> }).data;
    }
  }
}

describe('the whole UID of a presented card is for operators only', () => {
  it('the live stream gives it to an operator; a site manager of the site gets the event without it', async () => {
    const { hub, admin, apiUrl } = await hubWithSite({ started: true });
    const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
    const open = async (headers: AuthHeaders) => {
      const controller = new AbortController();
      cleanups.push(() => controller.abort());
      const res = await fetch(`${apiUrl}/events/stream`, {
        headers: { authorization: headers.authorization },
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      return res.body as ReadableStream<Uint8Array>;
    };
    const [asOperator, asManager] = await Promise.all([open(admin), open(manager)]);
    const operatorSees = presentedOn(asOperator);
    const managerSees = presentedOn(asManager);
    hub.ingest.onMessage('tessera/v1/sites/murat/events', json(presentedBatch()));
    expect(await operatorSees).toMatchObject({ uid: '04ABCDEF012345', badge: '…2345' });
    const seen = await managerSees;
    expect(seen).toMatchObject({ badge: '…2345', reader: 'front-in' });
    expect(seen).not.toHaveProperty('uid');
  });

  it('GET /sites/:site/events gives it to an operator; a site manager of the site gets the event without it', async () => {
    const { hub, admin } = await hubWithSite();
    hub.ingest.onMessage('tessera/v1/sites/murat/events', json(presentedBatch()));
    await hub.ingest.settled();
    await hub.ingest.commitGroup();
    const read = async (headers: AuthHeaders) =>
      (await hub.api.inject({ method: 'GET', url: '/sites/murat/events?after=0', headers }))
        .json<{
          events: Array<{ event: SiteEvent }>;
        }>()
        .events.map((e) => e.event.data);
    expect(await read(admin)).toEqual([expect.objectContaining({ uid: '04ABCDEF012345', badge: '…2345' })]);
    const manager = await loginAs(hub.api, admin, { username: 'manon', role: 'site_manager', sites: ['murat'] });
    const seen = await read(manager);
    expect(seen).toEqual([expect.objectContaining({ badge: '…2345', reader: 'front-in' })]);
    expect(seen[0]).not.toHaveProperty('uid');
  });
});
