import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Login } from '../../cloud-sync/hub/auth/register.js';
import { EXAMPLE_PRICE_LIST, PriceList } from '../../cloud-sync/billing/prices.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { expectRefusal, type HubRig, startHubRig } from './hub-rig.js';
import { jsonInputs, must, mutationsOf, prototypeIsClean, same } from './kit.js';
import { fuzz, inputs } from '../support/fuzz.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

/** Each body parser: some inputs through app.inject, the rest through the call the route makes with the parsed body. */
const [LOGIN_HTTP, LOGIN_DIRECT] = [inputs(1_000, { full: 10_000 }), inputs(10_000, { full: 90_000 })];
const [PRICES_HTTP, PRICES_DIRECT] = [
  inputs(1_000, { full: 10_000, postgres: 500 }),
  inputs(10_000, { full: 90_000, postgres: 5_000 }),
];
const ADDRESS = '10.0.0.1';
const PRICE_CODES = ['request.invalid', 'billing.contradicts_directory', 'billing.unpriced'];

describe('fuzz: login bodies at the hub API', () => {
  let rig: HubRig;
  beforeAll(async () => (rig = await startHubRig()));
  afterAll(() => rig.stop());

  // Right shapes, wrong secrets. One address: past its 20 failures every try is throttled, so
  // the run costs 20 scrypt hashes, not one per try.
  const valids = [
    { username: 'admin', password: 'not-the-password' },
    { username: 'nobody@example.org', password: 'x'.repeat(200) },
  ];

  it(`POST /auth/login through app.inject: no session for a wrong or malformed body, and a code for each (${LOGIN_HTTP} inputs)`, async () => {
    const before = await rig.stored();
    await fuzz(
      fc.asyncProperty(jsonInputs(valids), async (payload) => {
        const r = await rig.hub.api.inject({
          method: 'POST',
          url: '/auth/login',
          remoteAddress: ADDRESS,
          headers: { 'content-type': 'application/json' },
          payload,
        });
        expect(r.headers['set-cookie']).toBeUndefined();
        expectRefusal(r, ['request.invalid', 'auth.invalid', 'auth.rate_limited']);
      }),
      LOGIN_HTTP,
    );
    expect(await rig.stored()).toEqual(before);
    expect(prototypeIsClean()).toBe(true);
  });

  it(`the same bodies through the route's schema and HubAuth.login (${LOGIN_DIRECT} inputs)`, async () => {
    const before = await rig.stored();
    await fuzz(
      fc.asyncProperty(mutationsOf(...valids), async (body) => {
        const parsed = checkUntrusted(Login, body);
        if (!parsed.success) return;
        const r = await rig.hub.auth.login(parsed.data.username, parsed.data.password, ADDRESS);
        must(!r.ok, 'a wrong password opened a session');
      }),
      LOGIN_DIRECT,
    );
    expect(await rig.stored()).toEqual(before);
  });
});

describe('fuzz: price lists at the hub API (PUT /billing/prices)', () => {
  let rig: HubRig;
  beforeAll(async () => (rig = await startHubRig()));
  afterAll(() => rig.stop());

  const valids = [EXAMPLE_PRICE_LIST, { plans: { always: { kind: 'per-day', dayCents: 1200, vatPercent: 20 } } }];
  /** An accepted list is the one stored, and reads back with its schema. */
  const expectStored = async (value: unknown) => {
    const stored = await rig.hub.billing.prices();
    same(stored, value, 'the price list stored');
    must(PriceList.safeParse(stored).success, 'the stored price list does not read back');
  };

  it(`through app.inject: refused with a code and the list in force kept, or stored whole (${PRICES_HTTP} inputs)`, async () => {
    await fuzz(
      fc.asyncProperty(jsonInputs(valids), async (payload) => {
        const before = await rig.stored();
        const r = await rig.hub.api.inject({
          method: 'PUT',
          url: '/billing/prices',
          headers: { ...rig.admin, 'content-type': 'application/json' },
          payload,
        });
        if (r.statusCode === 200) return expectStored(r.json());
        expectRefusal(r, PRICE_CODES);
        expect(await rig.stored()).toEqual(before);
      }),
      PRICES_HTTP,
    );
    expect(prototypeIsClean()).toBe(true);
  });

  it(`the same bodies through BillingLedger.setPrices, the route's own call (${PRICES_DIRECT} inputs)`, async () => {
    await fuzz(
      fc.asyncProperty(mutationsOf(...valids), async (body) => {
        const before = await rig.stored();
        try {
          await expectStored(await rig.hub.billing.setPrices(body));
        } catch (err) {
          if (!(err instanceof TesseraError)) throw err;
          must(PRICE_CODES.includes(err.code), `refused with ${err.code}`);
          same(await rig.stored(), before, 'what the hub stores after a refused price list');
        }
      }),
      PRICES_DIRECT,
    );
    expect(prototypeIsClean()).toBe(true);
  });
});
