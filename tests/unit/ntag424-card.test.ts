import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { EXIT } from '../../shared/platform/command.js';
import type { Transmit } from '../../edge/badges/apdu.js';
import { Ntag424Error } from '../../edge/badges/apdu.js';
import { badgeKeysCommand, BADGE_KEY_DEFAULTS } from '../../edge/badges/cli.js';
import { cardKey, cardKeys, DEFAULT_DOOR_KEY_NO, sdmMetaReadKey } from '../../edge/badges/diversify.js';
import { authenticateEV2First, getCardUid } from '../../edge/badges/ev2.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import type { SunResult } from '../../edge/badges/sun.js';
import { readSunMessage, verifySun } from '../../edge/badges/sun.js';
import { parseSiteConfig } from '../../firmware-config/load.js';
import { captureIo as capture } from '../support/io.js';

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');
const upper = (bytes: Buffer) => bytes.toString('hex').toUpperCase();

const SITE = { master: hex('00112233445566778899AABBCCDDEEFF'), aid: hex('3042F5'), system: Buffer.from('Tessera') };
const OTHER_MASTER = hex('FFEEDDCCBBAA99887766554433221100');
const UID = '04DE5F1EACC040';

/** A card personalised for `master` (the site's, unless a forger's). */
function personalised(uid: string, master: Buffer = SITE.master, sdmCounter?: number): SoftNtag424 {
  const keys = cardKeys(master, hex(uid), SITE.aid, SITE.system).map((k) => k.key);
  return new SoftNtag424({ uid, keys, ...(sdmCounter !== undefined ? { sdmCounter } : {}) });
}

const onReader =
  (card: SoftNtag424): Transmit =>
  async (apdu) =>
    card.handle(apdu);

/** What the door holds: the site master, from which it derives the key of the UID the reader saw. */
const doorKey = (uid: string) => cardKey(SITE.master, DEFAULT_DOOR_KEY_NO, hex(uid), SITE.aid, SITE.system);

async function failureOf(promise: Promise<unknown>): Promise<Ntag424Error> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Ntag424Error);
  return err as Ntag424Error;
}

describe('a door authenticating an NTAG 424 (AuthenticateEV2First, then GetCardUID)', () => {
  it('reads the real UID in encrypted mode with the right key', async () => {
    const card = personalised(UID);
    const session = await authenticateEV2First(onReader(card), doorKey(UID), DEFAULT_DOOR_KEY_NO);
    expect(await getCardUid(onReader(card), session)).toBe(UID);
  });

  it('keeps the session in step over several commands', async () => {
    const card = personalised(UID);
    const session = await authenticateEV2First(onReader(card), doorKey(UID), DEFAULT_DOOR_KEY_NO);
    for (let i = 0; i < 3; i++) expect(await getCardUid(onReader(card), session)).toBe(UID);
    expect(session.cmdCtr).toBe(3);
  });

  it('fails with auth_failed when the door uses the wrong key', async () => {
    const err = await failureOf(
      authenticateEV2First(onReader(personalised(UID)), Buffer.alloc(16), DEFAULT_DOOR_KEY_NO),
    );
    expect(err.code).toBe('auth_failed');
    expect(err.status).toBe(0x91ae);
  });

  it('refuses a card with the right UID but keys from another master: a clone', async () => {
    const clone = personalised(UID, OTHER_MASTER);
    const err = await failureOf(authenticateEV2First(onReader(clone), doorKey(clone.uid), DEFAULT_DOOR_KEY_NO));
    expect(err.code).toBe('auth_failed');
  });

  it('refuses a UID emulator that says yes to everything', async () => {
    const emulator: Transmit = async (apdu) => {
      if (apdu[1] === 0x71) return Buffer.concat([Buffer.alloc(16, 7), hex('91AF')]);
      if (apdu[1] === 0xaf) return Buffer.concat([Buffer.alloc(32, 9), hex('9100')]);
      return hex('9000');
    };
    expect((await failureOf(authenticateEV2First(emulator, doorKey(UID), DEFAULT_DOOR_KEY_NO))).code).toBe(
      'auth_failed',
    );
  });

  it('refuses an answer to GetCardUID that was tampered with on the way', async () => {
    const card = personalised(UID);
    const tampering: Transmit = async (apdu) => {
      const answer = card.handle(apdu);
      if (apdu[1] === 0x51) answer[3] = answer[3]! ^ 0x01;
      return answer;
    };
    const session = await authenticateEV2First(tampering, doorKey(UID), DEFAULT_DOOR_KEY_NO);
    expect((await failureOf(getCardUid(tampering, session))).code).toBe('bad_response');
  });

  it('gets no UID without authenticating first', async () => {
    const card = personalised(UID);
    const stale = { keyNo: 2, ti: Buffer.alloc(4), encKey: Buffer.alloc(16), macKey: Buffer.alloc(16), cmdCtr: 0 };
    expect((await failureOf(getCardUid(onReader(card), stale))).code).toBe('auth_failed');
  });

  it('reports a failing reader as a transport error', async () => {
    const unplugged: Transmit = () => Promise.reject(new Error('SCARD_E_NO_SMARTCARD'));
    expect((await failureOf(authenticateEV2First(unplugged, doorKey(UID), 2))).code).toBe('transport');
  });

  it('says bad_response for a card that is not an NTAG 424', async () => {
    const desfire: Transmit = async () => hex('6A82');
    expect((await failureOf(authenticateEV2First(desfire, doorKey(UID), 2))).code).toBe('bad_response');
  });
});

describe('the software NTAG 424 answers what it does not support as the card does', () => {
  it.each([
    ['an unknown ISO instruction', '00CA000000', '6D00'],
    ['an unknown native command (GetVersion)', '9060000000', '911C'],
    ['an unknown class', '80A4040000', '6E00'],
    ['a continuation without an authentication', '90AF000000', '911C'],
    ['a key number the card does not have', '9071000002050000', '9140'],
    ['a ReadBinary before any file is selected', '00B0000002', '6986'],
    ['a file it does not have', '00A4000C02E105', '6A82'],
    ['a command too short to have a header', '00A404', '6700'],
    ['a select with no name', '00A40400', '6A82'],
    ['an APDU whose Lc lies', '00A4040007D2760000', '6700'],
  ])('%s', (_what, command, status) => {
    const answer = personalised(UID).handle(hex(command));
    expect(upper(answer)).toBe(status);
  });

  it('answers any bytes at all with a status word, never an exception', () => {
    const card = personalised(UID);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.constantFrom(0x00, 0x90, 0x80),
        fc.constantFrom(0xa4, 0xb0, 0x71, 0xaf, 0x51, 0x60),
        (tail, cla, ins) => {
          const answer = card.handle(Buffer.concat([Buffer.from([cla, ins]), Buffer.from(tail)]));
          expect(answer.length).toBeGreaterThanOrEqual(2);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('has the ATR of an ISO 14443-4 card', () => {
    expect(personalised(UID).atr).toBe('3B8180018080');
  });
});

describe('SUN messages from the NDEF URL', () => {
  const metaReadKey = sdmMetaReadKey(SITE.master);
  const fileReadKey = (uid: Buffer) => cardKey(SITE.master, DEFAULT_DOOR_KEY_NO, uid, SITE.aid, SITE.system);

  async function tap(card: SoftNtag424): Promise<SunResult> {
    const message = await readSunMessage(onReader(card));
    if (!message) throw new Error('no SUN message');
    return verifySun({ encPiccData: message.e, cmac: message.c, metaReadKey, fileReadKey });
  }

  it('verifies every read, with a counter one higher each time', async () => {
    const card = personalised(UID, SITE.master, 41);
    const results = [await tap(card), await tap(card), await tap(card)];
    expect(results).toEqual([42, 43, 44].map((counter) => ({ ok: true, uid: UID, counter })));
  });

  it('reads the URL with the APDUs and steps the counter once per read, not per ReadBinary', async () => {
    const card = personalised(UID);
    const sent: string[] = [];
    await readSunMessage(async (apdu) => (sent.push(upper(apdu)), card.handle(apdu)));
    expect(sent.slice(0, 3)).toEqual(['00A4040007D276000085010100', '00A4000C02E104', '00B0000002']);
    expect(sent[3]).toMatch(/^00B00002[0-9A-F]{2}$/);
    expect(card.sdmCounter).toBe(1);
  });

  it('verifies a replayed message again with the same counter, so only the stored counter can refuse it', async () => {
    const card = personalised(UID);
    const message = (await readSunMessage(onReader(card)))!;
    const check = () => verifySun({ encPiccData: message.e, cmac: message.c, metaReadKey, fileReadKey });
    const first = check();
    const replay = check();
    expect(replay).toEqual(first);
    // The caller's rule (SunCounters in SQLite): accept only a counter above the last one seen.
    const last = new Map<string, number>();
    const accept = (r: SunResult) => r.ok && r.counter > (last.get(r.uid) ?? -1) && (last.set(r.uid, r.counter), true);
    expect([accept(first), accept(replay), accept(await tap(card))]).toEqual([true, false, true]);
  });

  it('refuses the SUN message of a card with the right UID but another master key', async () => {
    expect(await tap(personalised(UID, OTHER_MASTER))).toEqual({ ok: false, reason: 'bad_cmac' });
  });

  it('refuses a SUN message when the door has the meta key but the wrong file read key', async () => {
    const message = (await readSunMessage(onReader(personalised(UID))))!;
    const wrongSlot = (uid: Buffer) => cardKey(SITE.master, 3, uid, SITE.aid, SITE.system);
    expect(verifySun({ encPiccData: message.e, cmac: message.c, metaReadKey, fileReadKey: wrongSlot })).toEqual({
      ok: false,
      reason: 'bad_cmac',
    });
  });

  it('parses the NDEF file layout of the AN12196 example', async () => {
    const url = 'choose.url.com/ntag424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086';
    const file = Buffer.concat([hex('0051 D1 01 4D 55 04'), Buffer.from(url), Buffer.alloc(256 - 7 - url.length)]);
    const staticCard: Transmit = async (apdu) => {
      if (apdu[1] !== 0xb0) return hex('9000');
      const offset = apdu.readUInt16BE(2);
      return Buffer.concat([file.subarray(offset, offset + apdu[4]!), hex('9000')]);
    };
    expect(await readSunMessage(staticCard)).toEqual({
      e: hex('EF963FF7828658A599F3041510671E88'),
      c: hex('94EED9EE65337086'),
    });
  });

  it('finds no SUN message on a card without the NTAG 424 application', async () => {
    expect(await readSunMessage(async () => hex('6A82'))).toBeUndefined();
  });

  it('reports a failing reader as a transport error', async () => {
    expect((await failureOf(readSunMessage(() => Promise.reject(new Error('gone'))))).code).toBe('transport');
  });
});

function keyFile(text: string, mode = 0o600): string {
  const path = join(mkdtempSync(join(tmpdir(), 'tessera-badge-')), 'master.key');
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

describe('tessera badge keys', () => {
  const expectedKeys = [
    'key 0: EBAC945C3C1D5FF5C7C3D5A8DC167C62',
    'key 1: CED266C21B013C74C366308E7E8F493D',
    'key 2: 1F32D2ADC7565FDABBAAB14DE74F664F',
    'key 3: 1F1E64213C07F6DCBE702C3FCA461A0A',
    'key 4: 1FE1A553FA5640578FAF70815BF70669',
  ];

  it('prints the five keys of a card and what each is for', async () => {
    const io = capture();
    const code = await badgeKeysCommand.run(
      ['--master-key-file', keyFile('00112233445566778899aabbccddeeff\n'), '--uid', '04:de:5f:1e:ac:c0:40'],
      io,
    );
    expect(code).toBe(EXIT.OK);
    expect(io.outLines.slice(0, 5)).toEqual(expectedKeys);
    expect(io.outLines[5]).toMatch(/0 = card master key.*; 2 = door key/);
    expect(io.errLines).toEqual([]);
  });

  it('gives the keys a door derives: the CLI and the door agree', async () => {
    const io = capture();
    await badgeKeysCommand.run(['--master-key', '00112233445566778899AABBCCDDEEFF', '--uid', UID], io);
    expect(io.outLines[2]).toBe(`key 2: ${upper(doorKey(UID))}`);
  });

  it('warns that --master-key ends up in the shell history', async () => {
    const io = capture();
    expect(await badgeKeysCommand.run(['--master-key', '00112233445566778899AABBCCDDEEFF', '--uid', UID], io)).toBe(
      EXIT.OK,
    );
    expect(io.outLines.slice(0, 5)).toEqual(expectedKeys);
    expect(io.errLines.join('\n')).toMatch(/shell history/);
  });

  it('warns about a key file other users can read', async () => {
    const io = capture();
    await badgeKeysCommand.run(
      ['--master-key-file', keyFile('00112233445566778899AABBCCDDEEFF', 0o644), '--uid', UID],
      io,
    );
    expect(io.errLines.join('\n')).toMatch(/chmod 600/);
  });

  it('changes every per-card key with another AID or system identifier', async () => {
    const io = capture();
    await badgeKeysCommand.run(
      [
        '--master-key',
        '00112233445566778899AABBCCDDEEFF',
        '--uid',
        UID,
        '--aid',
        '000001',
        '--system-identifier',
        'Murat',
      ],
      io,
    );
    expect(io.outLines.slice(0, 5).filter((line) => expectedKeys.includes(line))).toEqual([expectedKeys[1]]);
  });

  it.each([
    ['no UID', ['--master-key-file', 'KEYFILE'], /--uid HEX is required/],
    ['a 4-byte UID', ['--master-key-file', 'KEYFILE', '--uid', '04A2B3C4'], /7 bytes in hex/],
    ['a UID that is not hex', ['--master-key-file', 'KEYFILE', '--uid', '04DE5F1EACC04G'], /7 bytes in hex/],
    ['no master key', ['--uid', UID], /exactly one of --master-key-file/],
    [
      'both ways of giving the master key',
      ['--master-key-file', 'KEYFILE', '--master-key', '00112233445566778899AABBCCDDEEFF', '--uid', UID],
      /exactly one/,
    ],
    ['a short master key', ['--master-key', '00112233445566778899AABBCCDDEE', '--uid', UID], /16 bytes in hex/],
    ['a key file that is not a key', ['--master-key-file', 'BADFILE', '--uid', UID], /expected 32 hex digits/],
    [
      'a missing key file',
      ['--master-key-file', '/nonexistent/master.key', '--uid', UID],
      /cannot read the master key file .*ENOENT/,
    ],
    ['a bad AID', ['--master-key-file', 'KEYFILE', '--uid', UID, '--aid', '3042'], /--aid must be 3 bytes/],
    [
      'a system identifier too long for AN10922',
      ['--master-key-file', 'KEYFILE', '--uid', UID, '--system-identifier', 'x'.repeat(22)],
      /1 to 21 bytes/,
    ],
    ['an unknown option', ['--master-key-file', 'KEYFILE', '--uid', UID, '--key-no', '2'], /Unknown option/],
    ['a stray argument', ['--master-key-file', 'KEYFILE', '--uid', UID, 'extra'], /positional/],
  ])('refuses %s with a usage error', async (_what, args, message) => {
    const files: Record<string, string> = {
      KEYFILE: keyFile('00112233445566778899AABBCCDDEEFF'),
      BADFILE: keyFile('not a key'),
    };
    const io = capture();
    const code = await badgeKeysCommand.run(
      args.map((a) => files[a] ?? a),
      io,
    );
    expect(code).toBe(EXIT.USAGE);
    expect(io.outLines).toEqual([]);
    expect(io.errLines.join('\n')).toMatch(message);
    expect(io.errLines.join('\n')).toContain('usage: tessera badge keys');
  });

  it('uses the same AID and system identifier defaults as the secureBadges config block', () => {
    const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'firmware-config', 'examples');
    const site = YAML.parse(readFileSync(join(examples, 'business-hours.yaml'), 'utf8')) as Record<string, unknown>;
    const parsed = parseSiteConfig(
      YAML.stringify({ ...site, secureBadges: { doorKeyFile: 'door.keys' } }),
      'site.yaml',
      examples,
    );
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect({
      aid: parsed.value.secureBadges?.aid,
      systemIdentifier: parsed.value.secureBadges?.systemIdentifier,
    }).toEqual(BADGE_KEY_DEFAULTS);
  });
});
