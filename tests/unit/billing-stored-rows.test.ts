import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billedRow, checkedEvent } from '../../cloud-sync/billing/stored-rows.js';
import { billedEventOf } from '../../cloud-sync/billing/visits.js';

const ENVELOPE = {
  v: 1,
  site: 'murat',
  seq: 42,
  id: '0190a5b2-7c3d-7e4f-8a1b-2c3d4e5f6a7b',
  at: '2026-10-25T02:30:00.000+01:00',
};

/** A row of each billed type as ingest stores it, optional fields included. */
const STORED = [
  { ...ENVELOPE, type: 'presence.in', data: { memberId: 'ana', door: 'front', reader: 'in' } },
  { ...ENVELOPE, type: 'presence.in', data: { memberId: 'ana' } },
  {
    ...ENVELOPE,
    type: 'presence.out',
    data: { memberId: 'ana', cause: 'badge', via: 'exit_reader', door: 'front', minutes: 0 },
  },
  { ...ENVELOPE, type: 'presence.out', data: { memberId: 'ana', cause: 'auto', via: 'max_stay', minutes: 480 } },
  { ...ENVELOPE, type: 'consumable.used', data: { memberId: 'ana', item: 'print-page', quantity: 3 } },
];

/** What the close reads of a row through the wire schema alone: the reference the quick check must match. */
function bySchema(body: string, receivedAt: number) {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined;
  }
  const event = checkedEvent(json);
  return event && billedEventOf(event, receivedAt);
}

/** Values that break a field, or happen to be valid for it. */
const anyValue = fc.oneof(
  fc.constantFrom(
    undefined,
    null,
    '',
    'x'.repeat(64),
    'x'.repeat(65),
    0,
    -1,
    1.5,
    2 ** 53,
    Number.NaN,
    true,
    [],
    {},
    'presence.in',
    'consumable.used',
    'access.granted',
    '2026-02-29T10:00:00+01:00',
    '2028-02-29T10:00:00Z',
    '2026-10-25T02:30:00',
    '2026-10-25T24:00:00+01:00',
    '00000000-0000-0000-0000-000000000000',
    '0190a5b2-7c3d-0e4f-8a1b-2c3d4e5f6a7b',
    'Print page',
    'badge',
    'exit_button',
    '__proto__',
  ),
  fc.string({ maxLength: 70 }),
  fc.integer({ min: -5, max: 2000 }),
  fc.double(),
);

/** One row changed at one place: a field of the envelope or of the data set to a value, or a key added or taken out. */
const changed = fc
  .record({
    row: fc.constantFrom(...STORED),
    inData: fc.boolean(),
    key: fc.constantFrom(
      'v',
      'site',
      'seq',
      'id',
      'at',
      'type',
      'data',
      'memberId',
      'door',
      'reader',
      'cause',
      'via',
      'minutes',
      'item',
      'quantity',
      'other',
      '__proto__',
    ),
    value: anyValue,
    remove: fc.boolean(),
  })
  .map(({ row, inData, key, value, remove }) => {
    const copy = { ...row, data: { ...row.data } } as Record<string, unknown> & { data: Record<string, unknown> };
    const target = inData ? copy.data : copy;
    if (remove) delete target[key];
    else Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
    return JSON.stringify(copy);
  });

describe('the rows a close reads back', () => {
  it('reads every row ingest stores as the wire schema does', () => {
    for (const row of STORED) {
      const body = JSON.stringify(row);
      expect(billedRow(body, 1000)).toBeDefined();
      expect(billedRow(body, 1000)).toEqual(bySchema(body, 1000));
    }
  });

  it('reads any row changed at one place exactly as the wire schema does: billed alike, or unreadable alike', () => {
    fc.assert(
      fc.property(changed, (body) => {
        expect(billedRow(body, 1000)).toEqual(bySchema(body, 1000));
      }),
      { numRuns: 3000 },
    );
  });

  it('reads an older hub’s consumable use with an item name of any kind, and no row that is not JSON or not billed', () => {
    const legacy = JSON.stringify({ ...STORED[4], data: { memberId: 'ana', item: '=cmd|x', quantity: 1 } });
    expect(billedRow(legacy, 1000)).toMatchObject({ type: 'consumable.used', item: '=cmd|x', quantity: 1 });
    expect(billedRow('{"v": 1,', 1000)).toBeUndefined();
    const access = { memberId: 'ana', reader: 'in', role: 'entry', badge: '…00AA', reason: 'ok' };
    expect(billedRow(JSON.stringify({ ...ENVELOPE, type: 'access.granted', data: access }), 1000)).toBeUndefined();
  });
});
