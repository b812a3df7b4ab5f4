import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAck } from '../../cloud-sync/edge/ack.js';
import { HubDirectoryUpdates, type Refusal } from '../../edge/directory/hub-updates.js';
import {
  canonicalJson,
  generateHubKeys,
  hubPrivateKey,
  hubPublicKey,
  signBody,
} from '../../shared/protocol/signing.js';
import { Ack, type DirectoryUpdate } from '../../shared/protocol/sync.js';
import type { Harness } from '../harness/site.js';
import { startSite, UID } from '../harness/site.js';
import { jsonInputs, must, mutatedFrom, mutationsOf, prototypeIsClean, same, toJsonText } from './kit.js';
import { fuzz, inputs, part } from '../support/fuzz.js';
import { silent } from '../support/logger.js';

const AT = '2026-11-23T09:00:00+01:00';
const N = { ack: inputs(100_000), directory: inputs(16_000) };

describe('fuzz: what the sync worker receives on the ack topic', () => {
  const valids = [
    { v: 1, site: 'murat', seq: 12, missing: [[14, 15]], at: AT },
    { v: 1, site: 'murat', seq: 0, at: AT },
  ];

  it(`readAck accepts exactly the schema-valid acks of its site and refuses the rest with a reason, never throwing (${N.ack} inputs)`, () => {
    fuzz(
      fc.property(jsonInputs(valids), (payload) => {
        const verdict = readAck(payload, 'murat');
        if (payload.length === 0) return same(verdict, { ok: 'cleared' }, 'an empty ack');
        let expected = false;
        try {
          const parsed = Ack.safeParse(JSON.parse(payload.toString('utf8')));
          expected = parsed.success && parsed.data.site === 'murat';
        } catch {
          expected = false;
        }
        if (expected) must(verdict.ok === true, 'a valid ack was refused');
        else
          must(
            verdict.ok === false && /\S/.test(verdict.reason),
            () => `a bad ack was not refused with a reason: ${JSON.stringify(verdict)}`,
          );
      }),
      N.ack,
    );
    expect(prototypeIsClean()).toBe(true);
  });
});

const HUB = generateHubKeys();
const THIEF = generateHubKeys();
const REFUSALS: readonly Refusal[] = ['malformed', 'forged', 'foreign', 'replayed', 'out_of_order', 'inconsistent'];

describe('fuzz: directory updates at the edge (edge/directory/hub-updates.ts)', () => {
  let site: Harness;
  let updates: HubDirectoryUpdates;
  const fingerprint = () =>
    site.store.db
      .prepare(
        `SELECT (SELECT group_concat(id || body) FROM plans) AS plans, (SELECT group_concat(id || name) FROM employers) AS employers,
                (SELECT group_concat(id || body) FROM members) AS members, (SELECT group_concat(uid || member || status || type) FROM badges) AS badges`,
      )
      .get();
  const state = () => ({ meta: site.store.directory.meta(), content: fingerprint() });

  beforeAll(async () => {
    site = await startSite({
      directory: { source: 'hub', maxAgeHours: 1 },
      broker: { url: 'mqtt://127.0.0.1:1', hubPublicKey: HUB.publicKeyPem },
    });
    updates = new HubDirectoryUpdates({
      site: 'murat',
      publicKey: hubPublicKey(HUB.publicKeyPem),
      edge: site.edge,
      log: silent,
    });
    // One genuine update in force, so replays of it and of older ones are refused as such.
    expect(updates.receive(signed(delta(1, 2, '2026-11-23T08:00:00Z')))).toEqual({ applied: true, revision: 2 });
  });
  afterAll(() => site.stop());

  const revoke = {
    entity: 'badge',
    op: 'upsert',
    value: { uid: UID.alice, member: 'alice', status: 'revoked', type: 'uid' },
  };
  const member = {
    entity: 'member',
    op: 'upsert',
    value: { id: 'zoe', name: 'Zoé', plan: 'always', role: 'member', status: 'active' },
  };
  function delta(from: number, to: number, issuedAt: string, changes: unknown[] = [revoke]): DirectoryUpdate {
    return { v: 1, site: 'murat', kind: 'delta', from, to, issuedAt, changes } as DirectoryUpdate;
  }
  const snapshot = (issuedAt: string): DirectoryUpdate =>
    ({
      v: 1,
      site: 'murat',
      kind: 'snapshot',
      to: 9,
      issuedAt,
      chunk: 0,
      chunks: 2,
      changes: [member],
    }) as DirectoryUpdate;
  const signed = (body: unknown, key = HUB.privateKeyPem) =>
    JSON.stringify({ body, signature: signBody(body, hubPrivateKey(key)) });

  /** A refused update changes neither the directory nor its revision, and names its refusal. */
  /** `inForce`: the payload may be the update in force, signature intact: then it is a duplicate, ignored. */
  function refused(payload: Buffer | string, inForce = false): Refusal | 'duplicate' {
    const before = state();
    const outcome = updates.receive(payload);
    same(state(), before, 'the directory after a refused update');
    if (inForce && 'duplicate' in outcome) return 'duplicate';
    if (outcome.applied || 'pending' in outcome || 'duplicate' in outcome)
      throw new Error(`not refused: ${JSON.stringify(outcome)}`);
    must(REFUSALS.includes(outcome.refused), () => `refusal ${outcome.refused}`);
    return outcome.refused;
  }

  it(`garbage, forged and tampered updates are refused with a code and change nothing (${2 * part(N.directory, 4)} inputs)`, () => {
    const fresh = '2026-11-23T09:00:00Z';
    // What a thief's key signs, and genuine updates with their body changed after signing.
    const forged = [signed(delta(2, 3, fresh), THIEF.privateKeyPem), signed(snapshot(fresh), THIEF.privateKeyPem)];
    const genuine = [delta(2, 3, fresh), snapshot(fresh), delta(2, 2, fresh, [])].map((body) => ({
      body,
      signature: signBody(body, hubPrivateKey(HUB.privateKeyPem)),
    }));
    const tampered = mutatedFrom(genuine.map((g) => g.body))
      .map(({ from, value }) => ({ body: value, signature: genuine[from]!.signature, original: genuine[from]!.body }))
      .filter(({ body, original }) => {
        try {
          return canonicalJson(body) !== canonicalJson(original);
        } catch {
          return true;
        }
      });
    const input = fc.oneof(
      jsonInputs(forged.map((f) => JSON.parse(f) as unknown)).map((b) => ({
        payload: b as Buffer | string,
        tamperedBody: false,
      })),
      tampered.map(({ body, signature }) => ({ payload: toJsonText({ body, signature }), tamperedBody: true })),
    );
    fuzz(
      fc.property(input, ({ payload, tamperedBody }) => {
        const refusal = refused(payload);
        must(
          !tamperedBody || refusal === 'malformed' || refusal === 'forged',
          () => `a body changed after signing was refused as ${refusal}`,
        );
      }),
      2 * part(N.directory, 4),
    );
    expect(prototypeIsClean()).toBe(true);
  });

  it(`replays of genuine updates are refused, or ignored when they are the update in force, whatever is done to their envelope (${part(N.directory, 4)} inputs)`, () => {
    const replays = [
      delta(1, 2, '2026-11-23T08:00:00Z'),
      delta(0, 1, '2026-11-23T07:00:00Z'),
      snapshot('2026-11-23T07:30:00Z'),
    ].map((b) => JSON.parse(signed(b)) as unknown);
    fuzz(
      fc.property(jsonInputs(replays), (payload) => void refused(payload, true)),
      part(N.directory, 4),
    );
  });

  it(`whatever the hub key really signs is refused with a code or leaves a directory that holds together (${part(N.directory, 4)} inputs)`, () => {
    let minute = 0;
    const bodies = [
      delta(2, 3, AT),
      snapshot(AT),
      delta(2, 3, AT, [member, { ...revoke, value: { ...revoke.value, member: 'zoe' } }]),
      delta(2, 2, AT, []),
    ];
    const input = fc.tuple(mutationsOf(...bodies), fc.boolean(), fc.boolean());
    fuzz(
      fc.property(input, ([body, fresh, follows]) => {
        // Mostly newer than the update in force and following on from it: the checks past the signature run.
        const meta = site.store.directory.meta();
        if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
          if (fresh) body.issuedAt = new Date(Date.parse('2026-11-24T00:00:00Z') + ++minute * 60_000).toISOString();
          if (follows && body.kind === 'delta') body.from = meta?.revision ?? 0;
        }
        let text: string;
        try {
          text = signed(JSON.parse(toJsonText(body)));
        } catch {
          return; // too deep for canonical JSON: the hub could not have signed it either
        }
        const before = state();
        const outcome = updates.receive(text);
        if (!outcome.applied) {
          same(state(), before, 'the directory after a refused update');
          if ('refused' in outcome)
            must(REFUSALS.includes(outcome.refused) && outcome.refused !== 'forged', `refusal ${outcome.refused}`);
          return;
        }
        must(
          site.store.directory.meta()?.revision === outcome.revision,
          'the revision applied is not the one in force',
        );
        same(site.store.directory.dangling(), [], 'dangling references after an applied update');
      }),
      part(N.directory, 4),
    );
    expect(prototypeIsClean()).toBe(true);
  });
});
