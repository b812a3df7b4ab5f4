import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { datesReceivedBetween, readBilledEvents } from '../../cloud-sync/billing/event-source.js';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod, ratePeriodInSlices } from '../../cloud-sync/billing/rate.js';
import { bySiteSeq } from '../../cloud-sync/billing/visits.js';
import { Slices } from '../../cloud-sync/hub/slices.js';
import { BILLING_DATES, billingHub, member, SiteLog, EXAMPLE_PLANS } from './billing-fixtures.js';

const { NOV_2, DEC_2 } = BILLING_DATES;
const NOVEMBER = { from: '2026-11-01', to: '2026-12-01' };

/** Three sites' logs around November, some events received after the cutoff, and an access event besides. */
function logs(): SiteLog[] {
  const a = new SiteLog('alpha', '+01:00', NOV_2)
    .visit('ana', '2026-10-31', '09:00', 60)
    .visit('ana', '2026-11-02', '09:00', 480)
    .use('ana', '2026-11-02', 'coffee', 2)
    .visit('bob', '2026-11-03', '22:00', 180)
    .visit('ana', '2026-11-30', '09:00', 60, DEC_2 + 1);
  const b = new SiteLog('beta', '+01:00', NOV_2 + 5)
    .visit('bob', '2026-11-04', '09:00', 30)
    .visit('ana', '2026-12-01', '09:00', 30);
  const c = new SiteLog('gamma', '+01:00', NOV_2 + 9);
  for (let day = 10; day < 20; day++) c.visit('eve', `2026-11-${day}`, '08:00', 240);
  return [a, b, c];
}

describe('the events a rating reads', () => {
  let hub: Awaited<ReturnType<typeof billingHub>>;
  beforeEach(async () => {
    hub = await billingHub();
    for (const log of logs()) await hub.ingest(log);
    // Not billed: read past, in the middle of a site's seqs.
    await hub.db.run(
      "INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ('beta', 100, 'x', '2026-11-05T09:00:00+01:00', 'door.forced', '{}', ?)",
      [NOV_2],
    );
  });
  afterEach(() => hub.close());

  const expected = () =>
    logs()
      .flatMap((l) => l.billed)
      .filter((e) => e.at >= NOVEMBER.from && e.at < NOVEMBER.to && e.receivedAt <= DEC_2)
      .sort(bySiteSeq);

  it('are the same, in (site, seq) order, whatever the page size, with progress from 0 to the count', async () => {
    for (const pageRows of [1, 2, 3, 7, 10_000]) {
      const reports: Array<[string, number, number]> = [];
      const read = await readBilledEvents(hub.db, NOVEMBER, DEC_2, {
        pageRows,
        phase: 'reading',
        progress: (...r) => reports.push(r),
      });
      expect(read).toEqual({ events: expected(), unreadable: 0 });
      const n = expected().length;
      expect(reports).toEqual([
        ['reading', 0, n],
        ['reading', n, n],
      ]);
    }
  });

  it('count a row that no longer parses, on whichever page it falls', async () => {
    // JSON but not an event: neither store takes a body that is not JSON (PostgreSQL's jsonb, and
    // SQLite's index of the events by member reads every body).
    const body = '{"v": 0}';
    await hub.db.run(
      "INSERT INTO events (site, seq, id, at, type, body, received_at) VALUES ('beta', 101, 'y', '2026-11-05T10:00:00+01:00', 'presence.in', ?, ?)",
      [body, NOV_2],
    );
    for (const pageRows of [1, 4, 10_000])
      expect(await readBilledEvents(hub.db, NOVEMBER, DEC_2, { pageRows })).toEqual({
        events: expected(),
        unreadable: 1,
      });
  });

  it('give the dates where events received in a span fell, whatever the page size', async () => {
    for (const pageRows of [1, 3, 10_000]) {
      expect(await datesReceivedBetween(hub.db, NOV_2 + 1, DEC_2 + 1, { pageRows })).toEqual([
        '2026-11-04',
        '2026-11-10',
        '2026-11-11',
        '2026-11-12',
        '2026-11-13',
        '2026-11-14',
        '2026-11-15',
        '2026-11-16',
        '2026-11-17',
        '2026-11-18',
        '2026-11-19',
        '2026-11-30',
        '2026-12-01',
      ]);
      expect(await datesReceivedBetween(hub.db, DEC_2 + 1, DEC_2 + 2, { pageRows })).toEqual([]);
    }
  });

  it('let the event loop run between slices of the read and of the rating, and rate as at once', async () => {
    // Counts the turns of the event loop (its check phase) while the work runs.
    let turns = 0;
    let spinner = setImmediate(function spin() {
      turns++;
      spinner = setImmediate(spin);
    });
    turns = 0;
    try {
      // A budget of nothing: every tick gives the event loop a turn.
      const read = await readBilledEvents(hub.db, NOVEMBER, DEC_2, { pageRows: 2, slices: new Slices(undefined, 0) });
      expect(turns).toBeGreaterThan(0);
      const input = {
        period: '2026-11',
        prices: EXAMPLE_PRICE_LIST,
        members: [member('ana', 'murat-day'), member('bob', 'murat-week'), member('eve', 'soho-solo')],
        employers: [],
        events: read.events,
        plans: EXAMPLE_PLANS,
        zones: new Map([['alpha', 'Europe/Paris']]),
      };
      const before = turns;
      const sliced = await ratePeriodInSlices(input, new Slices(undefined, 0));
      expect(turns).toBeGreaterThan(before);
      expect(sliced).toEqual(ratePeriod(input));
      expect(sliced.lines.length).toBeGreaterThan(0);
    } finally {
      clearImmediate(spinner);
    }
  });
});
