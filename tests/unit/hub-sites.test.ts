import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubSites } from '../../cloud-sync/hub/sites.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { testHubDb } from '../harness/hub-db.js';

describe('the sites the operator declares', () => {
  it('stores a site, replaces it, and says what it was before', () => {
    let now = 1000;
    const sites = new HubSites(openHubDatabase(testHubDb()), () => now);
    const first = sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 12 });
    expect(first.before).toBeUndefined();
    now = 2000;
    const second = sites.upsert({ id: 'murat', name: 'Télécentre de Murat', timeZone: 'Europe/Paris', capacity: 14 });
    expect(second.before).toEqual({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 12 });
    sites.upsert({ id: 'allanche', name: 'Allanche', timeZone: 'Europe/Paris', capacity: 6 });
    expect(sites.list().map((s) => `${s.id}:${s.capacity}`)).toEqual(['allanche:6', 'murat:14']);
    expect(sites.remove('allanche').name).toBe('Allanche');
    expect(sites.get('allanche')).toBeUndefined();
  });

  it('refuses a bad time zone, a bad id or a capacity of zero, naming each field', () => {
    const sites = new HubSites(openHubDatabase(testHubDb()), () => 0);
    try {
      sites.upsert({ id: 'Bad Id', name: 'x', timeZone: 'Mars/Olympus', capacity: 0 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(TesseraError);
      const paths = (err as TesseraError).details.map((d) => d.path).sort();
      expect(paths).toEqual(['capacity', 'id', 'timeZone']);
    }
    expect(() => sites.remove('nowhere')).toThrow(/no site "nowhere"/);
    expect(sites.list()).toEqual([]);
  });
});
