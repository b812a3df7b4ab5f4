import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BillingLedger } from '../../cloud-sync/billing/ledger.js';
import { closableFrom } from '../../cloud-sync/billing/period.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { systemClock, type Clock } from '../../shared/platform/clock.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import type { AuthHeaders } from '../harness/hub-auth.js';
import { startTestHub } from '../harness/network-hub.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventuallyWithin } from '../support/eventually.js';

const UID = '04C0C0C0C0C0C0';
const cleanups = cleanupsAfterEach();

/** Real timers, but a wall clock the test moves forward: hub and sites live through a chosen week. */
class ShiftedClock implements Clock {
  private offset: number;
  constructor(start: string) {
    this.offset = Date.parse(start) - Date.now();
  }
  now = () => Date.now() + this.offset;
  setTimeout = systemClock.setTimeout;
  setInterval = systemClock.setInterval;
  set(iso: string): void {
    const target = Date.parse(iso);
    if (target < this.now()) throw new Error(`${iso} is in this clock's past`);
    this.offset = target - Date.now();
  }
}

/** A site whose database stays in its folder across restarts, so it can be taken off the network and back. */
class Site {
  running: RunningEdge | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'tessera-quota-'));

  constructor(
    readonly id: string,
    private readonly hubKeyPem: string,
    private readonly clock: Clock,
  ) {
    cleanups.push(async () => {
      await this.running?.stop();
      rmSync(this.dir, { recursive: true, force: true });
    });
  }

  async start(mqttUrl: string): Promise<void> {
    await this.running?.stop();
    const config = join(this.dir, 'site.yaml');
    // Allanche stays cut off from Monday night to Wednesday: past the members' 24 h directory bound.
    writeFileSync(
      config,
      networkSiteYaml({
        id: this.id,
        mqttUrl,
        hubPublicKeyPem: this.hubKeyPem,
        heartbeatSeconds: 5,
        directoryMaxAgeHours: 72,
      }),
    );
    this.running = await runEdge({ configPath: config, simulate: true, log: silent, clock: this.clock });
  }

  get edge() {
    if (!this.running) throw new Error(`${this.id} is not running`);
    return this.running.edge;
  }

  async tap(reader: 'front-in' | 'front-out'): Promise<{ granted: boolean; reason: string }> {
    const res = await fetch(`${this.running?.url}/simulate/tap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reader, uid: UID }),
    });
    return (await res.json()) as { granted: boolean; reason: string };
  }

  /** The hub confirmed the directory within the hour (it does so past an hour): no stale-directory refusal. */
  fresh(): boolean {
    return this.clock.now() - (this.edge.store.directory.meta()?.loadedAt ?? 0) < 3_600_000;
  }
}

async function call(method: string, url: string, body: unknown, auth: AuthHeaders): Promise<number> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', authorization: auth.authorization },
    body: JSON.stringify(body),
  });
  return res.status;
}

const eventually = eventuallyWithin(20_000, 50);

/** An MQTT URL on which nothing listens: a site pointed at it is offline. */
async function deadBrokerUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `mqtt://127.0.0.1:${port}`;
}

describe('days a week are counted across the network', { timeout: 180_000 }, () => {
  it('an online site refuses the day beyond the plan used elsewhere; an offline site that admits it has it billed at the extra-day price and listed in the close', async () => {
    const clock = new ShiftedClock('2026-11-09T22:30:00Z'); // Monday 9 November, 23:30 in Paris
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups, { clock });
    expect(
      await call(
        'PUT',
        `${apiUrl}/directory/plans/two-days`,
        { name: '2 days a week', access: 'always', daysPerWeek: 2 },
        auth,
      ),
    ).toBe(200);
    expect(
      await call('PUT', `${apiUrl}/directory/members/chloe`, { name: 'Chloé Petit', plan: 'two-days' }, auth),
    ).toBe(200);
    expect(await call('PUT', `${apiUrl}/directory/badges/${UID}`, { member: 'chloe' }, auth)).toBe(200);
    const prices = {
      plans: {
        'two-days': {
          kind: 'subscription',
          monthlyCents: 10000,
          daysPerWeek: 2,
          extraDay: { refuse: true, cents: 1500 },
          vatPercent: 20,
        },
      },
    };
    expect(await call('PUT', `${apiUrl}/billing/prices`, prices, auth)).toBe(200);
    const [a, b] = [new Site('murat', hub.publicKeyPem, clock), new Site('allanche', hub.publicKeyPem, clock)];
    await a.start(mqttUrl);
    await b.start(mqttUrl);
    const visit = async (site: Site, what: string) => {
      await eventually(async () => (await site.tap('front-in')).granted, what);
      expect((await site.tap('front-out')).granted).toBe(true);
    };
    const moveTo = async (iso: string, sites: Site[]) => {
      clock.set(iso);
      for (const s of sites)
        await eventually(() => s.fresh(), `${s.id} hears from the hub after the clock moved to ${iso}`);
    };
    const knowsElsewhere = (site: Site, days: string[]) => {
      const known = site.edge.store.daysElsewhere.daysFrom('chloe', '2026-11-01');
      return days.every((d) => known.includes(d));
    };

    // Week 1: Monday and Tuesday at murat; on Wednesday allanche, online, knows both and refuses.
    await visit(a, 'monday at murat');
    await moveTo('2026-11-09T23:10:00Z', [a, b]); // Tuesday 00:10
    await visit(a, 'tuesday at murat');
    await eventually(() => knowsElsewhere(b, ['2026-11-09', '2026-11-10']), 'allanche learns the days used at murat');
    await moveTo('2026-11-10T23:10:00Z', [a, b]); // Wednesday 00:10
    expect(await b.tap('front-in')).toMatchObject({ granted: false, reason: 'quota_exhausted' });

    // Week 2: Monday at murat, which allanche learns; allanche then goes offline, murat takes
    // Tuesday, and allanche, knowing only Monday, admits a third day on Wednesday.
    await moveTo('2026-11-16T22:30:00Z', [a, b]); // Monday 16, 23:30
    await visit(a, 'monday of week 2 at murat');
    await eventually(() => knowsElsewhere(b, ['2026-11-16']), 'allanche learns monday of week 2');
    await b.start(await deadBrokerUrl());
    await moveTo('2026-11-16T23:10:00Z', [a]); // Tuesday 17, 00:10
    await visit(a, 'tuesday of week 2 at murat');
    clock.set('2026-11-17T23:10:00Z'); // Wednesday 18, 00:10: allanche is still offline
    expect(knowsElsewhere(b, ['2026-11-16'])).toBe(true);
    await visit(b, 'wednesday of week 2 at allanche, offline');
    await b.start(mqttUrl);
    for (const site of [a, b]) {
      const lastSeq = site.edge.store.events.lastSeq();
      await eventually(
        async () => ((await hub.store.progress(site.id))?.contiguous ?? 0) >= lastSeq,
        `the hub holds every event of ${site.id}`,
      );
    }

    const ledger = new BillingLedger({
      db: hub.store.db,
      directory: hub.directory,
      sites: hub.sites,
      now: () => closableFrom('2026-11') + 3_600_000,
      log: silent,
    });
    const summary = await ledger.close('2026-11');
    expect(summary.admittedBeyondQuota).toEqual([
      {
        member: 'chloe',
        account: 'member:chloe',
        plan: 'two-days',
        site: 'allanche',
        date: '2026-11-18',
        unitCents: 1500,
      },
    ]);
    const lines = (await ledger.invoices('2026-11')).flatMap((i) => i.lines).filter((l) => l.kind === 'extra-day');
    expect(lines).toMatchObject([
      { member: 'chloe', site: 'allanche', dates: ['2026-11-18'], quantity: 1, unitCents: 1500, amountCents: 1500 },
    ]);
  });
});
