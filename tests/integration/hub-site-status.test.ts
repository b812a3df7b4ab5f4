import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEdge } from '../../edge/site/run.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { startTestHub } from '../harness/network-hub.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { silent } from '../support/logger.js';
import { eventually } from '../support/eventually.js';

const cleanups = cleanupsAfterEach();

describe("a site's status over MQTT", () => {
  it('carries the heartbeat, the directory bound and the capacity from the site file; the hub shows that capacity, not the one declared at the hub', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
    await hub.sites.upsert({ id: 'murat', name: 'Murat', timeZone: 'Europe/Paris', capacity: 20 });
    const dir = mkdtempSync(join(tmpdir(), 'tessera-status-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'site.yaml'),
      networkSiteYaml({ id: 'murat', mqttUrl, hubPublicKeyPem: hub.publicKeyPem }).replace(
        'capacity: 50',
        'capacity: 2',
      ),
    );
    const site = await runEdge({
      configPath: join(dir, 'site.yaml'),
      simulate: true,
      log: silent,
      port: 0,
      storagePath: join(dir, 'edge.db'),
    });
    cleanups.push(() => site.stop());
    await eventually(
      async () => (await hub.store.sites()).some((v) => v.site === 'murat' && v.status?.capacity === 2),
      'the status of murat reaches the hub',
      20_000,
      50,
    );
    const status = (await hub.store.sites()).find((v) => v.site === 'murat')?.status;
    expect(status).toMatchObject({
      heartbeat: { seconds: 8, offlineAfterSeconds: 24 },
      capacity: 2,
      directory: { maxAgeSeconds: 24 * 3600 },
    });
    const occupancy = (await (
      await fetch(`${apiUrl}/occupancy`, { headers: { authorization: auth.authorization } })
    ).json()) as { sites: Array<{ site: string; capacity: number }> };
    expect(occupancy.sites.find((s) => s.site === 'murat')).toMatchObject({ capacity: 2 });
  });
});
