import { afterEach, describe, expect, it } from 'vitest';
import { startSite, UID, type Harness } from '../harness/site.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
let site: Harness | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

const seqs = (h: Harness) => h.events().map((e) => e.seq);

/** Two visits by Alice: four events each day (granted, in; granted, out). */
function visit(h: Harness): void {
  h.tap('front-in', UID.alice);
  h.tap('front-out', UID.alice);
}

describe('retention at the site', () => {
  it('keeps an event until the hub acknowledged it and the retention passed, then prunes it within the hour', async () => {
    site = await startSite({ storage: { path: ':memory:', retentionDays: 7 } });
    visit(site);
    const first = seqs(site);
    expect(first.length).toBeGreaterThan(0);
    // Unacknowledged events stay, however old.
    site.clock.advance(10 * DAY_MS);
    expect(seqs(site)).toEqual(first);

    const lastOld = site.store.events.lastSeq();
    visit(site);
    site.store.events.markAcked(site.store.events.lastSeq());
    site.clock.advance(HOUR_MS);
    // The first visit is acked and 10 days old: gone. The second is acked but new: kept.
    expect(seqs(site).every((s) => s > lastOld)).toBe(true);
    expect(seqs(site).length).toBeGreaterThan(0);

    site.clock.advance(8 * DAY_MS);
    expect(seqs(site)).toEqual([]);
    // The seq stays gapless: the next event follows the last one ever appended.
    const before = site.store.events.lastSeq();
    visit(site);
    expect(seqs(site)[0]).toBe(before + 1);
  });

  it('never prunes a parked event (the hub never received it) nor one past the ack', async () => {
    site = await startSite({ storage: { path: ':memory:', retentionDays: 1 } });
    visit(site);
    visit(site);
    const all = seqs(site);
    const parked = all.slice(1, 3);
    site.store.parked.park(parked[0] ?? 0, parked[1] ?? 0, 'sync.rejected', site.clock.now());
    const ackedTo = all[all.length - 2] ?? 0;
    site.store.events.markAcked(ackedTo);
    site.clock.advance(2 * DAY_MS + HOUR_MS);
    expect(seqs(site)).toEqual([...parked, ...all.filter((s) => s > ackedTo)]);
  });

  it('defaults to 30 days, and a config refuses 0 or a fraction', async () => {
    site = await startSite();
    expect(site.edge.config.storage.retentionDays).toBe(30);
    visit(site);
    site.store.events.markAcked(site.store.events.lastSeq());
    site.clock.advance(29 * DAY_MS);
    expect(seqs(site).length).toBeGreaterThan(0);
    site.clock.advance(DAY_MS + HOUR_MS);
    expect(seqs(site)).toEqual([]);
    await expect(startSite({ storage: { path: ':memory:', retentionDays: 0 } })).rejects.toThrow(/retentionDays/);
    await expect(startSite({ storage: { path: ':memory:', retentionDays: 1.5 } })).rejects.toThrow(/retentionDays/);
  });
});
