import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { topics } from '../../shared/topics.js';
import { finished, spawnCli, waitForOutput } from '../harness/process.js';
import { batchOf } from '../harness/hub-fixtures.js';
import { loginOver, TEST_ADMIN } from '../harness/hub-auth.js';

/** Runs `tessera hub` in its own process. */
const spawnHub = (args: string[]) => spawnCli(['hub', ...args], { TESSERA_LOG_LEVEL: 'warn', TESSERA_INITIAL_ADMIN_PASSWORD: TEST_ADMIN.password });

function occupyPort(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : 0 });
    });
  });
}

describe('tessera hub (the command)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-hub-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('prints where its broker and API listen, ingests, and stops cleanly on SIGTERM', async () => {
    const hub = spawnHub(['--db', join(dir, 'hub.db'), '--broker-port', '0', '--api-port', '0']);
    try {
      const [, mqttUrl] = await waitForOutput(hub, /MQTT broker: (mqtt:\/\/127\.0\.0\.1:\d+)/);
      const [, apiUrl] = await waitForOutput(hub, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/);
      const site = await mqtt.connectAsync(mqttUrl ?? '', { protocolVersion: 4, reconnectPeriod: 0 });
      await site.publishAsync(topics().events('murat'), JSON.stringify(batchOf('murat', 1, 2)), { qos: 1 });
      await site.endAsync();
      const { authorization } = await loginOver(apiUrl ?? '', TEST_ADMIN.username, TEST_ADMIN.password);
      await vi.waitFor(async () => {
        const body = (await (await fetch(`${apiUrl}/sites`, { headers: { authorization } })).json()) as { sites: Array<{ contiguous: number }> };
        expect(body.sites[0]?.contiguous).toBe(2);
      }, { timeout: 5000, interval: 50 });
      hub.kill('SIGTERM');
      const r = await finished(hub, 8000);
      expect(r.code).toBe(0);
    } finally {
      if (hub.exitCode === null) hub.kill('SIGKILL');
    }
  });

  it('says which port is in use and what to pass instead', async () => {
    const { server, port } = await occupyPort();
    try {
      const broker = await finished(spawnHub(['--db', join(dir, 'a.db'), '--broker-port', String(port), '--api-port', '0']), 8000);
      expect(broker.code).toBe(1);
      expect(broker.stderr).toContain(`the MQTT broker cannot listen on 127.0.0.1:${port}: the port is in use; pass --broker-port N`);
      const api = await finished(spawnHub(['--db', join(dir, 'b.db'), '--broker-port', '0', '--api-port', String(port)]), 8000);
      expect(api.code).toBe(1);
      expect(api.stderr).toContain(`the hub API cannot listen on 127.0.0.1:${port}: the port is in use; pass --api-port N`);
    } finally {
      server.close();
    }
  });

  it('refuses --mqtt with --broker-port, and a bad port, as usage errors', async () => {
    const both = await finished(spawnHub(['--mqtt', 'mqtt://127.0.0.1:1883', '--broker-port', '1884']), 8000);
    expect(both.code).toBe(64);
    expect(both.stderr).toContain('--mqtt and --broker-port exclude each other');
    const bad = await finished(spawnHub(['--api-port', '80a']), 8000);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--api-port expects 0-65535, got "80a"');
  });
});
