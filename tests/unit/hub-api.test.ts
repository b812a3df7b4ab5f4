import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { topics } from '../../shared/protocol/topics.js';
import { batchOf, statusOf, json } from '../harness/hub-fixtures.js';
import { login, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

const t = topics();

describe('hub API (in memory)', () => {
  let hub: Hub;
  let clock: ManualClock;
  let headers: AuthHeaders;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-23T08:00:00Z');
    hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    hub.ingest.onMessage(t.events('murat'), json(batchOf('murat', 1, 3)));
    hub.ingest.onMessage(t.events('murat'), json(batchOf('murat', 6, 6)));
    hub.ingest.onMessage(t.status('murat'), json(statusOf('murat', { lastSeq: 9, ackedSeq: 3 })));
    hub.ingest.onMessage(t.events('lyon'), Buffer.from('not json'));
    await hub.ingest.commitGroup();
    clock.advance(60_000);
  });
  afterEach(async () => hub.stop());

  it('GET /health says degraded while the hub is not connected to its broker, with its counters', async () => {
    const r = await hub.api.inject({ method: 'GET', url: '/health' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      status: 'degraded',
      mqtt: { connected: false },
      uptimeSeconds: 60,
      sites: 1,
      ingest: { received: 4, applied: 4, rejected: 1 },
    });
  });

  it('GET /sites shows each site: online, contiguous, max seen, missing, backlog as reported', async () => {
    const r = await hub.api.inject({ method: 'GET', url: '/sites', headers });
    expect(r.json()).toEqual({
      sites: [
        {
          site: 'murat',
          online: true,
          contiguous: 3,
          maxSeen: 6,
          missing: [[4, 5]],
          lastEventAt: batchOf('murat', 6, 6).events[0]?.at,
          backlog: 6,
          statusAt: '2026-11-23T08:00:00.000Z',
          status: statusOf('murat', { lastSeq: 9, ackedSeq: 3 }),
        },
      ],
    });
  });

  it('GET /sites/:site/events pages by seq', async () => {
    const r = await hub.api.inject({ method: 'GET', url: '/sites/murat/events?after=1&limit=2', headers });
    expect(r.statusCode).toBe(200);
    const body = r.json<{ contiguous: number; events: Array<{ seq: number; event: { seq: number } }> }>();
    expect(body.contiguous).toBe(3);
    expect(body.events.map((e) => e.seq)).toEqual([2, 3]);
    expect(body.events[0]?.event.seq).toBe(2);
  });

  it('answers bad queries with 400 and the path, unknown sites with 404, with stable codes', async () => {
    const bad = await hub.api.inject({ method: 'GET', url: '/sites/murat/events?limit=0', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'limit' }] });
    const badSite = await hub.api.inject({ method: 'GET', url: '/sites/Not%20A%20Site/events', headers });
    expect(badSite.statusCode).toBe(400);
    const unknown = await hub.api.inject({ method: 'GET', url: '/sites/paris/events', headers });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'not_found' });
    expect((await hub.api.inject({ method: 'GET', url: '/nope', headers })).json()).toMatchObject({
      code: 'not_found',
    });
  });

  it('GET /dead-letters lists refused messages, newest first', async () => {
    const r = await hub.api.inject({ method: 'GET', url: '/dead-letters?limit=5', headers });
    expect(r.json()).toMatchObject({
      deadLetters: [{ topic: t.events('lyon'), reason: 'payload.not_json', payload: 'not json' }],
    });
  });

  it('stop is idempotent', async () => {
    await hub.stop();
    await hub.stop();
  });
});
