import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Histogram, renderExposition } from '../../shared/platform/metrics.js';
import { buildApi } from '../../edge/api/server.js';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { NewEvent, SiteEvent } from '../../shared/protocol/events.js';
import { topics } from '../../shared/protocol/topics.js';
import { statusOf } from '../harness/hub-fixtures.js';
import { FAST_PASSWORD_COST, TEST_ADMIN, login } from '../harness/hub-auth.js';
import { type Harness, UID, startSite } from '../harness/site.js';
import { testHubDb } from '../harness/hub-db.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { silent } from '../support/logger.js';

const cleanups = cleanupsAfterEach();

describe('Prometheus text exposition', () => {
  it('writes HELP and TYPE, escaped labels, and histograms with cumulative buckets, +Inf, sum and count', () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.5, 0.7, 3]) h.observe(v);
    const text = renderExposition([
      {
        name: 'x_total',
        help: 'Some "things".',
        type: 'counter',
        samples: [{ labels: { site: 'a"b\\c\nd' }, value: 3 }],
      },
      { name: 'lag_seconds', help: 'Lag.', type: 'histogram', histogram: h.snapshot() },
    ]);
    expect(text).toBe(
      [
        '# HELP x_total Some "things".',
        '# TYPE x_total counter',
        'x_total{site="a\\"b\\\\c\\nd"} 3',
        '# HELP lag_seconds Lag.',
        '# TYPE lag_seconds histogram',
        'lag_seconds_bucket{le="0.1"} 1',
        'lag_seconds_bucket{le="1"} 3',
        'lag_seconds_bucket{le="+Inf"} 4',
        'lag_seconds_sum 4.25',
        'lag_seconds_count 4',
        '',
      ].join('\n'),
    );
  });
});

/** The edge API of a test site, closed after the test; `link`: its broker link's state. */
function edgeApi(site: Harness, link?: () => { connected: boolean; unreachableSeconds: number }) {
  const app = buildApi({
    edge: site.edge,
    log: silent,
    clock: site.clock,
    version: 'test',
    startedAt: site.clock.now(),
    ...(link ? { link } : {}),
  });
  cleanups.push(() => app.close());
  return app;
}

describe('GET /metrics on the hub', () => {
  it('needs a login; gives an operator ingest counters, occupancy, backlog, open alarms and decisions by reason; a site manager only their sites', async () => {
    const clock = new ManualClock('2026-11-23T08:00:10Z');
    const hub = await createHub({
      dbPath: await testHubDb(),
      clock,
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    cleanups.push(() => hub.stop());
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 4 });
    await hub.sites.upsert({ id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 4 });
    const t = topics();
    const access = (granted: boolean, reason: string): NewEvent =>
      (granted
        ? { type: 'access.granted', data: { reader: 'in', role: 'entry', badge: '…A1A1', reason } }
        : { type: 'access.denied', data: { reader: 'in', role: 'entry', badge: '…A1A1', reason } }) as NewEvent;
    const events: SiteEvent[] = [
      access(true, 'ok'),
      access(false, 'badge_revoked'),
      access(false, 'badge_revoked'),
      { type: 'presence.in', data: { memberId: 'alice' } } as NewEvent,
      { type: 'door.forced', data: { door: 'front' } } as NewEvent,
    ].map(
      (e, i) =>
        ({ v: 1, site: 'murat', seq: i + 1, id: randomUUID(), at: '2026-11-23T09:00:00+01:00', ...e }) as SiteEvent,
    );
    hub.ingest.onMessage(t.events('murat'), Buffer.from(JSON.stringify({ v: 1, site: 'murat', events })));
    hub.ingest.onMessage(
      t.status('murat'),
      Buffer.from(JSON.stringify(statusOf('murat', { lastSeq: 9, ackedSeq: 5 }))),
    );
    await hub.ingest.commitGroup();

    expect((await hub.api.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const admin = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    const r = await hub.api.inject({ method: 'GET', url: '/metrics', headers: admin });
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const lines = r.body.split('\n');
    for (const line of [
      'tessera_hub_events_applied_total 5',
      'tessera_site_occupancy{site="murat"} 1',
      'tessera_site_occupancy{site="allanche"} 0',
      'tessera_site_capacity{site="murat"} 4',
      'tessera_site_online{site="murat"} 1',
      // The events happened at 08:00:00Z; the status came at 08:00:10Z (hub clock).
      `tessera_site_last_event_timestamp_seconds{site="murat"} ${Date.parse('2026-11-23T08:00:00Z') / 1000}`,
      `tessera_site_last_status_timestamp_seconds{site="murat"} ${Date.parse('2026-11-23T08:00:10Z') / 1000}`,
      'tessera_site_backlog{site="murat"} 4',
      'tessera_alarms_open{site="murat"} 1',
      'tessera_site_decisions_total{site="murat",result="granted",reason="ok"} 1',
      'tessera_site_decisions_total{site="murat",result="denied",reason="badge_revoked"} 2',
      // Events at 08:00:00Z stored at 08:00:10Z: ten seconds of lag each.
      'tessera_hub_event_lag_seconds_bucket{le="5"} 0',
      'tessera_hub_event_lag_seconds_bucket{le="10"} 5',
      'tessera_hub_event_lag_seconds_count 5',
    ])
      expect(lines).toContain(line);

    await hub.api.inject({
      method: 'POST',
      url: '/accounts',
      headers: admin,
      payload: {
        username: 'manon',
        role: 'site_manager',
        sites: ['allanche'],
        password: 'manon-manages-allanche',
        mustChangePassword: false,
      },
    });
    const manager = await login(hub.api, 'manon', 'manon-manages-allanche');
    const mine = (await hub.api.inject({ method: 'GET', url: '/metrics', headers: manager })).body;
    expect(mine).toContain('tessera_site_occupancy{site="allanche"} 0');
    expect(mine).not.toContain('murat');
    expect(mine).not.toContain('tessera_hub_events_applied_total');
    expect(mine).not.toMatch(/^tessera_site_last_event_timestamp_seconds\{/m);
    expect(mine).toMatch(/^tessera_build_info\{version="[^"]+",node="[^"]+"\} 1$/m);
  });
});

/** The decision latency histogram of an edge scrape: its buckets in order, sum and count. */
function decisionLatency(body: string) {
  const name = 'tessera_edge_decision_latency_seconds';
  const buckets = [...body.matchAll(new RegExp(`^${name}_bucket\\{site="murat",le="([^"]+)"\\} (\\d+)$`, 'gm'))].map(
    (m) => ({ le: m[1] === '+Inf' ? Infinity : Number(m[1]), n: Number(m[2]) }),
  );
  const value = (suffix: string) =>
    Number(new RegExp(`^${name}_${suffix}\\{site="murat"\\} (\\S+)$`, 'm').exec(body)?.[1]);
  return { buckets, sum: value('sum'), count: value('count'), at: (le: number) => buckets.find((b) => b.le === le)?.n };
}

describe('GET /metrics on the edge', () => {
  it('times every decided tap from the card presented to the relay: the latency count grows with the taps, in well-formed buckets', async () => {
    const site = await startSite();
    cleanups.push(() => site.stop());
    const app = edgeApi(site);
    const scrape = async () => decisionLatency((await app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(await scrape()).toMatchObject({ count: 0, sum: 0 });
    site.tap('front-in', UID.alice);
    site.tap('front-in', UID.revoked);
    site.tap('front-in', '04000000000001');
    const three = await scrape();
    expect(three.count).toBe(3);
    site.tap('front-out', UID.alice);
    const four = await scrape();
    expect(four.count).toBe(4);
    // Bounds ascending and ending at +Inf, counts cumulative, +Inf equal to the count.
    expect(four.buckets.length).toBeGreaterThan(5);
    expect(four.buckets.map((b) => b.le)).toEqual([...four.buckets.map((b) => b.le)].sort((a, b) => a - b));
    expect(four.buckets.at(-1)).toEqual({ le: Infinity, n: 4 });
    four.buckets.slice(1).forEach((b, i) => expect(b.n).toBeGreaterThanOrEqual(four.buckets[i]?.n ?? 0));
    // Real time was taken (a decision commits to SQLite), in seconds.
    expect(four.sum).toBeGreaterThan(three.sum);
    expect(four.sum).toBeLessThan(4 * 2.5);
  });

  it('a decision that took 12 ms counts above the 10 ms bucket and within the 25 ms one; a card refused before any decision is not timed', async () => {
    let monotonic = 0;
    const site = await startSite({}, undefined, undefined, undefined, { elapsedMs: () => (monotonic += 12) });
    cleanups.push(() => site.stop());
    const app = edgeApi(site);
    site.tap('front-in', UID.alice);
    expect(site.edge.taps.handle({ reader: 'front-in', uid: 'ZZ\u0000', atr: '' })).toBeUndefined();
    const h = decisionLatency((await app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(site.taps()).toMatchObject({ rejectedCards: 1, taps: 1 });
    expect(h).toMatchObject({ count: 1, sum: 0.012 });
    expect([h.at(0.01), h.at(0.025), h.at(Infinity)]).toEqual([0, 1, 1]);
  });

  it('gives decisions by reason, occupancy, capacity and the outbox backlog', async () => {
    const site = await startSite();
    cleanups.push(() => site.stop());
    site.tap('front-in', UID.alice);
    site.tap('front-in', UID.revoked);
    site.tap('front-in', '04000000000001');
    const app = edgeApi(site);
    const r = await app.inject({ method: 'GET', url: '/metrics' });
    expect(r.statusCode).toBe(200);
    const lines = r.body.split('\n');
    for (const line of [
      'tessera_edge_decisions_total{site="murat",reason="ok"} 1',
      'tessera_edge_decisions_total{site="murat",reason="badge_revoked"} 1',
      'tessera_edge_decisions_total{site="murat",reason="unknown_badge"} 1',
      'tessera_edge_occupancy{site="murat"} 1',
      'tessera_edge_capacity{site="murat"} 3',
      `tessera_edge_outbox_backlog{site="murat"} ${site.store.events.lastSeq()}`,
    ])
      expect(lines).toContain(line);
  });

  it('gives each door lock, contact and alarms, each reader presence, the broker link, the directory revision and age', async () => {
    const site = await startSite();
    cleanups.push(() => site.stop());
    let link = { connected: true, unreachableSeconds: 0 };
    const app = edgeApi(site, () => link);
    const scrape = async () => (await app.inject({ method: 'GET', url: '/metrics' })).body.split('\n');
    const first = await scrape();
    for (const line of [
      'tessera_edge_door_locked{site="murat",door="front"} 1',
      'tessera_edge_door_open{site="murat",door="front"} 0',
      'tessera_edge_door_alarm{site="murat",door="front",alarm="forced"} 0',
      'tessera_edge_door_alarm{site="murat",door="front",alarm="held"} 0',
      'tessera_edge_reader_connected{site="murat",reader="front-in",role="entry"} 1',
      'tessera_edge_reader_connected{site="murat",reader="lockers",role="locker-bank"} 1',
      'tessera_edge_broker_connected{site="murat"} 1',
      'tessera_edge_broker_unreachable_seconds{site="murat"} 0',
      'tessera_edge_directory_revision{site="murat",source="file"} 1',
      'tessera_edge_directory_age_seconds{site="murat",source="file"} 0',
    ])
      expect(first).toContain(line);
    // Runtime figures and the build, once each.
    for (const family of ['process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'tessera_build_info'])
      expect(first.filter((l) => l === `# TYPE ${family} gauge`)).toHaveLength(1);

    // The door opened while locked: forced. A reader unplugged. The broker lost. An hour and a half later.
    site.gpio.setInput(27, true);
    site.reader.unplug('front-in');
    link = { connected: false, unreachableSeconds: 42 };
    site.clock.advance(90 * 60_000);
    const later = await scrape();
    for (const line of [
      'tessera_edge_door_open{site="murat",door="front"} 1',
      'tessera_edge_door_alarm{site="murat",door="front",alarm="forced"} 1',
      'tessera_edge_door_alarm{site="murat",door="front",alarm="held"} 0',
      'tessera_edge_reader_connected{site="murat",reader="front-in",role="entry"} 0',
      'tessera_edge_reader_connected{site="murat",reader="front-out",role="exit"} 1',
      'tessera_edge_broker_connected{site="murat"} 0',
      'tessera_edge_broker_unreachable_seconds{site="murat"} 42',
      'tessera_edge_directory_age_seconds{site="murat",source="file"} 5400',
    ])
      expect(later).toContain(line);

    // A pulse: the door unlocked.
    site.gpio.setInput(27, false);
    site.edge.doors.get('front')?.unlock('remote');
    expect(await scrape()).toContain('tessera_edge_door_locked{site="murat",door="front"} 0');
  });

  it('has no broker samples for a site without a broker', async () => {
    const site = await startSite();
    cleanups.push(() => site.stop());
    const app = buildApi({ edge: site.edge, log: silent, clock: site.clock, version: 'test', startedAt: 0 });
    cleanups.push(() => app.close());
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('# TYPE tessera_edge_broker_connected gauge');
    expect(body).not.toMatch(/^tessera_edge_broker_connected\{/m);
  });
});
