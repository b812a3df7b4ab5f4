import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubIngest, type RejectReason } from '../../cloud-sync/hub/ingest.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { EventBatch, SiteStatus } from '../../shared/protocol/sync.js';
import { topics } from '../../shared/protocol/topics.js';
import { batchOf, siteEvent, statusOf } from '../harness/hub-fixtures.js';
import { jsonInputs, must, prototypeIsClean, same } from './kit.js';
import { fuzz, inputs, part } from '../support/fuzz.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

const t = topics();
const N = inputs(100_000, { postgres: 10_000 });
const REASONS: readonly RejectReason[] = [
  'payload.too_large',
  'payload.not_json',
  'payload.invalid',
  'topic.site_mismatch',
  'topic.unknown',
];
const ID = {
  1: '0196f1a0-0000-7000-8000-000000000001',
  2: '0196f1a0-0000-7000-8000-000000000002',
  3: '0196f1a0-0000-7000-8000-000000000003',
};

/** A batch of every shape of event, stored before the run: re-sent as is, it is a duplicate. */
function storedBatch(): EventBatch {
  const base = (seq: 1 | 2 | 3) => ({ ...siteEvent('murat', seq, ID[seq]) });
  const events: SiteEvent[] = [
    {
      ...base(1),
      type: 'access.granted',
      data: {
        reader: 'front-in',
        role: 'entry',
        door: 'front',
        badge: '…A1A1',
        memberId: 'alice',
        cloneable: true,
        reason: 'ok',
      },
    },
    {
      ...base(2),
      type: 'presence.out',
      data: { memberId: 'alice', cause: 'badge', via: 'exit_reader', door: 'front', minutes: 42 },
    },
    { ...base(3), type: 'consumable.used', data: { memberId: 'alice', item: 'print-page', quantity: 3 } },
  ] as SiteEvent[];
  return { v: 1, site: 'murat', events };
}

/** A NUL, or half a surrogate pair: a text no store of the hub can hold. */
const HALF_PAIR = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const unstorable = (text: string) => text.includes('\u0000') || HALF_PAIR.test(text);
const holdsUnstorable = (value: unknown): boolean =>
  typeof value === 'string'
    ? unstorable(value)
    : Array.isArray(value)
      ? value.some(holdsUnstorable)
      : value !== null &&
        typeof value === 'object' &&
        Object.entries(value).some(([k, v]) => unstorable(k) || holdsUnstorable(v));

/**
 * What a message is expected to do, judged with the shared schemas alone, and the one rule of
 * the hub's stores: a batch holding a text they cannot hold is refused whole.
 */
function verdict(topic: string, payload: Buffer): 'store' | 'refuse' | 'ignore' {
  if (topic.endsWith('/status') && payload.length === 0) return 'ignore';
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return 'refuse';
  }
  const schema = topic.endsWith('/events') ? EventBatch : topic.endsWith('/status') ? SiteStatus : undefined;
  const parsed = schema === undefined ? undefined : checkUntrusted(schema, json);
  if (!parsed?.success || parsed.data.site !== t.siteOf(topic)) return 'refuse';
  return schema === EventBatch && holdsUnstorable(parsed.data) ? 'refuse' : 'store';
}

describe('fuzz: MQTT payloads at the hub (events and status topics)', () => {
  let store: HubStore;
  let ingest: HubIngest;
  const snapshot = async () => ({
    events: await store.db.all('SELECT site, seq, id FROM events ORDER BY site, seq'),
    progress: await store.db.all('SELECT * FROM site_progress ORDER BY site'),
  });
  const lastDeadLetter = () =>
    store.db.get<{ id: number; reason: string }>('SELECT id, reason FROM dead_letters ORDER BY id DESC LIMIT 1');

  beforeAll(async () => {
    store = new HubStore(await openHubDatabase(await testHubDb()));
    ingest = new HubIngest({ store, clock: new ManualClock('2026-11-23T08:00:00Z'), log: silent, commitWindowMs: 0 });
    ingest.onMessage(t.events('murat'), Buffer.from(JSON.stringify(storedBatch())));
    ingest.onMessage(t.status('murat'), Buffer.from(JSON.stringify(statusOf('murat', { lastSeq: 3 }))));
    await ingest.settled();
    expect(ingest.counters).toMatchObject({ applied: 3, rejected: 0 });
  });
  afterAll(() => store.db.close());

  const seen = { store: 0, refuse: 0, ignore: 0 };
  /** One message: refused ones are dead-lettered with a reason code and change nothing stored. */
  async function check(topic: string, payload: Buffer): Promise<void> {
    const before = await snapshot();
    const counters = { ...ingest.counters };
    const letter = (await lastDeadLetter())?.id ?? 0;
    ingest.onMessage(topic, payload); // never throws: a throw fails the property
    await ingest.settled();
    must(ingest.counters.storeErrors === counters.storeErrors, 'a message made the store fail');
    const expected = verdict(topic, payload);
    seen[expected]++;
    if (expected === 'refuse') {
      must(ingest.counters.rejected === counters.rejected + 1, 'a bad message was not counted as rejected');
      const dead = await lastDeadLetter();
      must(dead?.id === letter + 1, 'a bad message was not dead-lettered');
      must(REASONS.includes(dead.reason as RejectReason), () => `dead letter reason ${dead.reason}`);
      same(await snapshot(), before, 'what the hub stores after a refused message');
    } else if (expected === 'ignore') {
      same(ingest.counters, { ...counters, received: counters.received + 1 }, 'counters after a cleared status');
      same(await snapshot(), before, 'what the hub stores after a cleared status');
    } else {
      must(ingest.counters.rejected === counters.rejected, 'a valid message was rejected');
    }
  }

  const valids = [storedBatch(), batchOf('murat', 4, 5), statusOf('murat', { lastSeq: 3, parked: [[7, 8]] })];
  const topic = fc.constantFrom(
    t.events('murat'),
    t.events('murat'),
    t.status('murat'),
    t.events('lyon'),
    t.status('lyon'),
    'tessera/v1/sites/murat/other',
    'tessera/v1/sites/../events',
    'tessera/v1/sites/MURAT/status',
    '',
  );
  const PARTS = 4;
  for (let p = 1; p <= PARTS; p++) {
    it(`refuses, dead-letters and counts every bad message, storing nothing (part ${p} of ${PARTS}, ${part(N, PARTS)} inputs)`, async () => {
      await fuzz(
        fc.asyncProperty(topic, jsonInputs(valids), (tp, payload) => check(tp, payload)),
        part(N, PARTS),
      );
      expect(prototypeIsClean()).toBe(true);
      // The mix reached both ends: batches and statuses stored, and messages refused.
      expect(seen.store).toBeGreaterThan(0);
      expect(seen.refuse).toBeGreaterThan(seen.store);
    });
  }

  it('a payload over the size limit is refused unread', async () => {
    await check(t.events('murat'), Buffer.alloc(4 * 1024 * 1024 + 1, '['));
    expect((await lastDeadLetter())?.reason).toBe('payload.too_large');
  });
});
