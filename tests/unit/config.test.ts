import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { EXIT } from '../../shared/platform/command.js';
import { validateCommand } from '../../firmware-config/cli.js';
import { validate } from '../../shared/platform/zod-issues.js';
import { loadSiteConfig, parseSiteConfig } from '../../firmware-config/load.js';
import type { LoadResult } from '../../firmware-config/load.js';
import type { SiteConfig } from '../../firmware-config/schema.js';
import { SiteConfig as SiteConfigSchema } from '../../firmware-config/schema.js';
import { captureIo as capture } from '../support/io.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'firmware-config', 'examples');
const example = (name: string) => join(EXAMPLES, `${name}.yaml`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests write deliberately ill-typed values into it
type Draft = any;

/** A small valid site that each test breaks in one way. */
function site(): Draft {
  return {
    version: 2,
    site: { id: 'murat', name: 'Télécentre de Murat', timeZone: 'Europe/Paris', capacity: 20 },
    hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:30', to: '18:30' }],
    directory: { source: 'file', path: 'murat.directory.yaml' },
    doors: [{ id: 'front', relay: { line: 17 }, contact: { line: 27 } }],
    readers: [{ id: 'front-in', match: 'ACR122U', role: 'entry', door: 'front' }],
  };
}

function parse(text: string): LoadResult<SiteConfig> {
  return parseSiteConfig(text, 'murat.yaml', '/etc/tessera');
}

/** The `path: message` lines of an invalid config, after `change` is applied to a valid one. */
function errorsOf(change: (cfg: Draft) => void): string[] {
  const cfg = site();
  change(cfg);
  const result = parse(YAML.stringify(cfg));
  if (result.ok) throw new Error('expected the config to be refused');
  expect(result.code).toBe('config.invalid');
  return result.errors.map((e) => `${e.path}: ${e.message}`);
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-config-')), name);
  writeFileSync(path, text);
  return path;
}

describe('the example site configs', () => {
  it.each(['business-hours', 'rural-24-7', 'lockers'])('%s.yaml is valid', (name) => {
    const result = loadSiteConfig(example(name));
    expect(result.ok ? [] : result.errors).toEqual([]);
  });

  it('resolve relative storage and directory paths against the config file folder', () => {
    const result = loadSiteConfig(example('business-hours'));
    if (!result.ok) throw new Error('invalid example');
    expect(result.value.storage.path).toBe(join(EXAMPLES, 'var', 'murat.db'));
    expect(result.value.directory).toEqual({ source: 'file', path: join(EXAMPLES, 'business-hours.directory.yaml') });
  });

  it('load when saved with a byte-order mark, as some Windows editors do', () => {
    const file = tempFile('murat.yaml', `\uFEFF${readFileSync(example('rural-24-7'), 'utf8')}`);
    expect(loadSiteConfig(file)).toMatchObject({ ok: true, value: { site: { id: 'allanche' } } });
  });

  it('keep absolute paths as they are and fill in the defaults', () => {
    const cfg = site();
    cfg.storage = { path: '/var/lib/tessera/murat.db' };
    const result = parse(YAML.stringify(cfg));
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.value.storage.path).toBe('/var/lib/tessera/murat.db');
    expect(result.value.directory).toEqual({ source: 'file', path: '/etc/tessera/murat.directory.yaml' });
    expect(result.value.doors[0]).toMatchObject({
      pulseMs: 3000,
      failMode: 'fail-secure',
      freeAccess: 'none',
      relay: { activeLow: false },
    });
    expect(result.value.api).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(isAbsolute(result.value.storage.path)).toBe(true);
  });
});

describe('a config error names the path, what was expected and what was found', () => {
  it('a relay line written as text', () => {
    const text = readFileSync(example('business-hours'), 'utf8').replace('line: 17 ', 'line: 17a ');
    const result = parse(text);
    expect(result).toEqual({
      ok: false,
      code: 'config.invalid',
      errors: [{ path: 'doors[0].relay.line', message: 'expected an integer 0-27, got "17a"' }],
    });
  });

  it('a number out of range', () => {
    expect(errorsOf((c) => (c.doors[0].relay.line = 28))).toEqual([
      'doors[0].relay.line: expected an integer 0-27, got 28',
    ]);
    expect(errorsOf((c) => (c.site.capacity = 0))).toEqual(['site.capacity: expected an integer 1-100000, got 0']);
  });

  it('a missing required key', () => {
    expect(errorsOf((c) => delete c.site.timeZone)).toEqual([
      'site.timeZone: expected an IANA time zone such as "Europe/Paris", but it is missing',
    ]);
    expect(errorsOf((c) => delete c.site.name)).toEqual(['site.name: expected a string, but it is missing']);
    expect(errorsOf((c) => delete c.directory)).toEqual([
      'directory: expected a mapping of keys to values, but it is missing',
    ]);
  });

  it('an unknown key, with the key it probably meant', () => {
    expect(errorsOf((c) => (c.doors[0].pulse_ms = 500))).toEqual([
      'doors[0].pulse_ms: unknown key "pulse_ms" (did you mean "pulseMs"?)',
    ]);
    expect(errorsOf((c) => (c.reader = []))).toEqual(['reader: unknown key "reader" (did you mean "readers"?)']);
    expect(errorsOf((c) => (c.directory.pth = 'x'))).toEqual([
      'directory.pth: unknown key "pth" (did you mean "path"?)',
    ]);
    expect(errorsOf((c) => (c.colour = 'blue'))).toEqual(['colour: unknown key "colour"']);
  });

  it('a time zone that does not exist', () => {
    expect(errorsOf((c) => (c.site.timeZone = 'Europe/Pariss'))).toEqual([
      'site.timeZone: expected an IANA time zone such as "Europe/Paris", got "Europe/Pariss"',
    ]);
  });

  it('a time of day that does not exist', () => {
    expect(errorsOf((c) => (c.hours[0].to = '25:00'))).toEqual([
      'hours[0].to: expected a time "HH:MM" (00:00 to 24:00), got "25:00"',
    ]);
    expect(errorsOf((c) => (c.presence = { closingTime: 2300 }))).toEqual([
      'presence.closingTime: expected a time "HH:MM" (00:00 to 24:00), got 2300',
    ]);
  });

  it("a day name we do not know, also inside a door's free-access windows", () => {
    expect(errorsOf((c) => (c.hours[0].days = ['Monday']))).toEqual([
      'hours[0].days[0]: expected a day, one of mon, tue, wed, thu, fri, sat, sun, got "Monday"',
    ]);
    expect(errorsOf((c) => (c.doors[0].freeAccess = [{ days: ['Mon'], from: '08:00', to: '09:00' }]))).toEqual([
      'doors[0].freeAccess[0].days[0]: expected a day, one of mon, tue, wed, thu, fri, sat, sun, got "Mon"',
    ]);
  });

  it("a value that is none of a union's choices", () => {
    expect(errorsOf((c) => (c.doors[0].freeAccess = 'always'))).toEqual([
      'doors[0].freeAccess: expected "none", "staffed" or a list, got "always"',
    ]);
    expect(errorsOf((c) => (c.directory = { source: 'cloud' }))).toEqual([
      'directory.source: expected one of "file", "hub", got "cloud"',
    ]);
    expect(errorsOf((c) => (c.readers[0].role = 'door'))).toEqual([
      'readers[0].role: expected one of "entry", "exit", "locker-bank", "room", got "door"',
    ]);
    expect(errorsOf((c) => (c.hours = { mon: '08:30' }))).toEqual(['hours: expected a list, got {"mon":"08:30"}']);
    expect(errorsOf((c) => (c.doors[0].freeAccess = []))).toEqual([
      'doors[0].freeAccess: expected at least 1 item, got []',
    ]);
  });

  it('a reader pointing at a door or a locker bank that is not there', () => {
    expect(errorsOf((c) => (c.readers[0].door = 'back'))).toEqual([
      'readers[0].door: no door with id "back" (doors: front)',
    ]);
    expect(
      errorsOf((c) => c.readers.push({ id: 'lockers', match: 'ACR1252', role: 'locker-bank', bank: 'casiers' })),
    ).toEqual(['readers[1].bank: no locker bank with id "casiers" (banks: none)']);
    expect(errorsOf((c) => delete c.readers[0].door)).toEqual([
      'readers[0].door: a reader with role "entry" needs the id of the door it opens, but it is missing',
    ]);
  });

  it('a room reader names the room whose bookings open it, and the door it opens', () => {
    const salon = { id: 'salon-in', match: 'ACR122U 02', role: 'room', door: 'front', resource: 'salon' };
    const cfg = site();
    cfg.readers.push(salon);
    const result = parse(YAML.stringify(cfg));
    expect(result.ok && result.value.readers[1]).toEqual(salon);
    expect(errorsOf((c) => c.readers.push({ ...salon, resource: undefined }))).toEqual([
      'readers[1].resource: a room reader needs the id of the room it opens, but it is missing',
    ]);
    expect(errorsOf((c) => c.readers.push({ ...salon, door: undefined }))).toEqual([
      'readers[1].door: a reader with role "room" needs the id of the door it opens, but it is missing',
    ]);
    expect(errorsOf((c) => (c.readers[0].resource = 'salon'))).toEqual([
      'readers[0].resource: only a reader with role "room" names a resource, got "salon"',
    ]);
  });

  it('a site may require a booking of everyone, off by default', () => {
    const plain = parse(YAML.stringify(site()));
    expect(plain.ok && plain.value.site.bookingRequired).toBe(false);
    const cfg = site();
    cfg.site.bookingRequired = true;
    const required = parse(YAML.stringify(cfg));
    expect(required.ok && required.value.site.bookingRequired).toBe(true);
    expect(errorsOf((c) => (c.site.bookingRequired = 'yes'))).toEqual([
      'site.bookingRequired: expected true or false, got "yes"',
    ]);
  });

  it('two doors, readers or banks with one id', () => {
    expect(errorsOf((c) => c.doors.push({ id: 'front', relay: { line: 18 } }))).toEqual([
      'doors[1].id: duplicate id "front"',
    ]);
    expect(errorsOf((c) => c.readers.push({ id: 'front-in', match: 'ACR1252', role: 'exit', door: 'front' }))).toEqual([
      'readers[1].id: duplicate id "front-in"',
    ]);
  });

  it('one GPIO line used twice, by a door or a locker', () => {
    expect(errorsOf((c) => (c.doors[0].exitButton = { line: 17 }))).toEqual([
      'doors[0].exitButton.line: GPIO line 17 is already used by doors[0].relay.line',
    ]);
    expect(errorsOf((c) => (c.lockers = [{ id: 'casiers', mode: 'free', relays: [5, 27] }]))).toEqual([
      'lockers[0].relays[1]: GPIO line 27 is already used by doors[0].contact.line',
    ]);
  });

  it('free access during staffed hours on a site with no staffed hours', () => {
    expect(
      errorsOf((c) => {
        c.hours = [];
        c.doors[0].freeAccess = 'staffed';
      }),
    ).toEqual(['doors[0].freeAccess: free access during staffed hours needs "hours" to be set']);
  });

  it('a broker URL that is not mqtt:// or has no host, and a hub directory with no broker', () => {
    expect(errorsOf((c) => (c.broker = { url: 'http://hub.example' }))).toEqual([
      'broker.url: expected an mqtt:// or mqtts:// URL with a host, got "http://hub.example"',
    ]);
    expect(errorsOf((c) => (c.broker = { url: 'mqtt://' }))).toEqual([
      'broker.url: expected an mqtt:// or mqtts:// URL with a host, got "mqtt://"',
    ]);
    expect(errorsOf((c) => (c.directory = { source: 'hub' }))).toEqual([
      'broker: a directory from the hub needs a broker, but it is missing',
    ]);
  });

  it('a closure that ends before it starts', () => {
    expect(errorsOf((c) => (c.closures = [{ from: '2026-12-31', to: '2026-12-24' }]))).toEqual([
      'closures[0].to: "to" (2026-12-24) is before "from" (2026-12-31)',
    ]);
  });

  it('a YAML syntax error, with its line and column', () => {
    expect(parse('site:\n  id: murat\n  name: [Murat\n')).toEqual({
      ok: false,
      code: 'config.invalid',
      errors: [
        {
          path: '(line 4, column 1)',
          message: 'YAML syntax: Flow sequence in block collection must be sufficiently indented and end with a ]',
        },
      ],
    });
    expect(parse('site: 1\nsite: 2\n')).toMatchObject({
      ok: false,
      errors: [{ path: '(line 2, column 1)', message: 'YAML syntax: Map keys must be unique' }],
    });
  });

  it('an empty file, a list instead of a mapping, a YAML alias loop', () => {
    expect(parse('# nothing yet\n')).toMatchObject({
      ok: false,
      errors: [{ path: '(root)', message: 'murat.yaml is empty' }],
    });
    expect(parse('- site\n')).toMatchObject({
      ok: false,
      errors: [{ path: '(root)', message: 'expected a mapping of keys to values, got ["site"]' }],
    });
    expect(parse('site: &s\n  loop: *s\n')).toMatchObject({
      ok: false,
      errors: [{ path: 'site.loop', message: 'a YAML alias refers to a value that contains it' }],
    });
  });

  it('every error at once, in one pass', () => {
    const errors = errorsOf((c) => {
      c.site.timeZone = 'Mars/Olympus';
      c.hours[0].days = ['Mon'];
      c.doors[0].relay.line = '17a';
      c.doors[0].pulse_ms = 500;
    });
    expect(errors).toEqual([
      'site.timeZone: expected an IANA time zone such as "Europe/Paris", got "Mars/Olympus"',
      'hours[0].days[0]: expected a day, one of mon, tue, wed, thu, fri, sat, sun, got "Mon"',
      'doors[0].relay.line: expected an integer 0-27, got "17a"',
      'doors[0].pulse_ms: unknown key "pulse_ms" (did you mean "pulseMs"?)',
    ]);
  });

  it('a file that is not valid UTF-8, with the byte offset, line and column of the first bad byte', () => {
    const text =
      'site: { id: murat, name: "T\u00e9l\u00e9centre", timeZone: Europe/Paris, capacity: 20 }\nstorage: { path: "mu';
    const head = Buffer.from(text, 'utf8');
    const cases: Array<[string, Buffer]> = [
      ['a Latin-1 byte', Buffer.from([0xe9])],
      ['an overlong encoding', Buffer.from([0xc0, 0xaf])],
      ['an encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
      ['a sequence cut short', Buffer.from([0xe2, 0x82])],
    ];
    for (const [, bad] of cases) {
      const file = tempFile('murat.yaml', '');
      writeFileSync(file, Buffer.concat([head, bad, Buffer.from('rat.db" }\n')]));
      expect(loadSiteConfig(file)).toEqual({
        ok: false,
        code: 'config.invalid',
        errors: [
          {
            path: '(line 2, column 21)',
            message: `not UTF-8 text: byte 0x${bad[0]?.toString(16).toUpperCase()} at byte offset ${head.length} cannot be decoded; save the file as UTF-8`,
          },
        ],
      });
    }
    const cut = tempFile('murat.yaml', '');
    writeFileSync(cut, Buffer.concat([head, Buffer.from([0xf0, 0x9f])]));
    expect(loadSiteConfig(cut)).toMatchObject({
      ok: false,
      code: 'config.invalid',
      errors: [{ path: '(line 2, column 21)' }],
    });
  });

  it('a file that cannot be read', () => {
    const missing = join(tmpdir(), 'tessera-no-such-folder', 'murat.yaml');
    expect(loadSiteConfig(missing)).toEqual({
      ok: false,
      code: 'config.unreadable',
      errors: [{ path: '(file)', message: `cannot read ${missing}: file not found` }],
    });
    expect(loadSiteConfig(EXAMPLES)).toMatchObject({
      ok: false,
      code: 'config.unreadable',
      errors: [{ message: `cannot read ${EXAMPLES}: is a directory, not a file` }],
    });
  });
});

describe('tessera config validate FILE', () => {
  it('prints one summary line and exits 0 for a valid file', async () => {
    const io = capture();
    expect(await validateCommand.run([example('lockers')], io)).toBe(EXIT.OK);
    expect(io.outLines).toEqual([
      'reichstett (Bureau-Mobile Reichstett, Europe/Paris): 1 door, 2 readers, 1 locker bank of 12 lockers, directory from file',
    ]);
    expect(io.errLines).toEqual([]);
  });

  it('prints every error with its path and exits 2 for an invalid file', async () => {
    const cfg = site();
    cfg.doors[0].relay.line = '17a';
    cfg.site.timeZone = 'Europe/Pariss';
    const file = tempFile('murat.yaml', YAML.stringify(cfg));
    const io = capture();
    expect(await validateCommand.run([file], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([
      `${file}: 2 errors`,
      '  site.timeZone: expected an IANA time zone such as "Europe/Paris", got "Europe/Pariss"',
      '  doors[0].relay.line: expected an integer 0-27, got "17a"',
    ]);
    expect(io.outLines).toEqual([]);
  });

  it('exits 2 with the reason when the file cannot be read', async () => {
    const io = capture();
    expect(await validateCommand.run(['/nonexistent/murat.yaml'], io)).toBe(EXIT.CONFIG_INVALID);
    expect(io.errLines).toEqual([
      '/nonexistent/murat.yaml: 1 error',
      '  (file): cannot read /nonexistent/murat.yaml: file not found',
    ]);
  });

  it('is a usage error without exactly one FILE', async () => {
    for (const args of [[], ['a.yaml', 'b.yaml'], ['--verbose'], ['--config', 'a.yaml', 'b.yaml']]) {
      const io = capture();
      expect(await validateCommand.run(args, io)).toBe(EXIT.USAGE);
      expect(io.text()).toMatch(/^tessera: .+\nusage: tessera config validate \[--config\] FILE \[--json\]$/);
    }
  });
});

describe('parseSiteConfig on garbage', () => {
  const answers = (text: string) => {
    const result = parseSiteConfig(text, 'fuzz.yaml', '/tmp');
    if (result.ok) return true;
    return (
      result.errors.length > 0 &&
      result.errors.every((e) => typeof e.path === 'string' && typeof e.message === 'string')
    );
  };
  const keys = fc.constantFrom(
    'version',
    'site',
    'hours',
    'closures',
    'presence',
    'readers',
    'doors',
    'lockers',
    'directory',
    'storage',
    'api',
    'hardware',
    'broker',
  );

  it('never throws on random text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), answers));
  });

  it('never throws on random YAML documents, shaped like a config or not', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(keys, fc.jsonValue())), (doc) => answers(YAML.stringify(doc))),
    );
  });

  it('never throws on an example with a random slice cut out or pasted in', () => {
    const text = readFileSync(example('lockers'), 'utf8');
    fc.assert(
      fc.property(fc.nat(text.length), fc.nat(200), fc.string({ maxLength: 20 }), (at, cut, paste) =>
        answers(text.slice(0, at) + paste + text.slice(at + cut)),
      ),
    );
  });

  it('validation never throws on any JavaScript value', () => {
    fc.assert(fc.property(fc.anything(), (value) => typeof validate(SiteConfigSchema, value).ok === 'boolean'));
  });
});
