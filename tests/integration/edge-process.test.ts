import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../shared/platform/command.js';
import { EdgeStore } from '../../edge/store/store.js';
import { finished, runCli, spawnCli, waitForOutput } from '../harness/process.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const DIRECTORY = (status: string) => `
revision: 1
plans: [{ id: always, name: "24/7", access: always }]
members: [{ id: alice, name: Alice, plan: always }]
badges: [{ uid: "04A1A1A1A1A1A1", member: alice, status: ${status} }]
`;

/** A site whose door relay is active-low: energised = pin low, safe = pin high. */
function siteFolder(): { dir: string; config: string; directory: string; gpio: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-proc-'));
  dirs.push(dir);
  const config = join(dir, 'site.yaml');
  writeFileSync(
    config,
    `version: 2
site: { id: testsite, name: Test, timeZone: Europe/Paris, capacity: 10 }
readers: [{ id: front-in, match: "00 00", role: entry, door: front }]
doors: [{ id: front, relay: { line: 17, activeLow: true }, pulseMs: 60000 }]
directory: { source: file, path: directory.yaml }
storage: { path: edge.db }
api: { port: 0 }
`,
  );
  writeFileSync(join(dir, 'directory.yaml'), DIRECTORY('active'));
  return { dir, config, directory: join(dir, 'directory.yaml'), gpio: join(dir, 'gpio') };
}

const pin = (gpioDir: string, line: number) => readFileSync(join(gpioDir, `gpio${line}`), 'utf8');

async function tap(url: string): Promise<{ granted: boolean; reason: string }> {
  const res = await fetch(`${url}/simulate/tap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reader: 'front-in', uid: '04A1A1A1A1A1A1' }),
  });
  return (await res.json()) as { granted: boolean; reason: string };
}

async function startEdge(site: ReturnType<typeof siteFolder>) {
  const child = spawnCli(['edge', '--config', site.config, '--simulate'], { TESSERA_SIM_GPIO_DIR: site.gpio });
  const m = await waitForOutput(child, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/);
  return { child, url: m[1] ?? '' };
}

describe('the edge process', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`puts the door relay in its safe state on ${signal}, even in the middle of a pulse`, async () => {
      const site = siteFolder();
      const { child, url } = await startEdge(site);
      expect(pin(site.gpio, 17)).toBe('1');
      expect(await tap(url)).toMatchObject({ granted: true });
      expect(pin(site.gpio, 17)).toBe('0');
      child.kill(signal);
      const end = await finished(child);
      expect(end.code).toBe(0);
      expect(pin(site.gpio, 17)).toBe('1');
      expect(end.stdout).toContain('relays in their safe state');
    });
  }

  for (const how of ['exception', 'rejection'] as const) {
    it(`puts the door relay in its safe state after an uncaught ${how}, and exits with an error`, async () => {
      const site = siteFolder();
      const child = spawn(process.execPath, ['tests/fixtures/crash-edge.mjs', site.config, site.gpio, how], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output = { stdout: '', stderr: '' };
      child.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
      const end = await finished(Object.assign(child, { output }));
      expect(output.stdout).toContain('"granted":true');
      expect(end.code).toBe(1);
      expect(output.stdout).toContain(how === 'exception' ? 'uncaught exception' : 'unhandled rejection');
      expect(pin(site.gpio, 17)).toBe('1');
    });
  }

  it('`tessera demo --standalone` runs the example centre and tells how to tap a badge that opens', async () => {
    const child = spawnCli(['demo', '--standalone', '--port', '0']);
    try {
      const m = await waitForOutput(child, /Tap a badge at the entrance:\s+(curl .*)\n/);
      const url = /(http:\/\/127\.0\.0\.1:\d+)\/simulate\/tap/.exec(m[1] ?? '')?.[1] ?? '';
      const body = /-d '(.*)'/.exec(m[1] ?? '')?.[1] ?? '';
      const res = await fetch(`${url}/simulate/tap`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(await res.json()).toMatchObject({ granted: true, door: 'front' });
    } finally {
      child.kill('SIGINT');
      expect((await finished(child)).code).toBe(0);
    }
  });

  it('reloads its directory on SIGHUP, and keeps the one in force when the new file is bad', async () => {
    const site = siteFolder();
    const { child, url } = await startEdge(site);
    try {
      expect(await tap(url)).toMatchObject({ granted: true });
      writeFileSync(site.directory, DIRECTORY('revoked').replace('revision: 1', 'revision: 2'));
      child.kill('SIGHUP');
      await waitForOutput(child, /"revision":2/);
      expect(await tap(url)).toMatchObject({ granted: false, reason: 'badge_revoked' });
      writeFileSync(site.directory, 'badges: [{ uid: nothex, member: nobody }]\n');
      child.kill('SIGHUP');
      await waitForOutput(child, /directory file refused, the previous directory stays in force/);
      expect(await tap(url)).toMatchObject({ granted: false, reason: 'badge_revoked' });
      const health = (await (await fetch(`${url}/health`)).json()) as { directory: { revision: number } };
      expect(health.directory.revision).toBe(2);
      const events = (await (await fetch(`${url}/events?limit=1000`)).json()) as {
        events: Array<{ type: string; data: { kind?: string } }>;
      };
      expect(events.events.some((e) => e.type === 'device.fault' && e.data.kind === 'directory.rejected')).toBe(true);
    } finally {
      child.kill('SIGTERM');
      await finished(child);
    }
  });
});

describe('the edge process on a damaged database', () => {
  /** A real site database with a few thousand events, cut to half its length as a full disk or a bad copy leaves it. */
  function truncatedDatabase(path: string): void {
    const store = EdgeStore.open(path, 'testsite', 'Europe/Paris');
    store.transaction(() => {
      for (let i = 0; i < 3000; i++)
        store.events.append({ type: 'door.forced', data: { door: 'front' } }, Date.parse('2026-11-23T08:00:00Z') + i);
    });
    store.close();
    truncateSync(path, Math.floor(readFileSync(path).length / 2));
  }

  const damages: Array<[string, (path: string) => void]> = [
    [
      'a file that is not a database',
      (path) => writeFileSync(path, 'these are not the bytes of a SQLite database\n'.repeat(200)),
    ],
    ['a truncated database', truncatedDatabase],
  ];
  for (const [what, damage] of damages) {
    it(`refuses ${what} in one line, without a stack, with the exit code systemd does not restart, before touching a relay`, async () => {
      const site = siteFolder();
      const db = join(site.dir, 'edge.db');
      damage(db);
      const end = await runCli(
        ['edge', '--config', site.config, '--simulate'],
        { TESSERA_SIM_GPIO_DIR: site.gpio },
        30_000,
      );
      expect(end.code).toBe(EXIT.STORE_CORRUPT);
      expect(end.stderr.trim().split('\n')).toHaveLength(1);
      expect(end.stderr).toContain(db);
      expect(end.stderr).toContain('[store.corrupt]');
      expect(end.stdout + end.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(site.gpio, 'gpio17'))).toBe(false);
    });
  }
});
