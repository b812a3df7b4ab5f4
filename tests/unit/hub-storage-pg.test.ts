import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { pgAdmin, TEST_PG_URL, testHubDb } from '../harness/hub-db.js';

/** PostgreSQL's own failures (the unit-pg project only): the connection lost, the server away. */
describe('hub storage on PostgreSQL: failures', () => {
  it('a lost connection fails the call with store.unavailable; the next call reconnects, statements prepared again', () => {
    const db = openHubDatabase(testHubDb());
    try {
      const sites = db.prepare<[], number>('SELECT COUNT(*) FROM site_progress').pluck();
      expect(sites.get()).toBe(0);
      const pid = db.prepare<[], number>('SELECT pg_backend_pid()').pluck().get();
      pgAdmin(`SELECT pg_terminate_backend(${pid}, 5000)`); // waits until it is gone
      expect(() => sites.get()).toThrow(
        expect.objectContaining({ code: 'store.unavailable', message: expect.stringContaining('lost the connection') }),
      );
      expect(sites.get()).toBe(0);
      expect(db.prepare<[], number>('SELECT pg_backend_pid()').pluck().get()).not.toBe(pid);
    } finally {
      db.close();
    }
  });

  it('while the server is away: one connection attempt a second at most, the calls between refused at once; back when it is', async () => {
    const proxy = await tcpProxy(new URL(TEST_PG_URL).port || '5432');
    const url = testHubDb().replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${proxy.port}`);
    const db = openHubDatabase(url);
    try {
      const one = db.prepare<[], number>('SELECT 1').pluck();
      expect(one.get()).toBe(1);
      await proxy.down();
      expect(() => one.get()).toThrow(/lost the connection/);
      expect(() => one.get()).toThrow(/cannot connect to PostgreSQL/);
      expect(() => one.get()).toThrow(/unreachable: retrying/);
      await proxy.up();
      await new Promise((r) => setTimeout(r, 1100));
      expect(one.get()).toBe(1);
    } finally {
      db.close();
      await proxy.close();
    }
  });

  it('refuses a string holding a NUL rather than storing it cut off', () => {
    const db = openHubDatabase(testHubDb());
    try {
      expect(() =>
        db
          .prepare<[string]>(
            "INSERT INTO sites (id, name, time_zone, capacity, created_at, updated_at) VALUES ('s', ?, 'UTC', 1, 0, 0)",
          )
          .run('Murat\u0000 annex'),
      ).toThrow(/NUL/);
      expect(db.prepare<[], number>('SELECT COUNT(*) FROM sites').pluck().get()).toBe(0);
    } finally {
      db.close();
    }
  });

  it('an unreachable server is store.unavailable, saying where, without the password', () => {
    expect(() => openHubDatabase('postgresql://tessera:s3cret@127.0.0.1:1/hub?connect_timeout=2')).toThrow(
      expect.objectContaining({
        code: 'store.unavailable',
        message: expect.stringMatching(
          /^cannot connect to PostgreSQL at postgresql:\/\/tessera:\*\*\*@127\.0\.0\.1:1\/hub/,
        ),
      }),
    );
  });
});

/**
 * A TCP relay to the test server on loopback that the test takes down and brings back. In a
 * worker thread: libpq's calls block this thread's event loop while they wait for the relay.
 */
const RELAY = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const sockets = new Set();
let server;
let port = 0;
const up = () => {
  server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: workerData.target });
    for (const s of [client, upstream]) { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => s.destroy()); }
    client.pipe(upstream).pipe(client);
  });
  server.listen(port, '127.0.0.1', () => { port = server.address().port; parentPort.postMessage(port); });
};
parentPort.on('message', (m) => {
  if (m === 'up') return up();
  for (const s of sockets) s.destroy();
  if (server && server.listening) server.close(() => parentPort.postMessage('down')); else parentPort.postMessage('down');
});
up();
`;

async function tcpProxy(
  targetPort: string,
): Promise<{ port: number; down(): Promise<void>; up(): Promise<void>; close(): Promise<number> }> {
  const worker = new Worker(RELAY, { eval: true, workerData: { target: Number(targetPort) } });
  const next = () => new Promise<unknown>((resolve) => worker.once('message', resolve));
  const port = (await next()) as number;
  return {
    port,
    up: async () => {
      worker.postMessage('up');
      await next();
    },
    down: async () => {
      worker.postMessage('down');
      await next();
    },
    close: () => worker.terminate(),
  };
}
