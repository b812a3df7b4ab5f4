import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  generateHubKeys,
  hubPrivateKey,
  hubPublicKey,
  signBody,
  verifyBody,
} from '../../shared/protocol/signing.js';
import { Ack, DirectoryUpdate, EventBatch, SignedDirectoryUpdate } from '../../shared/protocol/sync.js';
import { EdgeStore } from '../../edge/store/store.js';
import { uuidv7 } from '../../shared/platform/ids.js';

const event = (seq: number, site = 'murat') => ({
  v: 1,
  site,
  seq,
  id: uuidv7(seq),
  at: '2026-11-23T09:00:00.000+01:00',
  type: 'door.forced',
  data: { door: 'front' },
});

describe('hub signatures', () => {
  const keys = generateHubKeys();
  const priv = hubPrivateKey(keys.privateKeyPem);
  const pub = hubPublicKey(keys.publicKeyPem);
  const body = DirectoryUpdate.parse({
    v: 1,
    site: 'murat',
    kind: 'delta',
    from: 3,
    to: 4,
    issuedAt: '2026-11-23T09:00:00.000+01:00',
    changes: [{ entity: 'badge', op: 'upsert', value: { uid: '04A1A1A1A1A1A1', member: 'alice', status: 'revoked' } }],
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
    expect(canonicalJson({ b: 1, a: undefined })).toBe('{"b":1}');
  });

  it('a signed update verifies; a changed body, another key or garbage does not', () => {
    const signature = signBody(body, priv);
    expect(SignedDirectoryUpdate.safeParse({ body, signature }).success).toBe(true);
    expect(verifyBody(body, signature, pub)).toBe(true);
    expect(verifyBody({ ...body, to: 5 }, signature, pub)).toBe(false);
    expect(verifyBody(body, signature, hubPublicKey(generateHubKeys().publicKeyPem))).toBe(false);
    expect(verifyBody(body, 'not base64 at all', pub)).toBe(false);
    fc.assert(
      fc.property(fc.string(), (sig) => {
        expect(verifyBody(body, sig, pub)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a key that is not Ed25519', () => {
    expect(() => hubPublicKey('-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----')).toThrow();
  });
});

describe('sync messages', () => {
  it('a batch holds consecutive events of its own site only', () => {
    expect(EventBatch.safeParse({ v: 1, site: 'murat', events: [event(4), event(5)] }).success).toBe(true);
    expect(EventBatch.safeParse({ v: 1, site: 'murat', events: [event(4), event(6)] }).success).toBe(false);
    expect(EventBatch.safeParse({ v: 1, site: 'murat', events: [event(4, 'allanche')] }).success).toBe(false);
    expect(EventBatch.safeParse({ v: 1, site: 'murat', events: [] }).success).toBe(false);
  });

  it('an ack carries well-formed missing ranges', () => {
    expect(Ack.parse({ v: 1, site: 'murat', seq: 10, at: '2026-11-23T09:00:00.000+01:00' }).missing).toEqual([]);
    expect(
      Ack.safeParse({ v: 1, site: 'murat', seq: 10, missing: [[15, 12]], at: '2026-11-23T09:00:00.000+01:00' }).success,
    ).toBe(false);
  });
});

describe('the outbox acknowledgement in the edge store', () => {
  it('moves forward only, never past the last event, and parks ranges with a reason', () => {
    const store = EdgeStore.open(':memory:', 'murat', 'Europe/Paris');
    for (let i = 0; i < 5; i++)
      store.transaction(() => store.events.append({ type: 'door.forced', data: { door: 'front' } }, 0));
    expect(store.events.ackedSeq()).toBe(0);
    expect(store.events.markAcked(3)).toBe(true);
    expect(store.events.markAcked(2)).toBe(true);
    expect(store.events.ackedSeq()).toBe(3);
    expect(store.events.markAcked(6)).toBe(false);
    expect(store.events.ackedSeq()).toBe(3);
    store.parked.park(4, 4, 'broker refused it 5 times', 0);
    expect(store.parked.list()).toEqual([{ from: 4, to: 4, reason: 'broker refused it 5 times', at: 0 }]);
    store.close();
  });
});
