import { describe, expect, it } from 'vitest';
import { edgeApiFixture } from '../harness/edge-api.js';
import { UID } from '../harness/site.js';

const fixture = edgeApiFixture();
const withApi = (simulated = true) => fixture({ simulated });

describe('the local API', () => {
  it('a simulated tap answers with the decision, and occupancy shows who is in', async () => {
    const { app } = await withApi();
    const tap = await app.inject({
      method: 'POST',
      url: '/simulate/tap',
      payload: { reader: 'front-in', uid: '04:a1:a1:a1:a1:a1:a1' },
    });
    expect(tap.statusCode).toBe(200);
    expect(tap.json()).toMatchObject({ granted: true, reason: 'ok', door: 'front', memberId: 'alice' });
    const occ = await app.inject({ url: '/occupancy' });
    expect(occ.json()).toMatchObject({
      site: 'murat',
      count: 1,
      capacity: 3,
      present: [{ memberId: 'alice', name: 'Alice Martin', since: '2026-11-23T09:00:00.000+01:00' }],
    });
  });

  it('a tap at a given time is decided at that time', async () => {
    const { app } = await withApi();
    const sunday = await app.inject({
      method: 'POST',
      url: '/simulate/tap',
      payload: { reader: 'front-in', uid: UID.bob, at: '2026-11-22T10:00:00+01:00' },
    });
    expect(sunday.json()).toMatchObject({ granted: false, reason: 'outside_hours' });
  });

  it('bad bodies are refused with a code and the path of each problem', async () => {
    const { app } = await withApi();
    const r = await app.inject({
      method: 'POST',
      url: '/simulate/tap',
      payload: { reader: 'front-in', uid: 42, extra: true },
    });
    expect(r.statusCode).toBe(400);
    const body = r.json<{ code: string; details: Array<{ path: string; message: string }> }>();
    expect(body.code).toBe('request.invalid');
    expect(body.details.map((d) => d.path).sort()).toEqual(['extra', 'uid']);
    const junk = await app.inject({
      method: 'POST',
      url: '/simulate/tap',
      headers: { 'content-type': 'application/json' },
      payload: '{"reader":',
    });
    expect(junk.statusCode).toBe(400);
    expect(junk.json()).toMatchObject({ code: 'request.invalid' });
    const badUid = await app.inject({
      method: 'POST',
      url: '/simulate/tap',
      payload: { reader: 'front-in', uid: 'not-hex' },
    });
    expect(badUid.statusCode).toBe(400);
    expect(badUid.json()).toMatchObject({ code: 'request.invalid', details: [{ path: 'uid' }] });
  });

  it('an unknown reader or door is a 404 that names what exists', async () => {
    const { app } = await withApi();
    const r = await app.inject({ method: 'POST', url: '/simulate/tap', payload: { reader: 'back', uid: UID.alice } });
    expect(r.statusCode).toBe(404);
    expect(r.json<{ message: string }>().message).toContain('front-in');
    expect(
      (await app.inject({ method: 'POST', url: '/simulate/doors/back', payload: { open: true } })).statusCode,
    ).toBe(404);
    expect((await app.inject({ url: '/nowhere' })).json()).toMatchObject({ code: 'not_found' });
  });

  it('events are paged by seq, and a bad query is refused', async () => {
    const { app, site } = await withApi();
    site.tap('front-in', UID.alice);
    site.tap('front-in', UID.revoked);
    const all = (await app.inject({ url: '/events?after=0&limit=1000' })).json<{
      events: Array<{ seq: number; type: string }>;
      lastSeq: number;
    }>();
    expect(all.events.map((e) => e.seq)).toEqual(Array.from({ length: all.lastSeq }, (_, i) => i + 1));
    const page = (await app.inject({ url: `/events?after=${all.lastSeq - 1}&limit=5` })).json<{
      events: Array<{ type: string }>;
    }>();
    expect(page.events.map((e) => e.type)).toEqual(['access.denied']);
    const bad = await app.inject({ url: '/events?after=-1&limit=abc' });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['after', 'limit']);
  });

  it('the simulated door contact drives the forced-open alarm, visible in /doors and /health', async () => {
    const { app } = await withApi();
    const r = await app.inject({ method: 'POST', url: '/simulate/doors/front', payload: { open: true } });
    expect(r.statusCode).toBe(200);
    const doors = (await app.inject({ url: '/doors' })).json<{
      doors: Array<{ id: string; alarm: string | null; contact: string }>;
    }>();
    expect(doors.doors[0]).toMatchObject({ id: 'front', contact: 'open', alarm: 'forced' });
    const health = (await app.inject({ url: '/health' })).json<{ status: string; alarms: unknown[] }>();
    expect(health).toMatchObject({ status: 'degraded', alarms: [{ door: 'front', alarm: 'forced' }] });
  });

  it('the exit button route presses and releases the button', async () => {
    const { app, site } = await withApi();
    site.tap('front-in', UID.alice);
    expect((await app.inject({ method: 'POST', url: '/simulate/exit/front', payload: {} })).statusCode).toBe(200);
    site.clock.advance(1000);
    expect(site.store.presence.occupancy()).toBe(0);
  });

  it('without simulated hardware there is no /simulate route', async () => {
    const { app } = await withApi(false);
    expect(
      (await app.inject({ method: 'POST', url: '/simulate/tap', payload: { reader: 'front-in', uid: UID.alice } }))
        .statusCode,
    ).toBe(404);
    expect((await app.inject({ url: '/health' })).json()).toMatchObject({
      status: 'ok',
      site: 'murat',
      simulated: false,
    });
  });

  it('lockers can be listed and released on request', async () => {
    const { app, site } = await withApi();
    site.tap('lockers', UID.alice);
    const banks = (await app.inject({ url: '/lockers' })).json<{
      banks: Array<{ id: string; lockers: Array<{ member: string | null }> }>;
    }>();
    expect(banks.banks.find((b) => b.id === 'bank-a')?.lockers[0]?.member).toBe('alice');
    expect((await app.inject({ method: 'POST', url: '/lockers/bank-a/1/release', payload: {} })).json()).toEqual({
      released: true,
    });
    expect((await app.inject({ method: 'POST', url: '/lockers/bank-z/1/release', payload: {} })).statusCode).toBe(404);
    expect((await app.inject({ method: 'POST', url: '/lockers/bank-a/zero/release', payload: {} })).statusCode).toBe(
      400,
    );
  });

  it('serves the same answers over a real loopback socket', async () => {
    const { app } = await withApi();
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const tap = await fetch(`${url}/simulate/tap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reader: 'front-in', uid: UID.dan }),
    });
    expect(await tap.json()).toMatchObject({ granted: true, memberId: 'dan' });
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ site: 'murat', occupancy: 1 });
  });
});

describe('the local API and readers', () => {
  it('shows each reader attached or not, and a lost reader makes the site degraded and is recorded', async () => {
    const { app, site } = await withApi();
    const healthy = (await app.inject({ url: '/health' })).json<{
      status: string;
      readers: Array<{ id: string; attached: string | null }>;
    }>();
    expect(healthy.status).toBe('ok');
    expect(healthy.readers.find((r) => r.id === 'front-in')?.attached).toBe('front-in');
    site.reader.unplug('front-in', 'USB cable pulled');
    const degraded = (await app.inject({ url: '/health' })).json<{
      status: string;
      readers: Array<{ id: string; attached: string | null }>;
    }>();
    expect(degraded.status).toBe('degraded');
    expect(degraded.readers.find((r) => r.id === 'front-in')?.attached).toBeNull();
    site.reader.plug('front-in');
    const faults = site
      .events()
      .filter((e) => e.type === 'device.fault')
      .map((e) => e.data);
    expect(faults).toEqual([
      { device: 'front-in', kind: 'reader.lost', detail: 'USB cable pulled' },
      { device: 'front-in', kind: 'reader.found' },
    ]);
  });
});
