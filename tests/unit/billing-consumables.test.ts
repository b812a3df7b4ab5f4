import { describe, expect, it } from 'vitest';
import { recordConsumableUse } from '../../edge/consumables/consumable-use.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { edgeApiFixture } from '../harness/edge-api.js';
import type { Harness } from '../harness/site.js';
import { UID } from '../harness/site.js';

const fixture = edgeApiFixture();
const withApi = (simulated = true) => fixture({ simulated });

const consumableEvents = (s: Harness) => s.edge.store.events.list(0, 1000).filter((e) => e.type === 'consumable.used');

describe('consumables at the edge (what the hub bills)', () => {
  it('a real device posts a use by badge or member id: one consumable.used event each, in the outbox', async () => {
    const { site, app } = await withApi(false);
    const byBadge = await app.inject({
      method: 'POST',
      url: '/consumables',
      payload: { badge: UID.alice, item: 'print-page', quantity: 12 },
    });
    expect(byBadge.statusCode).toBe(201);
    expect(byBadge.json()).toMatchObject({
      memberId: 'alice',
      item: 'print-page',
      quantity: 12,
      at: '2026-11-23T09:00:00.000+01:00',
    });
    const byId = await app.inject({
      method: 'POST',
      url: '/consumables',
      payload: { memberId: 'bob', item: 'coffee', quantity: 1 },
    });
    expect(byId.statusCode).toBe(201);
    expect(consumableEvents(site).map((e) => [e.seq, e.data])).toEqual([
      [byBadge.json<{ seq: number }>().seq, { memberId: 'alice', item: 'print-page', quantity: 12 }],
      [byId.json<{ seq: number }>().seq, { memberId: 'bob', item: 'coffee', quantity: 1 }],
    ]);
  });

  it('refuses bad input, an unknown member or badge, and a revoked badge, recording nothing', async () => {
    const { site, app } = await withApi(false);
    const post = (payload: object) => app.inject({ method: 'POST', url: '/consumables', payload });
    const bad = await post({ memberId: 'bob', badge: UID.bob, item: 'print page', quantity: 0 });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json<{ details: Array<{ path: string }> }>()
        .details.map((d) => d.path)
        .sort(),
    ).toEqual(['item', 'memberId', 'quantity']);
    expect((await post({ memberId: 'bob', badge: UID.bob, item: 'coffee', quantity: 1 })).json()).toMatchObject({
      code: 'request.invalid',
      details: [{ path: 'memberId' }],
    });
    expect((await post({ item: 'coffee', quantity: 1 })).statusCode).toBe(400);
    expect((await post({ badge: 'zz', item: 'coffee', quantity: 1 })).json()).toMatchObject({
      code: 'request.invalid',
      details: [{ path: 'badge' }],
    });
    expect((await post({ memberId: 'nobody', item: 'coffee', quantity: 1 })).statusCode).toBe(404);
    expect((await post({ badge: '04000000000001', item: 'coffee', quantity: 1 })).statusCode).toBe(404);
    const revoked = await post({ badge: UID.revoked, item: 'coffee', quantity: 1 });
    expect([revoked.statusCode, revoked.json<{ code: string }>().code]).toEqual([403, 'auth.forbidden']);
    expect(consumableEvents(site)).toEqual([]);
  });

  it('refuses an item name the price list could not name (markup, spaces, accents, too long), at the route and in the recorder itself', async () => {
    const { site, app } = await withApi(false);
    const BAD_ITEMS = [
      '<img src=x onerror=alert(1)>',
      'print page',
      'café',
      '.hidden',
      '-x',
      'a'.repeat(65),
      'coffee\n',
      '',
    ];
    for (const item of BAD_ITEMS) {
      const r = await app.inject({
        method: 'POST',
        url: '/consumables',
        payload: { memberId: 'bob', item, quantity: 1 },
      });
      expect([item, r.statusCode, r.json()]).toEqual([
        item,
        400,
        expect.objectContaining({ code: 'request.invalid', details: [expect.objectContaining({ path: 'item' })] }),
      ]);
      // A device driver inside the edge calls the recorder directly: it refuses the same names.
      const err = (() => {
        try {
          recordConsumableUse(site.edge.store, { memberId: 'bob' }, item, 1, site.clock.now());
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect([item, err instanceof TesseraError ? err.code : err]).toEqual([item, 'request.invalid']);
    }
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/consumables',
          payload: { memberId: 'bob', item: 'A4_colour.page-2', quantity: 1 },
        })
      ).statusCode,
    ).toBe(201);
    expect(consumableEvents(site).map((e) => e.type === 'consumable.used' && e.data.item)).toEqual([
      'A4_colour.page-2',
    ]);
  });

  it('the simulator has a printer and a coffee machine, at a given time if asked; without simulation they do not exist', async () => {
    const { site, app } = await withApi(true);
    const print = await app.inject({
      method: 'POST',
      url: '/simulate/print',
      payload: { badge: UID.chloe, pages: 40, at: '2026-11-23T10:30:00+01:00' },
    });
    expect(print.statusCode).toBe(201);
    const coffee = await app.inject({ method: 'POST', url: '/simulate/coffee', payload: { memberId: 'dan' } });
    expect(coffee.statusCode).toBe(201);
    expect(consumableEvents(site).map((e) => [e.at, e.data])).toEqual([
      ['2026-11-23T10:30:00.000+01:00', { memberId: 'chloe', item: 'print-page', quantity: 40 }],
      ['2026-11-23T09:00:00.000+01:00', { memberId: 'dan', item: 'coffee', quantity: 1 }],
    ]);
    expect(
      (await app.inject({ method: 'POST', url: '/simulate/print', payload: { badge: UID.chloe } })).statusCode,
    ).toBe(400);
    await app.close();
    await site.stop();
    const plain = await withApi(false);
    expect(
      (await plain.app.inject({ method: 'POST', url: '/simulate/coffee', payload: { memberId: 'dan' } })).statusCode,
    ).toBe(404);
  });
});
