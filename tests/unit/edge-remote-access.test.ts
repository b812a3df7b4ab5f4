import { describe, expect, it } from 'vitest';
import { isLoopback } from '../../edge/api/remote-access.js';
import { edgeApiFixture, type EdgeApi } from '../harness/edge-api.js';
import { startSite, type Harness } from '../harness/site.js';

const TOKEN = 'a-long-enough-token-1234';
const withApi = edgeApiFixture();
let site: Harness | undefined;

async function apiWith(token?: string) {
  const started = await withApi({
    override: { api: { host: '0.0.0.0', port: 0, ...(token !== undefined ? { token } : {}) } },
  });
  site = started.site;
  return started.app;
}

const release = (a: EdgeApi, remoteAddress: string, headers: Record<string, string> = {}) =>
  a.inject({ method: 'POST', url: '/lockers/bank-a/1/release', remoteAddress, headers, payload: {} });

describe('the local API from the network', () => {
  it('without api.token it answers only the Pi itself', async () => {
    const a = await apiWith();
    expect((await a.inject({ url: '/health', remoteAddress: '127.0.0.1' })).statusCode).toBe(200);
    expect((await a.inject({ url: '/health', remoteAddress: '::ffff:127.0.0.1' })).statusCode).toBe(200);
    for (const remoteAddress of ['192.168.1.20', '10.0.0.7', '::ffff:192.168.1.20', 'fe80::1']) {
      const r = await a.inject({ url: '/health', remoteAddress });
      expect(r.statusCode, remoteAddress).toBe(403);
      expect(r.json()).toMatchObject({ code: 'auth.forbidden' });
    }
    expect((await release(a, '192.168.1.20', { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(403);
  });

  it('with api.token a request from the network needs it, and only it', async () => {
    const a = await apiWith(TOKEN);
    expect((await release(a, '192.168.1.20')).json()).toMatchObject({ code: 'auth.required' });
    expect(
      (await release(a, '192.168.1.20', { authorization: 'Bearer wrong-token-wrong-token' })).json(),
    ).toMatchObject({ code: 'auth.invalid' });
    expect((await release(a, '192.168.1.20', { authorization: `Bearer ${TOKEN}` })).statusCode).toBe(200);
    const tap = await a.inject({
      method: 'POST',
      url: '/simulate/tap',
      remoteAddress: '192.168.1.20',
      payload: { reader: 'front-in', uid: '04A1A1A1A1A1A1' },
    });
    expect(tap.statusCode).toBe(401);
    expect(site?.events().filter((e) => e.type === 'access.granted')).toEqual([]);
  });

  it('a token shorter than 16 characters is refused in the config', async () => {
    await expect(startSite({ api: { host: '127.0.0.1', port: 0, token: 'short' } })).rejects.toThrow(
      /at least 16 characters/,
    );
  });

  it('knows loopback from the rest', () => {
    expect(['127.0.0.1', '127.8.9.1', '::1', '::ffff:127.0.0.1'].every(isLoopback)).toBe(true);
    expect(['128.0.0.1', '::2', '::ffff:10.0.0.1', '', undefined, 'localhost'].some(isLoopback)).toBe(false);
  });
});
