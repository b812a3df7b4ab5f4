import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { alive, eventually, hubGet, logInAsVisitor, startDemo } from '../harness/demo.js';
import { finished, spawnCli } from '../harness/process.js';

describe('the network demo (npm start)', () => {
  it(
    'brings up the hub and three site processes, all online, occupancy moving at the hub; Ctrl-C stops them all, sites first',
    { timeout: 150_000 },
    async () => {
      // Two real seconds per simulated hour; ports 0 so that it never binds 1883 or 8080 here.
      const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-test-'));
      const demo = await startDemo(['--hour-seconds', '2', '--api-port', '0', '--broker-port', '0', '--dir', dir]);
      const { apiUrl, pids } = demo;
      try {
        const out = demo.stdout();
        expect(pids).toHaveLength(3);
        expect(out).toMatch(/Site:\s+murat .*\nSite:\s+allanche .*\nSite:\s+reichstett /);
        // Ports asked for (0: any free one): no "8080 was taken" that nothing took.
        expect(out).not.toContain('was taken');

        // The secure way: each site connects with its own identity, and no one else gets in.
        expect(out).toMatch(/MQTT broker:\s+mqtt:\/\/127\.0\.0\.1:\d+ \(embedded; provisioned sites only/);
        await expect(mqtt.connectAsync(demo.mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 })).rejects.toThrow(
          /Bad username or password/i,
        );
        for (const id of ['murat', 'allanche', 'reichstett'])
          expect(readFileSync(join(dir, `${id}.yaml`), 'utf8')).toMatch(
            new RegExp(`\\n  username: ${id}\\n  password: \\S{20,}\\n`),
          );

        const auth = await logInAsVisitor(demo);
        await eventually(async () => {
          const { sites } = await hubGet<{ sites: Array<{ site: string; online: boolean }> }>(apiUrl, '/sites', auth);
          return ['allanche', 'murat', 'reichstett'].every((id) => sites.some((s) => s.site === id && s.online));
        }, 'all three sites online at the hub');

        const totals = new Set<number>();
        await eventually(
          async () => {
            const occupancy = await hubGet<{ total: { present: number; capacity: number } }>(
              apiUrl,
              '/occupancy',
              auth,
            );
            expect(occupancy.total.capacity).toBe(20 + 8 + 16);
            totals.add(occupancy.total.present);
            return totals.size >= 3 && [...totals].some((n) => n > 0);
          },
          'occupancy at the hub changing as members come and go',
          90_000,
        );
        expect(demo.stdout()).toMatch(/arrives: in/);
      } finally {
        const end = await demo.stop();
        expect(end.code).toBe(0);
        expect(end.stdout).toContain('demo stopped');
        for (const pid of pids) expect(alive(pid), `site process ${pid} left running`).toBe(false);
      }
      // The hub was still up when each site stopped: it holds each one's own "offline" status,
      // sent at its graceful stop, and every event that site had.
      const store = new HubStore(await openHubDatabase(join(dir, 'hub.db')));
      try {
        const sites = await store.sites();
        expect(sites.map((s) => s.site).sort()).toEqual(['allanche', 'murat', 'reichstett']);
        for (const s of sites) {
          expect(s.status?.online, s.site).toBe(false);
          expect(s.contiguous, s.site).toBe(s.status?.lastSeq);
        }
      } finally {
        await store.db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('refuses a bad option with the usage and exit code 64', async () => {
    const demo = spawnCli(['demo', '--hour-seconds', 'fast']);
    const end = await finished(demo);
    expect(end.code).toBe(64);
    expect(end.stderr).toContain('--hour-seconds expects 1-3600');
  });
});
