import { afterEach, describe, expect, it } from 'vitest';
import { OutboxStream, type Take } from '../../cloud-sync/edge/outbox-stream.js';
import { EdgeStore } from '../../edge/store/store.js';

const stores: EdgeStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A site store with `n` events, the first `acked` acknowledged by the hub, and a stream over it (batches of 10). */
function rig(n: number, acked: number) {
  const store = EdgeStore.open(':memory:', 'murat', 'Europe/Paris');
  stores.push(store);
  store.transaction(() => {
    for (let i = 0; i < n; i++)
      store.events.append({ type: 'door.forced', data: { door: 'front' } }, Date.parse('2026-11-23T08:00:00Z') + i);
  });
  store.events.markAcked(acked);
  const stream = new OutboxStream(store.events, {
    batchSize: 10,
    window: 100,
    failureLimit: 3,
    ackTimeoutMs: 15_000,
    now: () => 0,
  });
  return { store, stream };
}

function sendAll(stream: OutboxStream): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let t: Take | undefined = stream.take(); t; t = stream.take()) {
    if (!('batch' in t)) throw new Error('unexpected unsendable event');
    out.push([t.batch.from, t.batch.to]);
    stream.settled(t.batch.id);
  }
  return out;
}

describe('a re-send asked by the hub (command resend)', () => {
  it('sends acknowledged events again from the seq asked, then carries on with the rest', () => {
    const { stream } = rig(30, 25);
    expect(sendAll(stream)).toEqual([[26, 30]]);
    expect(stream.resendFrom(12)).toBe(12);
    expect(sendAll(stream)).toEqual([
      [12, 21],
      [22, 30],
    ]);
    expect(sendAll(stream)).toEqual([]);
  });

  it('an ack or a rewind in the middle does not skip the rest of the re-send', () => {
    const { store, stream } = rig(30, 30);
    stream.resendFrom(1);
    const first = stream.take();
    expect(first && 'batch' in first ? [first.batch.from, first.batch.to] : undefined).toEqual([1, 10]);
    store.events.markAcked(30);
    expect(stream.acknowledged([])).toBe(false);
    stream.rewind();
    expect(sendAll(stream)).toEqual([
      [11, 20],
      [21, 30],
    ]);
  });

  it('starts from the first event still stored when older ones were pruned', () => {
    const { store, stream } = rig(30, 30);
    store.db.prepare('DELETE FROM events WHERE seq < 15').run();
    expect(stream.resendFrom(3)).toBe(15);
    expect(sendAll(stream)).toEqual([
      [15, 24],
      [25, 30],
    ]);
  });

  it('a seq at or after what is still to send changes nothing', () => {
    const { stream } = rig(30, 10);
    expect(stream.resendFrom(20)).toBe(11);
    expect(stream.resendFrom(99)).toBe(11);
    expect(sendAll(stream)).toEqual([
      [11, 20],
      [21, 30],
    ]);
  });
});
