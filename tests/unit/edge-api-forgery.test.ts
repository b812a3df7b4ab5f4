import { describe, expect, it } from 'vitest';
import { edgeApiFixture } from '../harness/edge-api.js';
import { UID } from '../harness/site.js';

const withApi = edgeApiFixture();

/** A site whose locker bank-a/1 is held by alice, its API on a real loopback socket. */
async function siteWithHeldLocker() {
  const { app, site } = await withApi();
  site.tap('lockers', UID.alice);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const holder = async () =>
    (
      (await (await fetch(`${url}/lockers`)).json()) as {
        banks: Array<{ id: string; lockers: Array<{ member: string | null }> }>;
      }
    ).banks.find((b) => b.id === 'bank-a')?.lockers[0]?.member;
  expect(await holder()).toBe('alice');
  return { url, holder, site };
}

type Forged = { headers?: Record<string, string>; body?: string; method?: string };
const post = (url: string, init: Forged = {}) =>
  fetch(url, {
    method: init.method ?? 'POST',
    headers: init.headers ?? {},
    ...(init.body !== undefined ? { body: init.body } : {}),
    signal: AbortSignal.timeout(10_000),
  });

describe('the local API refuses what another web page could send to it', () => {
  it('a cross-origin form post, no-cors post or empty post releases no locker (403 with the error envelope)', async () => {
    const { url, holder } = await siteWithHeldLocker();
    const release = `${url}/lockers/bank-a/1/release`;
    const forged: Forged[] = [
      { headers: { origin: 'http://evil.example' } },
      { headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' },
      { headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body: '{}' },
      {
        headers: { origin: 'http://evil.example', 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x--\r\n',
      },
      { headers: { origin: 'null', 'content-type': 'text/plain' }, body: '' },
      // Another origin that a browser would never let send JSON without a preflight we do not answer.
      { headers: { origin: 'http://evil.example', 'content-type': 'application/json' }, body: '{}' },
      // A page on another port of the same machine is another origin.
      { headers: { origin: 'http://127.0.0.1:1', 'content-type': 'text/plain' }, body: '{}' },
      // No origin and no JSON: nothing says who sent it.
      {},
      { headers: { 'content-type': 'text/plain;application/json' }, body: '{}' },
    ];
    for (const init of forged) {
      const r = await post(release, init);
      expect(r.status, JSON.stringify(init)).toBe(403);
      expect(await r.json()).toMatchObject({
        code: 'auth.forbidden',
        message: expect.stringContaining('application/json'),
      });
    }
    for (const method of ['PUT', 'PATCH', 'DELETE'])
      expect((await post(release, { method, headers: { origin: 'http://evil.example' } })).status).toBe(403);
    expect(await holder()).toBe('alice');
  });

  it('a simulated tap from another origin opens no door', async () => {
    const { url, site } = await siteWithHeldLocker();
    const r = await post(`${url}/simulate/tap`, {
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify({ reader: 'front-in', uid: UID.dan }),
    });
    expect(r.status).toBe(403);
    expect(site.events().filter((e) => e.type === 'access.granted' && e.data.memberId === 'dan')).toEqual([]);
  });

  it("a JSON body, or the API's own origin, is still served", async () => {
    const { url, holder } = await siteWithHeldLocker();
    const release = `${url}/lockers/bank-a/1/release`;
    expect(
      await (
        await post(release, { headers: { 'content-type': 'application/json; charset=utf-8' }, body: '{}' })
      ).json(),
    ).toEqual({ released: true });
    expect(await holder()).toBe(null);
    expect((await post(release, { headers: { origin: url } })).status).toBe(200);
    expect((await post(release, { headers: { origin: url.replace('127.0.0.1', 'localhost') } })).status).toBe(403);
    expect((await fetch(`${url}/health`, { headers: { origin: 'http://evil.example' } })).status).toBe(200);
  });
});
