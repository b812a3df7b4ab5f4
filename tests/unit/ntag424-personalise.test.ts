import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Transmit } from '../../edge/badges/apdu.js';
import { Ntag424Error } from '../../edge/badges/apdu.js';
import { cardKey, cardKeys, DEFAULT_DOOR_KEY_NO, sdmMetaReadKey } from '../../edge/badges/diversify.js';
import { authenticateEV2First, getCardUid } from '../../edge/badges/ev2.js';
import type { FileSettings } from '../../edge/badges/personalise-commands.js';
import {
  changeFileSettings,
  changeKey,
  changeKeyData,
  encodeFileSettings,
  FACTORY_NDEF_SETTINGS,
  getFileSettings,
  parseFileSettings,
  sunFileSettings,
  sunNdefTemplate,
  writeData,
} from '../../edge/badges/personalise-commands.js';
import type { PersonaliseOptions } from '../../edge/badges/personalise.js';
import { personalise, PersonaliseError, resetCard } from '../../edge/badges/personalise.js';
import type { Ev2Session } from '../../edge/badges/secure-messaging.js';
import { crc32Nk } from '../../edge/badges/secure-messaging.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { readSunMessage, verifySun } from '../../edge/badges/sun.js';
import { hex, scripted, upper } from './ntag424-fixtures.js';

const ZERO_KEY = Buffer.alloc(16);

const session = (ti: string, enc: string, mac: string, cmdCtr: number, keyNo = 0): Ev2Session => ({
  keyNo,
  ti: hex(ti),
  encKey: hex(enc),
  macKey: hex(mac),
  cmdCtr,
});

/** AN12196's session after AuthenticateEV2First with key 0 (zero): TI 9D00C4DF. */
const FIRST = ['9D00C4DF', '1309C877509E5A215007FF0ED19CA564', '4C6626F5E72EA694202139295C7A7FC7'] as const;
/** AN12196's session after AuthenticateEV2NonFirst with key 0, used by its ChangeKey examples. */
const NON_FIRST = ['7614281A', '4CF3CB41A22583A61E89B158D252FC53', '5529860B2FC5FB6154B7F28361D30BF9'] as const;

/** The NDEF file of AN12196's SUN example, placeholders in, as its WriteData example writes it. */
const AN12196_NDEF =
  '0051D1014D550463686F6F73652E75726C2E636F6D2F6E7461673432343F653D' +
  '3030303030303030303030303030303030303030303030303030303030303030' +
  '26633D30303030303030303030303030303030';

/** That NDEF file, padded to 128 bytes, encrypted in AN12196's WriteData example (CommMode.Full). */
const AN12196_NDEF_ENCRYPTED =
  '421C73A27D827658AF481FDFF20A5025B559D0E3AA21E58D347F343CFFC768BF' +
  'E596C706BC00F2176781D4B0242642A0FF5A42C461AAF894D9A1284B8C76BCFA' +
  '658ACD40555D362E08DB15CF421B51283F9064BCBE20E96CAE545B407C9D651A' +
  '3315B27373772E5DA2367D2064AE054AF996C6F1F669170FA88CE8C4E3A4A7BB' +
  'BEF0FD971FF532C3A802AF745660F2B4';

describe('ChangeKey, AN12196 worked examples', () => {
  it('computes CRC32NK of the new key as the application note prints it', () => {
    expect(upper(crc32Nk(hex('F3847D627727ED3BC9C4CC050489B966')))).toBe('789DFADC');
  });

  it('changes key 2 while authenticated with key 0: new ⊕ old, version, CRC, then the exact APDU and answer MAC', async () => {
    const s = session(...NON_FIRST, 2);
    expect(upper(changeKeyData(s, 2, hex('F3847D627727ED3BC9C4CC050489B966'), 1, ZERO_KEY))).toBe(
      'F3847D627727ED3BC9C4CC050489B96601789DFADC',
    );
    const card = scripted([
      [
        '90C4000029 02 2CF362B7BF4311FF3BE1DAA295E8C68DE09050560D19B9E16C2393AE9CD1FAC7 5D0CE20BCD1D06E6 00',
        '203BB55D1089D587 9100',
      ],
    ]);
    await changeKey(card, s, 2, hex('F3847D627727ED3BC9C4CC050489B966'), { version: 1, oldKey: ZERO_KEY });
    expect(card.remaining()).toBe(0);
    expect(s.cmdCtr).toBe(3);
  });

  it('refuses the answer to that ChangeKey when its MAC is wrong', async () => {
    const s = session(...NON_FIRST, 2);
    const card: Transmit = async () => hex('203BB55D1089D588 9100');
    const err = await changeKey(card, s, 2, hex('F3847D627727ED3BC9C4CC050489B966'), {
      version: 1,
      oldKey: ZERO_KEY,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_response' });
  });

  it('changes key 0, the key of the session: new key and version only, and the card answers without a MAC', async () => {
    const s = session(...NON_FIRST, 3);
    expect(upper(changeKeyData(s, 0, hex('5004BF991F408672B1EF00F08F9E8647'), 1))).toBe(
      '5004BF991F408672B1EF00F08F9E864701',
    );
    const card = scripted([
      ['90C4000029 00 C0EB4DEEFEDDF0B513A03A95A75491818580503190D4D05053FF75668A01D6FD A6610234BDED6432 00', '9100'],
    ]);
    await changeKey(card, s, 0, hex('5004BF991F408672B1EF00F08F9E8647'), { version: 1 });
    expect(card.remaining()).toBe(0);
  });

  it('will not change another key without its old key', () => {
    expect(() => changeKeyData(session(...NON_FIRST, 2), 1, ZERO_KEY, 1)).toThrow(/old key/);
  });
});

describe('WriteData, AN12196 worked examples', () => {
  it('writes the NDEF file in CommMode.Full: exact APDU, answer MAC checked', async () => {
    const data = Buffer.concat([hex(AN12196_NDEF), Buffer.alloc(128 - hex(AN12196_NDEF).length)]);
    const card = scripted([
      [`908D00009F 02000000800000 ${AN12196_NDEF_ENCRYPTED} D1D9A8499661EBF3 00`, 'FC222E5F7A542452 9100'],
    ]);
    const s = session(...FIRST, 0);
    await writeData(card, s, { fileNo: 2, offset: 0, data, mode: 'full' });
    expect(card.remaining()).toBe(0);
    expect(s.cmdCtr).toBe(1);
  });

  it('writes a proprietary file in CommMode.Full (the second example)', async () => {
    const card = scripted([
      ['908D00001F 030000000A0000 6B5E6804909962FC4E3FF5522CF0F843 6C0C53315B9C73AA 00', 'C26D236E4A7C046D 9100'],
    ]);
    const s = session('7614281A', '7A93D6571E4B180FCA6AC90C9A7488D4', 'FC4AF159B62E549B5812394CAB1918CC', 0, 3);
    await writeData(card, s, { fileNo: 3, offset: 0, data: hex('0102030405060708090A'), mode: 'full' });
    expect(card.remaining()).toBe(0);
  });

  it('writes the capability container in CommMode.Plain, offset and length little-endian', async () => {
    const card = scripted([['908D000019 010E0000120000 FF0506E10500808283000000000000000000 00', '9100']]);
    await writeData(card, undefined, {
      fileNo: 1,
      offset: 0x0e,
      data: hex('FF0506E10500808283000000000000000000'),
      mode: 'plain',
    });
    expect(card.remaining()).toBe(0);
  });

  it('builds the NDEF file of the example from its URL, and finds the offsets the example sets', () => {
    const template = sunNdefTemplate('https://choose.url.com/ntag424');
    expect(upper(template.file)).toBe(AN12196_NDEF);
    expect(template).toMatchObject({ piccDataOffset: 0x20, macOffset: 0x43 });
  });

  it('puts the placeholders after an existing query with &', () => {
    const template = sunNdefTemplate('https://badge.example/t?site=paris');
    const text = template.file.toString('latin1');
    expect(text.slice(template.piccDataOffset - 3, template.piccDataOffset)).toBe('&e=');
    expect(text.slice(template.macOffset - 3, template.macOffset + 16)).toBe(`&c=${'0'.repeat(16)}`);
  });
});

describe('ChangeFileSettings, AN12196 worked example', () => {
  const example: FileSettings = {
    commMode: 'plain',
    access: { read: 0xe, write: 0, readWrite: 0, change: 0 },
    sdm: {
      uidMirror: true,
      readCtrMirror: true,
      readCtrLimit: false,
      encFileData: false,
      ascii: true,
      ctrRet: 1,
      metaRead: 2,
      fileRead: 1,
      piccDataOffset: 0x20,
      macInputOffset: 0x43,
      macOffset: 0x43,
    },
  };

  it('encodes the SDM settings of the example, offsets included', () => {
    expect(upper(encodeFileSettings(example))).toBe('4000E0C1F121200000430000430000');
    expect(parseFileSettings(hex('4000E0C1F121200000430000430000'))).toEqual(example);
  });

  it('sends it in CommMode.Full with the exact APDU and checks the answer MAC', async () => {
    const card = scripted([
      ['905F000019 02 61B6D97903566E84C3AE5274467E89EA D799B7C1A0EF7A04 00', '57BFF87B1241E93D 9100'],
    ]);
    const s = session(...FIRST, 1);
    await changeFileSettings(card, s, 2, example);
    expect(card.remaining()).toBe(0);
    expect(s.cmdCtr).toBe(2);
  });

  it('reads the settings of the GetFileSettings example (encrypted file data, all offsets)', () => {
    const settings = parseFileSettings(hex('40EEEED1FE001F00004400004400002000006A0000'));
    expect(settings).toEqual({
      commMode: 'plain',
      access: { read: 0xe, write: 0xe, readWrite: 0xe, change: 0xe },
      sdm: {
        uidMirror: true,
        readCtrMirror: true,
        readCtrLimit: false,
        encFileData: true,
        ascii: true,
        ctrRet: 0xe,
        metaRead: 0,
        fileRead: 0,
        piccDataOffset: 0x1f,
        macInputOffset: 0x44,
        encOffset: 0x44,
        encLength: 0x20,
        macOffset: 0x6a,
      },
    });
    expect(upper(encodeFileSettings(settings!))).toBe('40EEEED1FE001F00004400004400002000006A0000');
  });

  it('gives our badges FileOption 40, AccessRights 00E0, SDMOptions C1, SDMAccessRights FF12 (docs/badges.md)', () => {
    const template = sunNdefTemplate('https://choose.url.com/ntag424');
    expect(upper(encodeFileSettings(sunFileSettings(template, 1, 2)))).toBe('4000E0C1FF12200000430000430000');
    expect(upper(encodeFileSettings(FACTORY_NDEF_SETTINGS))).toBe('00E0EE');
  });

  it('reads the settings with GetFileSettings in CommMode.MAC as the example: exact APDU, answer MAC checked', async () => {
    const card = scripted([
      ['90F5000009 02 6597A457C8CD442C 00', '0040EEEE000100D1FE001F00004400004400002000006A0000 2A474282E7A47986 9100'],
    ]);
    const s = session('7A21085E', '00000000000000000000000000000000', '8248134A386E86EB7FAF54A52E536CB6', 0);
    const answer = await getFileSettings(card, s, 2);
    expect(answer.size).toBe(256);
    expect(upper(encodeFileSettings(answer.settings))).toBe('40EEEED1FE001F00004400004400002000006A0000');
    expect(s.cmdCtr).toBe(1);
    const tampered = scripted([
      ['90F5000009 02 6597A457C8CD442C 00', '0040EEEE000100D1FE001F00004400004400002000006B0000 2A474282E7A47986 9100'],
    ]);
    const s2 = session('7A21085E', '00000000000000000000000000000000', '8248134A386E86EB7FAF54A52E536CB6', 0);
    await expect(getFileSettings(tampered, s2, 2)).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('reads back whatever it encodes, and refuses settings of the wrong length', () => {
    const nibble = fc.integer({ min: 0, max: 15 });
    const offset = fc.integer({ min: 0, max: 0xffffff });
    const settings = fc.record({
      commMode: fc.constantFrom('plain' as const, 'mac' as const, 'full' as const),
      access: fc.record({ read: nibble, write: nibble, readWrite: nibble, change: nibble }),
      sdm: fc.option(
        fc.record({
          uidMirror: fc.boolean(),
          readCtrMirror: fc.boolean(),
          readCtrLimit: fc.boolean(),
          encFileData: fc.boolean(),
          ascii: fc.boolean(),
          ctrRet: nibble,
          metaRead: nibble,
          fileRead: nibble,
          uidOffset: offset,
          readCtrOffset: offset,
          piccDataOffset: offset,
          macInputOffset: offset,
          encOffset: offset,
          encLength: offset,
          macOffset: offset,
          readCtrLimitValue: offset,
        }),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(settings, (s) => {
        const bytes = encodeFileSettings(s.sdm ? s : { commMode: s.commMode, access: s.access });
        const parsed = parseFileSettings(bytes);
        expect(parsed).toBeDefined();
        expect(encodeFileSettings(parsed!)).toEqual(bytes);
        expect(parseFileSettings(bytes.subarray(0, -1))).toBeUndefined();
        expect(parseFileSettings(Buffer.concat([bytes, Buffer.alloc(1)]))).toBeUndefined();
      }),
    );
  });
});

describe('the software card answers the AN12196 example as the card did', () => {
  /** A blank card that draws RndB then TI as the card of the example did, authenticated as the example's reader did. */
  async function exampleSession(blankFileSettings?: FileSettings) {
    const draws = [hex('B9E2FC789B64BF237CCCAA20EC7E6E48'), hex('9D00C4DF')];
    const card = SoftNtag424.blank('04DE5F1EACC040', {
      random: (n) => draws.shift() ?? Buffer.alloc(n),
      ...(blankFileSettings ? { blankFileSettings } : {}),
    });
    const transmit: Transmit = async (apdu) => card.handle(apdu);
    const s = await authenticateEV2First(transmit, ZERO_KEY, 0, () => hex('13C5DB8A5930439FC3DEF9A4C675360F'));
    expect([upper(s.ti), upper(s.encKey), upper(s.macKey)]).toEqual([...FIRST]);
    return { card, transmit, s };
  }

  it('takes the example WriteData in CommMode.Full and the example ChangeFileSettings, answering their exact MACs', async () => {
    const { card } = await exampleSession({
      commMode: 'full',
      access: { read: 0xe, write: 0, readWrite: 0, change: 0 },
    });
    expect(upper(card.handle(hex(`908D00009F02000000800000${AN12196_NDEF_ENCRYPTED}D1D9A8499661EBF300`)))).toBe(
      'FC222E5F7A5424529100',
    );
    expect(upper(card.state().ndef.subarray(0, hex(AN12196_NDEF).length))).toBe(AN12196_NDEF);
    expect(upper(card.handle(hex('905F0000190261B6D97903566E84C3AE5274467E89EAD799B7C1A0EF7A0400')))).toBe(
      '57BFF87B1241E93D9100',
    );
  });

  it('on a factory file, takes the example data in plain, then the example ChangeFileSettings, and mirrors as set', async () => {
    const { card, transmit, s } = await exampleSession();
    // The factory file is free to write: the example's data goes in plain, stepping the counter to 1.
    await writeData(transmit, s, { fileNo: 2, offset: 0, data: hex(AN12196_NDEF), mode: 'plain' });
    const answer = card.handle(hex('905F0000190261B6D97903566E84C3AE5274467E89EAD799B7C1A0EF7A0400'));
    expect(upper(answer)).toBe('57BFF87B1241E93D9100');
    expect(upper(encodeFileSettings(card.state().settings))).toBe('4000E0C1F121200000430000430000');
    // With the example's key numbers (meta read 2, file read 1) and zero keys, its SUN messages verify.
    const message = (await readSunMessage(transmit))!;
    expect(
      verifySun({ encPiccData: message.e, cmac: message.c, metaReadKey: ZERO_KEY, fileReadKey: () => ZERO_KEY }),
    ).toEqual({
      ok: true,
      uid: '04DE5F1EACC040',
      counter: 1,
    });
  });
});

const SITE = {
  masterKey: hex('00112233445566778899AABBCCDDEEFF'),
  aid: hex('3042F5'),
  systemIdentifier: Buffer.from('Tessera'),
};
const OTHER_MASTER = hex('FFEEDDCCBBAA99887766554433221100');
const UID = '04DE5F1EACC040';
const URL = 'https://badge.example/t';
const options = (extra: Partial<PersonaliseOptions> = {}): PersonaliseOptions => ({
  uid: UID,
  ...SITE,
  url: URL,
  ...extra,
});
const ourKeys = (master = SITE.masterKey) =>
  cardKeys(master, hex(UID), SITE.aid, SITE.systemIdentifier).map((k) => upper(k.key));
const onReader =
  (card: SoftNtag424): Transmit =>
  async (apdu) =>
    card.handle(apdu);

/** What a door checks, both ways: AuthenticateEV2First with its key and GetCardUID; a SUN message that verifies. */
async function doorChecks(card: SoftNtag424): Promise<{ authenticate: string; sun: unknown }> {
  const doorKey = cardKey(SITE.masterKey, DEFAULT_DOOR_KEY_NO, hex(UID), SITE.aid, SITE.systemIdentifier);
  const s = await authenticateEV2First(onReader(card), doorKey, DEFAULT_DOOR_KEY_NO);
  const authenticate = await getCardUid(onReader(card), s);
  const message = await readSunMessage(onReader(card));
  const sun =
    message &&
    verifySun({
      encPiccData: message.e,
      cmac: message.c,
      metaReadKey: sdmMetaReadKey(SITE.masterKey),
      fileReadKey: (uid) => cardKey(SITE.masterKey, DEFAULT_DOOR_KEY_NO, uid, SITE.aid, SITE.systemIdentifier),
    });
  return { authenticate, sun };
}

async function failure(promise: Promise<unknown>): Promise<PersonaliseError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PersonaliseError);
  return err as PersonaliseError;
}

const FACTORY_STATE = {
  keys: Array.from({ length: 5 }, () => '0'.repeat(32)),
  keyVersions: [0, 0, 0, 0, 0],
  settings: FACTORY_NDEF_SETTINGS,
};

describe('personalise and resetCard on the software card', () => {
  it('personalises a blank card step by step; a door then accepts it both ways; reset gives the factory keys back', async () => {
    const card = SoftNtag424.blank(UID);
    expect(card.state()).toMatchObject(FACTORY_STATE);
    const steps: string[] = [];
    await personalise(onReader(card), options({ onStep: (s) => steps.push(s) }));
    expect(steps).toEqual([
      'select the NTAG 424 DNA application',
      'find which keys the card holds',
      'authenticate with key 0',
      'change key 1',
      'change key 2',
      'change key 3',
      'change key 4',
      'change key 0',
      'authenticate with our key 0',
      'read the NDEF file settings',
      'write the NDEF file',
      'set the SDM file settings',
      'check as a door: authenticate with the door key',
      'check as a door: read and verify a SUN message',
    ]);
    expect(card.state()).toMatchObject({ keys: ourKeys(), keyVersions: [1, 1, 1, 1, 1] });
    expect(await doorChecks(card)).toEqual({ authenticate: UID, sun: { ok: true, uid: UID, counter: 2 } });
    expect(
      card
        .state()
        .ndef.subarray(2, 2 + 0x40)
        .toString('latin1'),
    ).toContain('badge.example/t?e=');

    const resetSteps: string[] = [];
    await resetCard(onReader(card), { uid: UID, ...SITE, onStep: (s) => resetSteps.push(s) });
    expect(resetSteps).toContain('change key 0');
    expect(card.state()).toMatchObject(FACTORY_STATE);
    expect(card.state().ndef.readUInt16BE(0)).toBe(0);
    await expect(authenticateEV2First(onReader(card), ZERO_KEY, 0)).resolves.toMatchObject({ keyNo: 0 });
    expect(await readSunMessage(onReader(card))).toBeUndefined();
  });

  it('a personalised card answers as the card made with the same keys by the simulator constructor does', async () => {
    const card = SoftNtag424.blank(UID);
    await personalise(onReader(card), options());
    const made = new SoftNtag424({ uid: UID, keys: ourKeys().map(hex), url: URL });
    expect(card.state().settings).toEqual(made.state().settings);
    expect(card.state().ndef).toEqual(made.state().ndef);
  });

  it('writes the NDEF file in the comm mode its settings ask for (here CommMode.Full, write key 0)', async () => {
    const card = SoftNtag424.blank(UID, {
      blankFileSettings: { commMode: 'full', access: { read: 0xe, write: 0, readWrite: 0, change: 0 } },
    });
    const sent: Buffer[] = [];
    await personalise(async (apdu) => (sent.push(apdu), card.handle(apdu)), options());
    const write = sent.find((apdu) => apdu[1] === 0x8d)!;
    // Encrypted: the template's text is nowhere in the command.
    expect(write.includes(Buffer.from('badge.example'))).toBe(false);
    expect((await doorChecks(card)).sun).toMatchObject({ ok: true, uid: UID });
  });

  it('personalising a card already ours changes no key and checks it again', async () => {
    const card = SoftNtag424.blank(UID);
    await personalise(onReader(card), options());
    const steps: string[] = [];
    await personalise(onReader(card), options({ onStep: (s) => steps.push(s) }));
    expect(steps.filter((s) => s.startsWith('change key'))).toEqual([]);
    expect(steps.at(-1)).toBe('check as a door: read and verify a SUN message');
  });

  it('finishes a card whose keys 1 to 4 are ours and key 0 still the factory one', async () => {
    const card = SoftNtag424.blank(UID);
    const s = await authenticateEV2First(onReader(card), ZERO_KEY, 0);
    for (let keyNo = 1; keyNo <= 4; keyNo++)
      await changeKey(onReader(card), s, keyNo, hex(ourKeys()[keyNo]!), { version: 1, oldKey: ZERO_KEY });
    const steps: string[] = [];
    await personalise(onReader(card), options({ onStep: (step) => steps.push(step) }));
    expect(steps.filter((step) => step.startsWith('change key'))).toEqual(['change key 0']);
    expect(card.state().keys).toEqual(ourKeys());
    expect((await doorChecks(card)).authenticate).toBe(UID);
  });

  it('refuses a card of another master key, naming the step, and changes nothing on it', async () => {
    const card = SoftNtag424.blank(UID);
    await personalise(onReader(card), options({ masterKey: OTHER_MASTER }));
    const before = card.state();
    const err = await failure(personalise(onReader(card), options()));
    expect(err.step).toBe('find which keys the card holds');
    expect(err.message).toMatch(/neither the factory key nor .* another site or master key/);
    expect(err.cause).toMatchObject({ code: 'auth_failed' });
    const reset = await failure(resetCard(onReader(card), { uid: UID, ...SITE }));
    expect(reset.step).toBe('find which keys the card holds');
    expect(card.state()).toEqual(before);
    expect(card.state().keys).toEqual(ourKeys(OTHER_MASTER));
  });

  it('refuses what is not an NTAG 424 DNA at the first step', async () => {
    const desfire: Transmit = async () => hex('6A82');
    const err = await failure(personalise(desfire, options()));
    expect(err.step).toBe('select the NTAG 424 DNA application');
    expect(err.cause).toBeInstanceOf(Ntag424Error);
    expect(err.message).toMatch(/not an NTAG 424 DNA.*6A82/);
  });

  it('refuses a UID that is not 7 bytes before talking to the card', async () => {
    await expect(personalise(async () => hex('9000'), options({ uid: '04A2B3C4' }))).rejects.toThrow(/7 bytes/);
  });
});

/** The card, behind a reader that stops after `n` APDUs: the n+1th is lost on the way in, or its answer on the way back. */
function pulledAway(card: SoftNtag424, n: number, lost: 'command' | 'answer'): Transmit {
  let sent = 0;
  return async (apdu) => {
    if (sent++ < n) return card.handle(apdu);
    if (lost === 'answer' && sent === n + 1) card.handle(apdu);
    throw new Error('the card left the field');
  };
}

function counted(card: SoftNtag424): Transmit & { count: () => number } {
  let sent = 0;
  const transmit = async (apdu: Buffer) => (sent++, card.handle(apdu));
  return Object.assign(transmit, { count: () => sent });
}

describe('a card pulled away half-way', () => {
  it('personalise: for every APDU it may stop at, the error names a step and running it again finishes the card', async () => {
    const whole = counted(SoftNtag424.blank(UID));
    await personalise(whole, options());
    for (let n = 0; n < whole.count(); n++) {
      for (const lost of ['command', 'answer'] as const) {
        const card = SoftNtag424.blank(UID);
        const err = await failure(personalise(pulledAway(card, n, lost), options()));
        expect(err.cause).toMatchObject({ code: 'transport' });
        await personalise(onReader(card), options());
        expect(card.state()).toMatchObject({ keys: ourKeys(), keyVersions: [1, 1, 1, 1, 1] });
        expect(await doorChecks(card)).toMatchObject({ authenticate: UID, sun: { ok: true, uid: UID } });
      }
    }
  });

  it('resetCard: for every APDU it may stop at, running it again gives the factory card back', async () => {
    const personalised = async () => {
      const card = SoftNtag424.blank(UID);
      await personalise(onReader(card), options());
      return card;
    };
    const whole = counted(await personalised());
    await resetCard(whole, { uid: UID, ...SITE });
    for (let n = 0; n < whole.count(); n++) {
      for (const lost of ['command', 'answer'] as const) {
        const card = await personalised();
        await failure(resetCard(pulledAway(card, n, lost), { uid: UID, ...SITE }));
        await resetCard(onReader(card), { uid: UID, ...SITE });
        expect(card.state()).toMatchObject(FACTORY_STATE);
      }
    }
  });
});

describe('the software card refuses personalisation it should refuse', () => {
  it('takes no ChangeKey without a session, nor from a session of another key', async () => {
    const card = SoftNtag424.blank(UID);
    expect(upper(card.handle(hex('90C4000029' + '00'.repeat(41) + '00')))).toBe('91AE');
    const s = await authenticateEV2First(onReader(card), ZERO_KEY, 2);
    const err = await changeKey(onReader(card), s, 3, hex(ourKeys()[3]!), { version: 1, oldKey: ZERO_KEY }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'auth_failed', status: 0x919d });
    expect(card.state()).toMatchObject(FACTORY_STATE);
  });

  it('changes no key when the reader gives the wrong old key (the CRC of the new key does not check)', async () => {
    const card = SoftNtag424.blank(UID);
    const s = await authenticateEV2First(onReader(card), ZERO_KEY, 0);
    const err = await changeKey(onReader(card), s, 1, hex(ourKeys()[1]!), {
      version: 1,
      oldKey: Buffer.alloc(16, 1),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0x911e });
    expect(card.state()).toMatchObject(FACTORY_STATE);
  });

  it('takes no plain write to the NDEF file once its write right is key 0, and settings it cannot mirror', async () => {
    const card = SoftNtag424.blank(UID);
    await personalise(onReader(card), options());
    const before = card.state();
    const err = await writeData(onReader(card), undefined, {
      fileNo: 2,
      offset: 0,
      data: Buffer.alloc(2),
      mode: 'plain',
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 0x919d });
    const s = await authenticateEV2First(onReader(card), hex(ourKeys()[0]!), 0);
    const overlapping = sunFileSettings({ piccDataOffset: 40, macOffset: 50 }, 1, 2);
    const refused = await changeFileSettings(onReader(card), s, 2, overlapping).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 0x919e });
    expect(card.state()).toEqual(before);
  });

  it('answers any bytes sent with the personalisation commands with a status word, never an exception', async () => {
    const card = SoftNtag424.blank(UID);
    await authenticateEV2First(onReader(card), ZERO_KEY, 0);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.constantFrom(0xc4, 0x8d, 0x5f, 0xf5), (tail, ins) => {
        const data = Buffer.from(tail);
        const apdu = Buffer.concat([Buffer.from([0x90, ins, 0, 0, data.length]), data, Buffer.from([0])]);
        expect(card.handle(data.length ? apdu : apdu.subarray(0, 5)).length).toBeGreaterThanOrEqual(2);
      }),
      { numRuns: 500 },
    );
  });
});
