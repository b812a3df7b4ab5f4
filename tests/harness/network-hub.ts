import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createHub, type Hub, type HubDeps } from '../../cloud-sync/hub/hub.js';
import { systemClock } from '../../shared/clock.js';
import { generateHubKeys } from '../../shared/signing.js';
import { loginOver, FAST_PASSWORD_COST, TEST_ADMIN, type AuthHeaders } from './hub-auth.js';
import { lastingHubDb } from './hub-db.js';

export interface StartedHub {
  hub: Hub;
  mqttUrl: string;
  apiUrl: string;
  /** A session of TEST_ADMIN. */
  auth: AuthHeaders;
}

/**
 * A real hub on free ports (embedded broker, SQLite in a temp folder, a fresh key), logged in as
 * TEST_ADMIN; its stop and the folder's removal are pushed onto `cleanups`. `deps` adds options.
 */
export async function startTestHub(cleanups: Array<() => Promise<void> | void>, deps: Partial<HubDeps> = {}): Promise<StartedHub> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-hub-'));
  const hub = createHub({ dbPath: lastingHubDb(dir), clock: systemClock, log: pino({ level: 'silent' }), brokerPort: 0, apiPort: 0, privateKeyPem: generateHubKeys().privateKeyPem, initialAdmin: TEST_ADMIN, passwordCost: FAST_PASSWORD_COST, ...deps });
  const urls = await hub.start();
  cleanups.push(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { hub, ...urls, auth: await loginOver(urls.apiUrl, TEST_ADMIN.username, TEST_ADMIN.password) };
}
