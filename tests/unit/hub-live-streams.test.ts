import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN } from '../harness/hub-auth.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

describe('live streams per session', () => {
  let hub: Hub;
  let url: string;
  const opened: AbortController[] = [];
  /**
   * Every response, held until the test ends: a response nobody references can be collected, and
   * fetch (undici, Node 24) then cancels its body, closing the stream behind the test's back.
   */
  const held: Response[] = [];
  beforeEach(async () => {
    hub = await createHub({
      dbPath: await testHubDb(),
      clock: new ManualClock('2026-11-23T08:00:00Z'),
      log: silent,
      initialAdmin: TEST_ADMIN,
      passwordCost: FAST_PASSWORD_COST,
    });
    url = await hub.api.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(async () => {
    for (const c of opened.splice(0)) c.abort();
    held.length = 0;
    await hub.stop();
  });

  /** Opens `GET /events/stream` with a session; the stream stays open until aborted. */
  async function open(authorization: string): Promise<{ status: number; body: unknown; abort: () => void }> {
    const controller = new AbortController();
    opened.push(controller);
    const res = await fetch(`${url}/events/stream`, { headers: { authorization }, signal: controller.signal });
    held.push(res);
    const body = res.status === 200 ? undefined : await res.json();
    return { status: res.status, body, abort: () => controller.abort() };
  }

  it('one session holds at most 8 streams: the 9th is 429 in the error envelope, another session still gets its own, and closing one frees its slot', async () => {
    const session = await loginOver(url, TEST_ADMIN.username, TEST_ADMIN.password);
    const streams = [];
    for (let i = 0; i < 8; i++) {
      const s = await open(session.authorization);
      expect(s.status, `stream ${i + 1}`).toBe(200);
      streams.push(s);
    }
    const ninth = await open(session.authorization);
    expect(ninth.status).toBe(429);
    expect(ninth.body).toEqual({
      code: 'auth.rate_limited',
      message: expect.stringContaining('8') as string,
      details: [],
    });
    expect(hub.live.feed.size).toBe(8);

    const other = await loginOver(url, TEST_ADMIN.username, TEST_ADMIN.password);
    expect((await open(other.authorization)).status).toBe(200);

    streams[0]?.abort();
    // The hub sees the close on its own time: bounded wait, then a slot is free again.
    for (let i = 0; i < 100 && hub.live.feed.size > 8; i++) await new Promise((r) => setTimeout(r, 50));
    expect(hub.live.feed.size).toBe(8);
    expect((await open(session.authorization)).status).toBe(200);
    expect((await open(session.authorization)).status).toBe(429);
  });
});
