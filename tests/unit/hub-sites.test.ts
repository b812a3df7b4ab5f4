import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubSites } from '../../cloud-sync/hub/sites.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { testHubDb } from '../harness/hub-db.js';

describe('the sites the operator declares', () => {
  it('stores a site, replaces it, and says what it was before', async () => {
    let now = 1000;
    const db = await openHubDatabase(await testHubDb());
    const sites = new HubSites(db, () => now);
    const first = await sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 12 });
    expect(first.before).toBeUndefined();
    now = 2000;
    const second = await sites.upsert({
      id: 'murat',
      name: 'Télécentre de Murat',
      timeZone: 'Europe/Paris',
      capacity: 14,
    });
    expect(second.before).toEqual({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 12 });
    await sites.upsert({ id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 6 });
    expect((await sites.list()).map((s) => `${s.id}:${s.capacity}`)).toEqual(['allanche:6', 'murat:14']);
    expect((await sites.remove('allanche')).name).toBe('Allanche');
    expect(await sites.get('allanche')).toBeUndefined();
    await db.close();
  });

  it('refuses a bad time zone, a bad id or a capacity of zero, naming each field', async () => {
    const db = await openHubDatabase(await testHubDb());
    const sites = new HubSites(db, () => 0);
    try {
      await sites.upsert({ id: 'Bad Id', name: 'x', timeZone: 'Mars/Olympus', capacity: 0 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TesseraError);
      const paths = (err as TesseraError).details.map((d) => d.path).sort();
      expect(paths).toEqual(['capacity', 'id', 'timeZone']);
    }
    await expect(sites.remove('nowhere')).rejects.toThrow(/no site "nowhere"/);
    expect(await sites.list()).toEqual([]);
    await db.close();
  });

  it("works in the caller's transaction when given its handle: rolled back with it", async () => {
    const db = await openHubDatabase(await testHubDb());
    const sites = new HubSites(db, () => 0);
    await sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris' });
    await expect(
      db.transaction(async (tx) => {
        await sites.upsert(tx, { id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 6 });
        expect((await sites.remove(tx, 'murat')).name).toBe('Murat');
        expect(await sites.get(tx, 'murat')).toBeUndefined();
        expect(await sites.declared(tx)).toEqual([
          { id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 6 },
        ]);
        throw new Error('the caller gives up');
      }),
    ).rejects.toThrow('the caller gives up');
    // A site declared without a capacity has none, not 0.
    expect(await sites.declared()).toEqual([{ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris' }]);
    await db.close();
  });
});
