import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../cloud-sync/hub/admin/audit.js';
import { DirectoryChanges } from '../../cloud-sync/hub/admin/directory-changes.js';
import type { Account } from '../../cloud-sync/hub/auth/account.js';
import type { CollectionEntity as Entity } from '../../cloud-sync/hub/directory.js';
import { statusOf } from '../../shared/platform/error-table.js';
import { TesseraError, type ErrorCode } from '../../shared/platform/errors.js';
import { expectRefusal, type HubRig, MALFORMED_ESCAPES, SEED, segment, startHubRig } from './hub-rig.js';
import { jsonInputs, must, mutatedFrom, prototypeIsClean, same, weird } from './kit.js';
import { fuzz, inputs } from '../support/fuzz.js';
import { silent } from '../support/logger.js';

/** What a refused directory write may throw (shared/protocol/api/hub-admin-directory.ts). */
const CODES = ['request.invalid', 'not_found', 'conflict', 'auth.forbidden'];
/** Over HTTP, also fastify's refusal of a body it has no parser for (a form, say). */
const HTTP_CODES = [...CODES, 'request.unsupported_type'];
const COLLECTIONS: Array<{ entity: Entity; path: string; id: string; valid: object }> = [
  { entity: 'plan', path: 'plans', id: 'always', valid: SEED.plan },
  { entity: 'plan', path: 'plans', id: 'staffed', valid: SEED.staffed },
  { entity: 'employer', path: 'employers', id: 'acme', valid: SEED.employer },
  { entity: 'member', path: 'members', id: 'alice', valid: SEED.member },
  { entity: 'badge', path: 'badges', id: SEED.badge.uid, valid: SEED.badge },
];
/** Some inputs through app.inject, the rest through the call the routes make with the parsed body. */
const [THROUGH_HTTP, DIRECT] = [inputs(1_000, { full: 10_000 }), inputs(10_000, { full: 90_000, postgres: 5_000 })];

describe('fuzz: directory bodies at the hub API (plans, employers, members, badges)', () => {
  let rig: HubRig;
  beforeAll(async () => (rig = await startHubRig()));
  afterAll(() => rig.stop());

  /** A write that went through: one revision more, and what is stored reads back with its schema. */
  async function expectStored(entity: Entity, id: string, value: unknown, before: { revision: number }): Promise<void> {
    const db = rig.hub.store.db;
    must(
      (await rig.hub.directory.revision(db)) === before.revision + 1,
      'a write that went through is not one revision',
    );
    same(await rig.hub.directory.get(db, entity, id), value, `the ${entity} stored`);
  }

  const target = fc.tuple(
    fc.nat({ max: COLLECTIONS.length - 1 }),
    fc.oneof(
      { weight: 18, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: weird.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))) },
      { weight: 1, arbitrary: fc.constantFrom(...MALFORMED_ESCAPES) },
    ),
  );
  const contentType = fc.oneof(
    { weight: 18, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'text/plain',
        'application/x-www-form-urlencoded',
        'application/json; charset=latin1',
        '',
      ),
    },
  );
  const bodies = jsonInputs(COLLECTIONS.map((c) => c.valid));

  it(`PUT and PATCH through app.inject: refused with a code and nothing stored, or stored as its schema says (${THROUGH_HTTP} inputs)`, async () => {
    const answers = new Map<number, number>();
    await fuzz(
      fc.asyncProperty(
        fc.constantFrom('PUT' as const, 'PATCH' as const),
        target,
        contentType,
        bodies,
        async (method, [c, weirdId], type, payload) => {
          const col = COLLECTIONS[c]!;
          const id = weirdId ?? col.id;
          const before = (await rig.stored()) as { revision: number };
          const r = await rig.hub.api.inject({
            method,
            url: `/directory/${col.path}/${segment(id)}`,
            headers: { ...rig.admin, 'content-type': type },
            payload,
          });
          answers.set(r.statusCode, (answers.get(r.statusCode) ?? 0) + 1);
          if (r.statusCode === 200)
            return expectStored(
              col.entity,
              col.entity === 'badge' ? r.json<{ value: { uid: string } }>().value.uid : id,
              r.json<{ value: unknown }>().value,
              before,
            );
          // Each code answers with the one status the error table gives it.
          expect(r.statusCode).toBe(statusOf(expectRefusal(r, HTTP_CODES) as ErrorCode));
          expect(await rig.stored()).toEqual(before);
        },
      ),
      THROUGH_HTTP,
    );
    expect(prototypeIsClean()).toBe(true);
    expect([...answers.keys()]).toEqual(expect.arrayContaining([200, 400]));
  });

  it(`the same bodies through DirectoryChanges, the routes' own call (${DIRECT} inputs)`, async () => {
    const account = (await rig.hub.auth.accounts.list(rig.hub.store.db))[0] as Account;
    const changes = new DirectoryChanges(
      rig.hub.store.db,
      rig.hub.directory,
      new AuditLog(rig.hub.store.db, () => 0, silent),
    );
    await fuzz(
      fc.asyncProperty(mutatedFrom(COLLECTIONS.map((c) => c.valid)), fc.boolean(), async ({ from, value }, patch) => {
        const col = COLLECTIONS[from]!;
        const key = col.entity === 'badge' ? 'uid' : 'id';
        const body = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { value };
        const before = (await rig.stored()) as { revision: number };
        try {
          const r = await changes.upsert(account, col.entity, col.id, (old) => ({
            ...(patch ? (old as object) : {}),
            ...body,
            [key]: col.id,
          }));
          await expectStored(col.entity, col.id, r.value, before);
        } catch (err) {
          if (!(err instanceof TesseraError)) throw err;
          must(CODES.includes(err.code), `refused with ${err.code}`);
          same(await rig.stored(), before, 'what the hub stores after a refused write');
        }
      }),
      DIRECT,
    );
    expect(prototypeIsClean()).toBe(true);
  });
});
