import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumableUseBody, recordConsumableUse } from '../../edge/consumables/consumable-use.js';
import { buildApi } from '../../edge/api/server.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import type { Harness } from '../harness/site.js';
import { startSite, UID } from '../harness/site.js';
import { expectRefusal } from './hub-rig.js';
import { jsonInputs, must, mutationsOf, prototypeIsClean, same } from './kit.js';
import { fuzz, inputs } from '../support/fuzz.js';
import { silent } from '../support/logger.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

/** Each body parser: some inputs through app.inject, the rest through the call the route makes with the parsed body. */
const [TAP_HTTP, TAP_DIRECT] = [inputs(1_000, { full: 10_000 }), inputs(10_000, { full: 90_000 })];
const [USE_HTTP, USE_DIRECT] = [inputs(1_000, { full: 10_000 }), inputs(20_000, { full: 90_000 })];
const FULL_UIDS = Object.values(UID);
const READERS = ['front-in', 'front-out', 'lockers', 'own-lockers'];

describe('fuzz: the edge API bodies (simulated taps, consumables)', () => {
  let site: Harness;
  let app: ReturnType<typeof buildApi>;
  beforeAll(async () => {
    site = await startSite();
    app = buildApi({
      edge: site.edge,
      log: silent,
      clock: site.clock,
      version: 'fuzz',
      startedAt: site.clock.now(),
      sim: { reader: site.reader, gpio: site.gpio },
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await site.stop();
  });

  const stored = () => ({
    lastSeq: site.store.events.lastSeq(),
    presence: site.store.presence.list(),
    lockers: site.edge.lockers.describe(),
  });
  /** Events written since `seq`: each fits the catalog, and none carries a whole badge UID. */
  function expectEventsSince(seq: number, atLeast: number): void {
    const events = site.store.events.list(seq, 100);
    must(events.length >= atLeast, `${events.length} events recorded, expected at least ${atLeast}`);
    for (const e of events) {
      must(SiteEvent.safeParse(e).success, () => `an event that does not fit the catalog: ${JSON.stringify(e)}`);
      const text = JSON.stringify(e);
      for (const uid of FULL_UIDS) must(!text.includes(uid), `an event names a whole badge UID: ${text}`);
    }
  }

  const taps = [
    { reader: 'front-in', uid: UID.alice },
    { reader: 'lockers', uid: '04:b0:b0:b0:b0:b0:b0', at: '2026-11-23T10:00:00+01:00' },
    { reader: 'front-out', uid: '04DEADBEEF' },
  ];

  it(`POST /simulate/tap through app.inject: a decision recorded, or a code and nothing stored (${TAP_HTTP} inputs)`, async () => {
    await fuzz(
      fc.asyncProperty(jsonInputs(taps), async (payload) => {
        const before = stored();
        const r = await app.inject({
          method: 'POST',
          url: '/simulate/tap',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        if (r.statusCode === 200) {
          expect(typeof r.json<{ granted: boolean }>().granted).toBe('boolean');
          expectEventsSince(before.lastSeq, 1);
          return;
        }
        expectRefusal(r, ['request.invalid', 'not_found']);
        expect(stored()).toEqual(before);
      }),
      TAP_HTTP,
    );
    expect(prototypeIsClean()).toBe(true);
  });

  /** What a reader could report as a UID: hex of any length, odd separators and cases, or anything at all. */
  const uidText = fc.oneof(
    fc
      .tuple(
        fc.uint8Array({ minLength: 0, maxLength: 12 }),
        fc.constantFrom('', ':', ' ', '-', '::', '\t'),
        fc.boolean(),
      )
      .map(([bytes, sep, lower]) => {
        const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(sep);
        return lower ? hex : hex.toUpperCase();
      }),
    fc.constantFrom(
      ...FULL_UIDS,
      '0x04A1A1A1A1A1A1',
      '04A1A1A1A1A1A1\u0000',
      '０４Ａ１Ａ１Ａ１Ａ１Ａ１Ａ１',
      '04 a1 A1 a1 A1 a1 A1 ',
    ),
    fc.string({ maxLength: 40 }),
  );
  const readerId = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...READERS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const at = fc.option(fc.oneof(fc.integer(), fc.constantFrom(Number.NaN, Infinity, -1, 8.64e15 + 1)), {
    nil: undefined,
  });

  it(`the UIDs a reader reports, through the simulated reader and the tap handler, the route's own call (${TAP_DIRECT} inputs)`, () => {
    fuzz(
      fc.property(readerId, uidText, at, (reader, uid, atMs) => {
        const before = stored();
        try {
          site.reader.tap(reader, uid, atMs === undefined ? {} : { at: atMs });
          // A card the reader took on a configured reader is always decided, and the decision recorded.
          if (READERS.includes(reader)) expectEventsSince(before.lastSeq, 1);
          else same(stored(), before, 'the store after a card on no configured reader');
        } catch (err) {
          if (!(err instanceof TesseraError)) throw err;
          must(['request.invalid', 'reader.unavailable'].includes(err.code), `refused with ${err.code}`);
          same(stored(), before, 'the store after a refused card');
        }
      }),
      TAP_DIRECT,
    );
  });

  const uses = [
    { memberId: 'alice', item: 'print-page', quantity: 3 },
    { badge: UID.bob, item: 'coffee', quantity: 1 },
    { badge: UID.revoked, item: 'coffee', quantity: 2 },
  ];
  const ROUTES = ['/consumables', '/simulate/print', '/simulate/coffee'];

  it(`POST /consumables, /simulate/print and /simulate/coffee through app.inject (${USE_HTTP} inputs)`, async () => {
    await fuzz(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        jsonInputs([...uses, { memberId: 'dan', pages: 12 }, { badge: UID.eve, cups: 2 }]),
        async (url, payload) => {
          const before = stored();
          const r = await app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload });
          if (r.statusCode === 201) {
            expectEventsSince(before.lastSeq, 1);
            return;
          }
          expectRefusal(r, ['request.invalid', 'not_found', 'auth.forbidden']);
          expect(stored()).toEqual(before);
        },
      ),
      USE_HTTP,
    );
    expect(prototypeIsClean()).toBe(true);
  });

  it(`the same uses through the body schema and recordConsumableUse, the route's own calls (${USE_DIRECT} inputs)`, () => {
    fuzz(
      fc.property(mutationsOf(...uses), (input) => {
        const before = stored();
        const body = checkUntrusted(ConsumableUseBody, input);
        if (!body.success) return;
        try {
          recordConsumableUse(site.store, body.data, body.data.item, body.data.quantity, site.clock.now());
          expectEventsSince(before.lastSeq, 1);
        } catch (err) {
          if (!(err instanceof TesseraError)) throw err;
          must(['request.invalid', 'not_found', 'auth.forbidden'].includes(err.code), `refused with ${err.code}`);
          same(stored(), before, 'the store after a refused use');
        }
      }),
      USE_DIRECT,
    );
  });
});
