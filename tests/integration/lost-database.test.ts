import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../shared/platform/command.js';
import { renumberCommand } from '../../edge/cli.js';
import { runEdge, type RunningEdge } from '../../edge/site/run.js';
import { networkSiteYaml } from '../fixtures/site-yaml.js';
import { startTestHub } from '../harness/network-hub.js';
import { eventuallyWithin } from '../support/eventually.js';
import { silent } from '../support/logger.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { captureIo } from '../support/io.js';

const eventually = eventuallyWithin(30_000, 25);

const UID = '04A1A1A1A1A1A1';
const cleanups = cleanupsAfterEach();

const post = async (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
const tap = async (site: RunningEdge, reader = 'front-in') =>
  (await (await post(`${site.url}/simulate/tap`, { reader, uid: UID })).json()) as { granted: boolean };
const health = async (site: RunningEdge) =>
  (await (await fetch(`${site.url}/health`)).json()) as {
    status: string;
    problems: string[];
    sync: { lastSeq: number; hubSeq: number | null };
  };

describe('a site whose database was lost', { timeout: 180_000 }, () => {
  it('stops sending, says so at the site and at the hub, and after a confirmed renumbering every new event reaches the hub', async () => {
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups);
    const dir = mkdtempSync(join(tmpdir(), 'tessera-lost-db-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'site.yaml');
    writeFileSync(
      config,
      networkSiteYaml({ id: 'murat', mqttUrl, hubPublicKeyPem: hub.publicKeyPem, heartbeatSeconds: 5 }),
    );
    const admin = { authorization: auth.authorization };
    for (const [path, body] of [
      ['/directory/plans/always', { name: '24/7', access: 'always' }],
      ['/directory/members/alice', { name: 'Alice Martin', plan: 'always' }],
      [`/directory/badges/${UID}`, { member: 'alice' }],
    ] as const) {
      expect(
        (
          await fetch(`${apiUrl}${path}`, {
            method: 'PUT',
            headers: { ...admin, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          })
        ).status,
      ).toBe(200);
    }

    // First life: some events, all stored at the hub.
    let site = await runEdge({ configPath: config, simulate: true, log: silent });
    await eventually(async () => (await tap(site)).granted, 'the badge opens');
    for (let i = 0; i < 3; i++) {
      await tap(site, 'front-out');
      await tap(site);
    }
    const before = site.edge.store.events.lastSeq();
    await eventually(
      async () =>
        ((await hub.store.progress('murat'))?.contiguous ?? 0) >= before && site.edge.store.events.ackedSeq() >= before,
      'the hub holds the first life',
    );
    await site.stop();

    // The database is deleted; the site starts again on an empty one and numbers from 1.
    for (const f of ['edge.db', 'edge.db-wal', 'edge.db-shm']) rmSync(join(dir, f), { force: true });
    site = await runEdge({ configPath: config, simulate: true, log: silent });
    const current = () => site;
    cleanups.push(() => current().stop());
    await eventually(
      async () => (await health(site)).problems.includes('sync.log_behind_hub') === true,
      'the site reports its log behind the hub',
    );
    const h = await health(site);
    expect(h.status).toBe('degraded');
    expect(h.sync.hubSeq).toBe(before);
    await eventually(
      async () =>
        (await hub.live.alarms.list({ site: 'murat', open: true })).some(
          (a) => a.kind === 'sync.log_behind' && a.clearedAt === null,
        ),
      'an alarm at the hub',
    );

    await eventually(async () => (await tap(site)).granted, 'the badge opens after the restart (directory resent)');
    await tap(site, 'front-out');
    const lostLife = site.edge.store.events.list(0, 1000);
    expect(lostLife.length).toBeGreaterThan(0);
    expect(lostLife[lostLife.length - 1]?.seq).toBeLessThan(before);
    // Nothing of the second life was stored under numbers the hub already held.
    expect(await hub.store.events('murat', 0, 100_000)).toHaveLength(before);

    // The operator's confirmation: a wrong number is refused, the hub's own is taken.
    const refused = captureIo();
    expect(await renumberCommand.run(['--after', String(before - 1), '--config', config], refused)).toBe(EXIT.FAILURE);
    expect(refused.text()).toContain(`after ${before}`);
    const io = captureIo();
    expect(await renumberCommand.run(['--after', String(before), '--config', config, '--json'], io)).toBe(EXIT.OK);
    const result = JSON.parse(io.outLines.join('\n')) as {
      site: string;
      renumbered: { from: number; to: number };
      next: number;
    };
    expect(result.site).toBe('murat');
    expect(result.renumbered.from).toBe(before + 1);
    expect(result.next).toBe(result.renumbered.to + 1);

    // Every event of the second life, and every later one, arrives and is stored.
    expect(site.edge.store.events.lastSeq()).toBe(before + lostLife.length);
    await tap(site);
    const last = site.edge.store.events.lastSeq();
    expect(last).toBeGreaterThan(before + lostLife.length);
    await eventually(
      async () => ((await hub.store.progress('murat'))?.contiguous ?? 0) >= last,
      'the hub holds every event of the second life',
    );
    const stored = (await hub.store.events('murat', before, 100_000)).map((s) => s.event.id);
    expect(stored).toEqual(site.edge.store.events.list(before, 1000).map((e) => e.id));
    expect(stored.slice(0, lostLife.length)).toEqual(lostLife.map((e) => e.id));
    await eventually(
      async () => (await health(site)).problems.includes('sync.log_behind_hub') === false,
      'the site no longer reports it',
    );
    await eventually(
      async () =>
        !(await hub.live.alarms.list({ site: 'murat' })).some(
          (a) => a.kind === 'sync.log_behind' && a.clearedAt === null,
        ),
      'the hub alarm cleared',
    );

    // Once renumbered, there is nothing left to renumber.
    expect(await renumberCommand.run(['--after', String(last), '--config', config], captureIo())).toBe(EXIT.FAILURE);
  });
});
