import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../harness/process.js';
import { tempDir } from '../support/temp-dir.js';

// Under CI (.ci/run installs systemd) a missing systemd-analyze fails the test instead of skipping it.
const hasAnalyze = process.env.CI === 'true' || spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
const scored = hasAnalyze ? it : it.skip;

/** At most "OK" on systemd-analyze's scale (0 safest, 10 most exposed); the edge's unit was 8.7. */
const MAX_EXPOSURE = 4.0;

/** The overall exposure `systemd-analyze security --offline` gives a unit file. */
function exposure(unitPath: string): number {
  const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', unitPath], { encoding: 'utf8' });
  const match = /Overall exposure level for \S+: (\d+\.\d)/.exec(`${r.stdout}${r.stderr}`);
  if (!match) throw new Error(`no exposure in: ${r.stdout}${r.stderr}`);
  return Number(match[1]);
}

function site(hardware: string): string {
  return [
    'version: 2',
    'site: { id: scored, name: Scored, timeZone: Europe/Paris, capacity: 2 }',
    'directory: { source: file, path: d.yaml }',
    'storage: { path: /var/lib/tessera/scored.db }',
    `hardware: ${hardware}`,
    '',
  ].join('\n');
}

async function renderEdge(hardware: string): Promise<string> {
  const dir = tempDir();
  writeFileSync(join(dir, 'site.yaml'), site(hardware));
  const out = join(dir, 'out');
  const r = await runCli(['config', 'render', join(dir, 'site.yaml'), '--out', out, '--node', process.execPath]);
  expect(r.code, r.stderr).toBe(0);
  return join(out, readdirSync(out).find((f) => f.endsWith('.service')) ?? '');
}

const EDGES = {
  'simulated hardware': '{ readers: simulated, gpio: simulated }',
  'relays on sysfs GPIO (onoff)': '{ readers: simulated, gpio: onoff }',
  'PC/SC readers': '{ readers: pcsc, gpio: simulated }',
  'PC/SC readers and GPIO relays': '{ readers: pcsc, gpio: onoff }',
};

describe('the rendered units are sandboxed (systemd-analyze security)', () => {
  for (const [name, hardware] of Object.entries(EDGES)) {
    scored(`the edge unit with ${name} scores ${MAX_EXPOSURE} or better`, async () => {
      const unit = await renderEdge(hardware);
      expect(exposure(unit)).toBeLessThanOrEqual(MAX_EXPOSURE);
    });
  }

  scored(`the hub unit scores ${MAX_EXPOSURE} or better`, async () => {
    const out = tempDir();
    const r = await runCli(['hub', 'render', '--out', out, '--node', process.execPath, '--', '--broker-port', '1883']);
    expect(r.code, r.stderr).toBe(0);
    const unit = join(out, 'tessera-hub.service');
    expect(exposure(unit)).toBeLessThanOrEqual(MAX_EXPOSURE);
    // verify warns (and exits 0) on a mistyped directive: the warnings are the result.
    const verify = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
    expect(`${verify.stdout}${verify.stderr}`).toBe('');
  });

  scored('the unsandboxed unit the edge had scores worse (the check can fail)', async () => {
    const unit = await renderEdge('{ readers: pcsc, gpio: onoff }');
    const bare = readFileSync(unit, 'utf8')
      .split('\n')
      .filter(
        (line) =>
          !/^(Capability|Ambient|Private|Protect|Restrict|SystemCall|Device|Lock|RemoveIPC|UMask|ProcSubset)/.test(
            line,
          ),
      )
      .join('\n');
    const path = join(tempDir(), 'bare.service');
    writeFileSync(path, bare);
    expect(exposure(path)).toBeGreaterThan(8);
  });
});

describe('the sandbox keeps what the edge and the hub need', () => {
  it('never denies W+X memory: V8 writes the machine code it then runs', async () => {
    const out = tempDir();
    expect((await runCli(['hub', 'render', '--out', out])).code).toBe(0);
    const units = [readFileSync(join(out, 'tessera-hub.service'), 'utf8')];
    for (const hardware of Object.values(EDGES)) units.push(readFileSync(await renderEdge(hardware), 'utf8'));
    for (const unit of units) {
      expect(unit).not.toMatch(/^MemoryDenyWriteExecute/m);
      expect(unit).toMatch(/^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$/m);
    }
  });

  it('leaves /sys writable and the gpio group mapped at a site with GPIO relays, and only there', async () => {
    // onoff writes /sys/class/gpio/export and each line's value file; the gpio group may write them.
    const gpio = readFileSync(await renderEdge('{ readers: pcsc, gpio: onoff }'), 'utf8');
    expect(gpio).not.toMatch(/^ProtectKernelTunables=yes$/m);
    expect(gpio).not.toMatch(/^PrivateUsers=yes$/m);
    expect(gpio).toMatch(/^SupplementaryGroups=gpio$/m);
    const simulated = readFileSync(await renderEdge('{ readers: pcsc, gpio: simulated }'), 'utf8');
    expect(simulated).toMatch(/^ProtectKernelTunables=yes$/m);
    expect(simulated).toMatch(/^PrivateUsers=yes$/m);
  });

  it("keeps the hub's state in /var/lib/tessera and its secrets in a 0600 environment file", async () => {
    const out = tempDir();
    const r = await runCli(['hub', 'render', '--out', out, '--json', '--', '--api-port', '443']);
    expect(r.code, r.stderr).toBe(0);
    const unit = readFileSync(join(out, 'tessera-hub.service'), 'utf8');
    expect(unit).toMatch(
      /^ExecStart=\/usr\/bin\/node \/opt\/tessera\/bin\/tessera\.js hub --db \/var\/lib\/tessera\/hub\.db --api-port 443$/m,
    );
    expect(unit).toMatch(/^StateDirectory=tessera$/m);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toMatch(/^WatchdogSec=\d+s$/m);
    expect(unit).toMatch(/^EnvironmentFile=-\/etc\/tessera\/hub\.env$/m);
    // Port 443: the one capability it keeps.
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    const listed = JSON.parse(r.stdout) as { files: Array<{ name: string; mode: string }> };
    expect(listed.files).toContainEqual(expect.objectContaining({ name: 'hub.env', mode: '600' }));
  });

  it('refuses a hub option the hub would refuse, a relative path, and a database password in the unit', async () => {
    const out = tempDir();
    for (const [args, message] of [
      [['--api-port', 'x'], /--api-port expects 0-65535/],
      [['--key', 'hub.key'], /--key expects an absolute path/],
      [['--db', 'postgres://tessera:secret@db/tessera'], /PGPASSWORD/],
    ] as const) {
      const r = await runCli(['hub', 'render', '--out', out, '--', ...args]);
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(message);
    }
  });
});
