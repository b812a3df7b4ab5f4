import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHub, type Hub, type HubDeps } from '../../cloud-sync/hub-process/hub.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { systemClock } from '../../shared/platform/clock.js';
import { generateHubKeys } from '../../shared/protocol/signing.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from './hub-auth.js';
import { lastingHubDb } from './hub-db.js';
import { silent } from '../support/logger.js';
import type { Cleanup } from '../support/cleanups.js';

export interface StartedHub {
  hub: Hub;
  mqttUrl: string;
  apiUrl: string;
  /** A session of TEST_ADMIN. */
  auth: AuthHeaders;
}

/**
 * A real hub on free ports (embedded broker, its database from `lastingHubDb` unless `deps.dbPath`
 * names one, a fresh key), logged in as TEST_ADMIN; its stop and the folder's removal are pushed
 * onto `cleanups`. `deps` adds options.
 */
export async function startTestHub(cleanups: Cleanup[], deps: Partial<HubDeps> = {}): Promise<StartedHub> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-hub-'));
  const hub = await createHub({
    dbPath: deps.dbPath ?? (await lastingHubDb(dir)),
    clock: systemClock,
    log: silent,
    brokerPort: 0,
    apiPort: 0,
    privateKeyPem: generateHubKeys().privateKeyPem,
    initialAdmin: TEST_ADMIN,
    passwordCost: FAST_PASSWORD_COST,
    ...deps,
  });
  const urls = await hub.start();
  cleanups.push(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { hub, ...urls, auth: await loginOver(urls.apiUrl, TEST_ADMIN.username, TEST_ADMIN.password) };
}

/**
 * A real edge (simulated hardware, a heartbeat every 5 s) fed by the hub's directory over the
 * broker at `mqttUrl`; its stop and its folder's removal are pushed onto `cleanups`.
 */
export async function startNetworkSite(
  cleanups: Cleanup[],
  id: string,
  mqttUrl: string,
  hubPublicKeyPem: string,
): Promise<RunningEdge> {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${id}-`));
  writeFileSync(join(dir, 'site.yaml'), networkSiteYaml({ id, mqttUrl, hubPublicKeyPem, heartbeatSeconds: 5 }));
  const running = await runEdge({ configPath: join(dir, 'site.yaml'), simulate: true, log: silent });
  cleanups.push(async () => {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return running;
}
