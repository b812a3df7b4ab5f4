import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

const MB = 1024 * 1024;

/**
 * What the hub answers to a request that announces a body it never sends in full: the status
 * line, and whether the hub closed the connection while most of the body was still unsent.
 * Bounded: gives up (closed = false) after `ms`.
 */
function announceHugeBody(
  port: number,
  head: string,
  firstChunk: string,
  ms = 10_000,
): Promise<{ status: number; closed: boolean; response: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let response = '';
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0), closed, response });
    };
    const timer = setTimeout(() => finish(false), ms);
    socket.on('data', (d: Buffer) => (response += d.toString('latin1')));
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => socket.write(`${head}\r\n${firstChunk}`));
  });
}

describe('request bodies are bounded before they are read', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    ({ hub, admin } = await signedInHub(silent));
  });
  afterEach(async () => hub.stop());

  it('POST /auth/login refuses a body over 1 MB, JSON or text/plain, with 413 in the error envelope', async () => {
    const text = 'x'.repeat(2 * MB);
    for (const [type, payload] of [
      ['text/plain', text],
      ['application/json', JSON.stringify({ username: 'admin', password: text })],
      ['text/csv', text],
    ] as const) {
      const r = await hub.api.inject({
        method: 'POST',
        url: '/auth/login',
        headers: { 'content-type': type },
        payload,
      });
      expect(r.statusCode, type).toBe(413);
      expect(r.json(), type).toEqual({
        code: 'request.too_large',
        message: expect.stringContaining('too large') as string,
        details: [],
      });
    }
  });

  it('an authenticated JSON route refuses over 1 MB too; only the members import takes more, from a signed-in caller', async () => {
    const big = await hub.api.inject({
      method: 'PUT',
      url: '/directory/plans/p',
      headers: admin,
      payload: { name: 'x'.repeat(2 * MB), access: 'always' },
    });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'request.too_large' });
    // 2 MB of CSV (one row whose name is far too long): over the general limit, under the import's.
    const csv = `member_id,name,plan\nzoe,${'Z'.repeat(2 * MB)},always\n`;
    const imported = await hub.api.inject({
      method: 'POST',
      url: '/directory/members/import',
      headers: { ...admin, 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(imported.statusCode).toBe(400);
    expect(imported.json()).toMatchObject({ code: 'import.invalid' });
    const anonymous = await hub.api.inject({
      method: 'POST',
      url: '/directory/members/import',
      headers: { 'content-type': 'text/csv' },
      payload: csv,
    });
    expect(anonymous.statusCode).toBe(401);
  });

  describe('over a real socket', () => {
    let port: number;
    beforeEach(async () => {
      await hub.api.listen({ host: '127.0.0.1', port: 0 });
      const address = hub.api.server.address();
      port = typeof address === 'object' && address ? address.port : 0;
    });

    const headOf = (path: string, type: string, extra: string[]) =>
      [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', `content-type: ${type}`, ...extra, ''].join('\r\n');

    it('a huge Content-Length to /auth/login is answered 413 and the connection closed, the body unsent', async () => {
      const r = await announceHugeBody(
        port,
        headOf('/auth/login', 'text/plain', ['content-length: 1000000000']),
        'x'.repeat(1024),
      );
      expect(r.status).toBe(413);
      expect(r.closed).toBe(true);
      expect(r.response).toContain('"code":"request.too_large"');
    });

    it('a chunked body to /auth/login is cut off past 1 MB and the connection closed', async () => {
      const chunk = 'x'.repeat(64 * 1024);
      const chunks = Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
      const r = await announceHugeBody(
        port,
        headOf('/auth/login', 'text/plain', ['transfer-encoding: chunked']),
        chunks,
      );
      expect(r.status).toBe(413);
      expect(r.closed).toBe(true);
    });

    it('the members import refuses an anonymous caller before reading the body (huge Content-Length or chunked), and closes', async () => {
      for (const extra of [['content-length: 1000000000'], ['transfer-encoding: chunked']]) {
        const r = await announceHugeBody(
          port,
          headOf('/directory/members/import', 'text/csv', extra),
          extra[0]?.startsWith('content') ? 'member_id,name,plan\n' : '14\r\nmember_id,name,plan\n\r\n',
        );
        expect(r.status, extra[0]).toBe(401);
        expect(r.response, extra[0]).toContain('"code":"auth.required"');
        expect(r.closed, extra[0]).toBe(true);
      }
    });

    it('the members import refuses a signed-in caller announcing more than its own limit, and closes', async () => {
      const r = await announceHugeBody(
        port,
        headOf('/directory/members/import', 'text/csv', [
          `authorization: ${admin.authorization}`,
          'content-length: 1000000000',
        ]),
        'member_id,name,plan\n',
      );
      expect(r.status).toBe(413);
      expect(r.closed).toBe(true);
    });
  });
});
