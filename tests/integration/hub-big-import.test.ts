import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importUnderWay } from '../../cloud-sync/hub/directory.js';
import { createHub } from '../../cloud-sync/hub-process/hub.js';
import { systemClock } from '../../shared/platform/clock.js';
import { login, TEST_ADMIN } from '../harness/hub-auth.js';
import { lastingHubDb } from '../harness/hub-db.js';
import { startNetworkSite, startTestHub } from '../harness/network-hub.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventuallyWithin } from '../support/eventually.js';
import { sleep } from '../support/sleep.js';
import { membersCsv } from '../harness/hub-fixtures.js';

const cleanups = cleanupsAfterEach();

const ROWS = 30_000;
const eventually = eventuallyWithin(180_000, 50);

const post = (apiUrl: string, authorization: string, csv: string) =>
  fetch(`${apiUrl}/directory/members/import`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv', authorization },
    body: csv,
    signal: AbortSignal.timeout(600_000),
  });

describe(`a members import of ${ROWS} rows`, () => {
  it(
    'keeps /health answering while it runs, and every connected site converges to its revision',
    { timeout: 600_000 },
    async () => {
      const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
      const put = await fetch(`${apiUrl}/directory/plans/always`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: auth.authorization },
        body: JSON.stringify({ name: '24/7', access: 'always' }),
      });
      expect(put.status).toBe(200);
      const sites = [
        await startNetworkSite(cleanups, 'murat', mqttUrl, hub.publicKeyPem),
        await startNetworkSite(cleanups, 'allanche', mqttUrl, hub.publicKeyPem),
      ];
      for (const s of sites)
        await eventually(
          async () => s.edge.store.directory.describe()?.revision === (await hub.directory.revision(hub.store.db)),
          `${s.config.site.id} holds the plan`,
        );

      let pending = true;
      const answered: number[] = [];
      const refused: number[] = [];
      const importing = post(apiUrl, auth.authorization, membersCsv(ROWS)).finally(() => (pending = false));
      while (pending) {
        const res = await fetch(`${apiUrl}/health`, { signal: AbortSignal.timeout(600_000) });
        if (pending && res.ok) answered.push(Date.now());
        if (refused.length === 0 && (await importUnderWay(hub.store.db))) {
          // While it runs the directory is the import's: another change, or another import, waits its turn.
          const change = await fetch(`${apiUrl}/directory/members/eve`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json', authorization: auth.authorization },
            body: JSON.stringify({ name: 'Eve', plan: 'always' }),
          });
          refused.push(change.status, (await post(apiUrl, auth.authorization, membersCsv(3))).status);
        }
        await sleep(20);
      }
      expect(refused).toEqual([409, 409]);
      const res = await importing;
      const body = (await res.json()) as { applied: boolean; revision: number; created: number };
      expect(res.status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ applied: true, created: ROWS });
      console.log(`/health answered ${answered.length} times during the import`);
      // Before, the import held the event loop from the body's arrival to its answer: not one answer.
      expect(answered.length).toBeGreaterThanOrEqual(5);

      for (const s of sites)
        await eventually(
          () => s.edge.store.directory.describe()?.revision === body.revision,
          `${s.config.site.id} holds revision ${body.revision}`,
        );
      for (const s of sites) expect(s.edge.store.directory.describe()).toMatchObject({ members: ROWS, badges: ROWS });
    },
  );

  it(
    'stopped half-way by the hub stopping, leaves nothing of itself: the next start rolls it back',
    { timeout: 600_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-import-stop-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const dbPath = await lastingHubDb(dir);
      const { hub, apiUrl, auth } = await startTestHub(cleanups, { dbPath });
      await hub.directory.upsert(hub.store.db, 'plan', { id: 'always', name: '24/7', access: 'always' });
      const revision = await hub.directory.revision(hub.store.db);
      const members = async () =>
        (await hub.store.db.value<number>("SELECT count(*) AS n FROM directory_entities WHERE entity = 'member'")) ?? 0;
      const importing = post(apiUrl, auth.authorization, membersCsv(ROWS)).then(
        (r) => r.status,
        () => 'no answer',
      );
      await eventually(async () => (await members()) > 0, 'the import is being written');
      const stopStarted = Date.now();
      await hub.stop();
      console.log(`the hub stopped ${Date.now() - stopStarted} ms after being asked, mid-import`);
      expect(await importing).not.toBe(200);

      const again = await createHub({ dbPath, clock: systemClock, log: silent, initialAdmin: TEST_ADMIN });
      cleanups.push(() => again.stop());
      expect(await again.directory.revision(again.store.db)).toBe(revision);
      expect(await again.directory.list(again.store.db, 'member')).toEqual([]);
      expect(await again.directory.list(again.store.db, 'badge')).toEqual([]);
      const admin = await login(again.api, TEST_ADMIN.username, TEST_ADMIN.password);
      expect(
        (await again.api.inject({ method: 'GET', url: '/audit?action=import', headers: admin })).json(),
      ).toMatchObject({ total: 0 });
      // The directory is free again: an ordinary change goes through.
      expect(
        (
          await again.api.inject({
            method: 'PUT',
            url: '/directory/members/alice',
            headers: admin,
            payload: { name: 'Alice', plan: 'always' },
          })
        ).statusCode,
      ).toBe(200);
    },
  );
});
