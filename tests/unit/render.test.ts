import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pbkdf2Sync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../shared/platform/command.js';
import { parseSiteConfig } from '../../firmware-config/load.js';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { envPath, renderEnvironment, renderSiteFiles, renderUnit } from '../../firmware-config/render.js';
import { mosquittoPasswordHash, renderAcl, renderPasswordLine } from '../../firmware-config/render-mosquitto.js';
import { renderCommand } from '../../firmware-config/render-cli.js';
import { watchdogIntervalMs } from '../../shared/platform/systemd-notify.js';
import { captureIo as capture } from '../support/io.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'firmware-config', 'examples');
const TARGET = {
  configPath: '/etc/tessera/murat.yaml',
  installDir: '/opt/tessera',
  user: 'tessera',
  nodePath: '/usr/bin/node',
};

function site(extra = ''): SiteConfig {
  const text = `version: 2
site: { id: murat, name: Télécentre de Murat, timeZone: Europe/Paris, capacity: 20 }
readers: [{ id: front-in, match: ACR122U, role: entry, door: front }]
doors: [{ id: front, relay: { line: 17 } }]
directory: { source: file, path: murat.directory.yaml }
storage: { path: /var/lib/tessera/murat.db }
${extra}`;
  const r = parseSiteConfig(text, 'murat.yaml', '/etc/tessera');
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.value;
}

const BROKER = 'broker: { url: "mqtts://hub.example:8883", username: murat-pi, password: s3cret }';

describe('the systemd unit of a site', () => {
  it('restarts always, but never on the config-invalid exit code, and runs under a watchdog as a notify service', () => {
    const unit = renderUnit(site(), TARGET);
    expect(unit).toContain('Restart=always');
    expect(unit).toContain(`RestartPreventExitStatus=${EXIT.CONFIG_INVALID} ${EXIT.STORE_CORRUPT}\n`);
    expect(unit).toMatch(/^WatchdogSec=30s$/m);
    expect(unit).toMatch(/^Type=notify$/m);
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/tessera/bin/tessera.js edge --config /etc/tessera/murat.yaml');
  });

  it('lets systemd make the store folder under /var/lib, and names any other folder as the one it may write', () => {
    expect(renderUnit(site(), TARGET)).toContain('StateDirectory=tessera\n');
    const elsewhere = parseSiteConfig(
      'version: 2\nsite: { id: murat, name: M, timeZone: Europe/Paris, capacity: 2 }\ndirectory: { source: file, path: d.yaml }\n',
      'murat.yaml',
      '/srv/doors',
    );
    if (!elsewhere.ok) throw new Error('bad fixture');
    const unit = renderUnit(elsewhere.value, TARGET);
    expect(unit).toContain('ReadWritePaths=/srv/doors/var\n');
    expect(unit).not.toContain('StateDirectory');
  });

  it('joins the gpio group only for real GPIO, and wants pcscd only for PC/SC readers', () => {
    const real = renderUnit(site(), TARGET);
    expect(real).toContain('SupplementaryGroups=gpio');
    expect(real).toContain('Wants=pcscd.service');
    const simulated = renderUnit(site('hardware: { readers: simulated, gpio: simulated }'), TARGET);
    expect(simulated).not.toContain('SupplementaryGroups');
    expect(simulated).not.toContain('pcscd');
  });
});

/**
 * A systemd EnvironmentFile, read strictly: every line a comment (# or ;), blank, or NAME=VALUE
 * with a shell-style variable name and nothing around the `=`. Returns the entries, or throws
 * naming each line that is none of these.
 */
function parseEnvironmentFile(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  const bad: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '' || /^[#;]/.test(line)) return;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(\S(?:.*\S)?)$/.exec(line);
    if (!m?.[1] || m[2] === undefined || entries.has(m[1])) bad.push(`line ${i + 1}: ${JSON.stringify(line)}`);
    else entries.set(m[1], m[2]);
  });
  if (bad.length > 0) throw new Error(`not an environment file:\n${bad.join('\n')}`);
  return entries;
}

describe('the environment file of a site', () => {
  it('the parser refuses what systemd would not read as NAME=VALUE', () => {
    for (const text of [
      'export TESSERA_LOG_LEVEL=info\n',
      'TESSERA LOG=info\n',
      '1ST=x\n',
      'TESSERA_LOG_LEVEL = info\n',
      'TESSERA_LOG_LEVEL=\n',
      'just words\n',
      'A=1\nA=2\n',
    ]) {
      expect(() => parseEnvironmentFile(text), text).toThrow(/not an environment file/);
    }
    expect(parseEnvironmentFile('# c\n; c\n\nA_1=x y\n')).toEqual(new Map([['A_1', 'x y']]));
  });

  for (const example of ['business-hours', 'rural-24-7', 'lockers']) {
    it(`of the ${example} example: comments, blanks and NAME=VALUE lines only, with the log level and NODE_ENV`, () => {
      const parsed = parseSiteConfig(
        readFileSync(join(EXAMPLES, `${example}.yaml`), 'utf8'),
        `${example}.yaml`,
        '/etc/tessera',
      );
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      const file = renderSiteFiles(parsed.value, TARGET).find((f) => f.installPath === envPath(parsed.value));
      expect(file?.text).toBe(renderEnvironment(parsed.value));
      const env = parseEnvironmentFile(file?.text ?? '');
      expect([...env.keys()].sort()).toEqual(['NODE_ENV', 'TESSERA_LOG_LEVEL']);
      // A level the edge's logger (pino) accepts, and the unit reads this very file.
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).toContain(env.get('TESSERA_LOG_LEVEL'));
      expect(env.get('NODE_ENV')).toBe('production');
      expect(renderUnit(parsed.value, TARGET)).toContain(`EnvironmentFile=-${envPath(parsed.value)}\n`);
    });
  }
});

describe('the broker identity of a site', () => {
  it('hashes a password exactly as mosquitto_passwd 2.0 does ($7$, PBKDF2-SHA512)', () => {
    // Made here by `mosquitto_passwd -c -b file murat secret` (Mosquitto 2.0.11).
    const made =
      '$7$101$OP/CqIfOxExAftfR$g7nSAazunSOeUgnKFOljeJTVxC7vmO6QBMfC3RFq80E/qo70SI/ztKAb3b7OYQDrwodsJRYI+8g6j8ABo20Nxw==';
    expect(mosquittoPasswordHash('secret', Buffer.from('OP/CqIfOxExAftfR', 'base64'), 101)).toBe(made);
  });

  it('a hash verifies its own password and no other', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (password, other) => {
          const [, , iterations, salt, hash] = mosquittoPasswordHash(password, undefined, 10).split('$');
          const derive = (p: string) =>
            pbkdf2Sync(p, Buffer.from(salt ?? '', 'base64'), Number(iterations), 64, 'sha512').toString('base64');
          expect(derive(password)).toBe(hash);
          if (other !== password) expect(derive(other)).not.toBe(hash);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('writes the password line for the configured username, and a fresh salt each time', () => {
    const config = site(BROKER);
    const line = renderPasswordLine(config);
    expect(line).toMatch(/^murat-pi:\$7\$1000\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==\n$/);
    expect(renderPasswordLine(config)).not.toBe(line);
  });

  it('without a password in the config, says how to make one with mosquitto_passwd instead of inventing it', () => {
    const line = renderPasswordLine(site('broker: { url: "mqtt://hub:1883" }'));
    expect(line).toContain('mosquitto_passwd /etc/mosquitto/passwd murat');
    expect(
      line
        .split('\n')
        .filter((l) => l !== '')
        .every((l) => l.startsWith('#')),
    ).toBe(true);
  });

  it('allows the site to publish only its events and status and to read only its ack, directory, days elsewhere and commands', () => {
    const acl = renderAcl(site(BROKER))
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(acl).toEqual([
      'user murat-pi',
      'topic write tessera/v1/sites/murat/events',
      'topic write tessera/v1/sites/murat/status',
      'topic read tessera/v1/sites/murat/ack',
      'topic read tessera/v1/sites/murat/directory',
      'topic read tessera/v1/sites/murat/days',
      'topic read tessera/v1/sites/murat/commands',
    ]);
  });

  it('follows the configured topic prefix', () => {
    const acl = renderAcl(site('broker: { url: "mqtt://hub:1883", topicPrefix: reseau/v1 }'));
    expect(acl).toContain('topic write reseau/v1/sites/murat/events');
    expect(acl).not.toContain('tessera/v1');
  });

  it('renders no broker files for a standalone site', () => {
    expect(renderSiteFiles(site(), TARGET).map((f) => f.name)).toEqual([
      'tessera-edge-murat.service',
      'murat.env',
      'tessera-nfc-blacklist.conf',
    ]);
    expect(renderSiteFiles(site(BROKER), TARGET).map((f) => f.name)).toContain('murat.mosquitto-acl');
  });

  it('blacklists the kernel NFC drivers that take ACR122U-class readers from pcscd', () => {
    const blacklist = renderSiteFiles(site(), TARGET).find((f) => f.name === 'tessera-nfc-blacklist.conf')?.text ?? '';
    expect(blacklist.split('\n').filter((l) => l.startsWith('blacklist'))).toEqual([
      'blacklist pn533_usb',
      'blacklist pn533',
      'blacklist nfc',
    ]);
  });
});

describe('tessera config render', () => {
  const out = () => join(mkdtempSync(join(tmpdir(), 'tessera-render-')), 'out');

  it('writes every file of an example, the password line readable by its owner only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-render-'));
    const config = join(dir, 'murat.yaml');
    writeFileSync(config, readFileSync(join(EXAMPLES, 'business-hours.yaml'), 'utf8') + `\n${BROKER}\n`);
    const io = capture();
    expect(await renderCommand.run([config, '--out', join(dir, 'out')], io)).toBe(EXIT.OK);
    expect(statSync(join(dir, 'out', 'murat.mosquitto-passwd')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'out', 'tessera-edge-murat.service'), 'utf8')).toContain(
      '--config /etc/tessera/murat.yaml',
    );
    expect(io.text()).toContain('/etc/systemd/system/tessera-edge-murat.service');
  });

  it('refuses an invalid config with exit code 2 and every error, and writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-render-'));
    writeFileSync(
      join(dir, 'bad.yaml'),
      'version: 2\nsite: { id: Murat }\ndoors: [{ id: front, relay: { line: "17a" } }]\n',
    );
    const io = capture();
    const target = out();
    expect(await renderCommand.run([join(dir, 'bad.yaml'), '--out', target], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.text()).toContain('doors[0].relay.line');
    expect(io.text()).toContain('site.id');
    expect(existsSync(target)).toBe(false);
  });

  it('refuses missing options and relative target paths as usage errors', async () => {
    const example = join(EXAMPLES, 'rural-24-7.yaml');
    for (const args of [
      [example],
      ['--out', out()],
      [example, '--out', out(), '--config-path', 'etc/site.yaml'],
      [example, '--out', out(), '--user', 'Root!'],
    ]) {
      const io = capture();
      expect(await renderCommand.run(args, io)).toBe(EXIT.USAGE);
      expect(io.text()).toContain('usage: tessera config render');
    }
  });
});

describe('the watchdog period the edge pings at', () => {
  it('is half of WATCHDOG_USEC, in milliseconds', () => {
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42)).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, 42)).toBe(15_000);
  });

  it('is none without a watchdog, with a malformed one, or with one meant for another process', () => {
    expect(watchdogIntervalMs({}, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: 'soon' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '0' }, 42)).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42)).toBeUndefined();
  });
});
