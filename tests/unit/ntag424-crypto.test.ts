import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aesCmac, cmacSubkeys, truncateMac } from '../../edge/badges/aes-cmac.js';
import type { Response } from '../../edge/badges/apdu.js';
import { Ntag424Error } from '../../edge/badges/apdu.js';
import { cardKeys, diversifyKey, keyNumberMaster, SDM_META_READ_KEY_NO } from '../../edge/badges/diversify.js';
import { authenticateEV2First, fullModeCommand, fullModeResponse } from '../../edge/badges/ev2.js';
import type { Ev2Session } from '../../edge/badges/secure-messaging.js';
import { secureMac } from '../../edge/badges/secure-messaging.js';
import { parseSunUrl, sdmSessionMacKey, verifySun } from '../../edge/badges/sun.js';
import { hex, scripted, upper } from './ntag424-fixtures.js';

const ZERO_KEY = Buffer.alloc(16);

/** Flips one bit of a copy. */
function flip(bytes: Buffer, bit: number): Buffer {
  const out = Buffer.from(bytes);
  out[bit >> 3] = out[bit >> 3]! ^ (0x80 >> (bit & 7));
  return out;
}

describe('AES-CMAC, RFC 4493 test vectors', () => {
  const key = hex('2B7E151628AED2A6ABF7158809CF4F3C');
  const message = hex(`6BC1BEE22E409F96E93D7E117393172A AE2D8A571E03AC9C9EB76FAC45AF8E51
                       30C81C46A35CE411E5FBC1191A0A52EF F69F2445DF4F9B17AD2B417BE66C3710`);

  it('derives the subkeys K1 and K2 of section 4', () => {
    const { k1, k2 } = cmacSubkeys(key);
    expect(upper(k1)).toBe('FBEED618357133667C85E08F7236A8DE');
    expect(upper(k2)).toBe('F7DDAC306AE266CCF90BC11EE46D513B');
  });

  it.each([
    [0, 'BB1D6929E95937287FA37D129B756746'],
    [16, '070A16B46B4D4144F79BDD9DD04A287C'],
    [40, 'DFA66747DE9AE63030CA32611497C827'],
    [64, '51F0BEBF7E3B9D92FC49741779363CFE'],
  ])('MACs the first %i bytes of the example message', (length, mac) => {
    expect(upper(aesCmac(key, message.subarray(0, length)))).toBe(mac);
  });

  it('stays 16 bytes whatever the message', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 300 }), (k, m) => {
        expect(aesCmac(Buffer.from(k), Buffer.from(m))).toHaveLength(16);
      }),
    );
  });

  it('refuses a key that is not AES-128 instead of guessing', () => {
    expect(() => aesCmac(Buffer.alloc(15), Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('key diversification, AN10922 AES-128', () => {
  const master = hex('00112233445566778899AABBCCDDEEFF');
  const aid = hex('3042F5');
  const nxpAbu = hex('4E585020416275');

  it('reproduces the worked example of the application note', () => {
    expect(upper(diversifyKey(master, hex('04782E21801D80'), aid, nxpAbu))).toBe('A8DD63A3B89D54B37CA802473FDA9175');
  });

  it('is CMAC(0x01 ‖ M) when that is 17 to 32 bytes, and pads short inputs to 32 bytes, unlike plain CMAC', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 31 }), (m) => {
        const input = Buffer.concat([Buffer.from([0x01]), Buffer.from(m)]);
        const same = diversifyKey(master, Buffer.from(m), Buffer.alloc(0), Buffer.alloc(0)).equals(
          aesCmac(master, input),
        );
        expect(same).toBe(input.length > 16);
      }),
    );
  });

  it('gives every UID its own key', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 7, maxLength: 7 }),
        fc.uint8Array({ minLength: 7, maxLength: 7 }),
        (a, b) => {
          fc.pre(!Buffer.from(a).equals(Buffer.from(b)));
          expect(
            diversifyKey(master, Buffer.from(a), aid, nxpAbu).equals(diversifyKey(master, Buffer.from(b), aid, nxpAbu)),
          ).toBe(false);
        },
      ),
    );
  });

  it('refuses an input longer than the 31 bytes AN10922 allows', () => {
    expect(() => diversifyKey(master, hex('04782E21801D80'), aid, Buffer.alloc(22))).toThrow(RangeError);
  });
});

describe('the five keys of a card (our scheme, docs/badges.md)', () => {
  const master = hex('00112233445566778899AABBCCDDEEFF');
  const aid = hex('3042F5');
  const system = Buffer.from('Tessera');

  it('derives each key number from its own master, so a door holding one learns nothing of key 0', () => {
    // Cross-checked with `openssl mac -cipher AES-128-CBC CMAC` over 01 ‖ "tessera ntag424 key" ‖ 00 ‖ 02 ‖ 0080.
    expect(upper(keyNumberMaster(master, 2))).toBe('AAF30CF14C82C172BF88D434D5FE64C5');
  });

  it('pins the keys of one card (regression: changing them strands every personalised badge)', () => {
    const keys = cardKeys(master, hex('04DE5F1EACC040'), aid, system).map((k) => `${k.keyNo}:${upper(k.key)}`);
    expect(keys).toEqual([
      '0:EBAC945C3C1D5FF5C7C3D5A8DC167C62',
      '1:CED266C21B013C74C366308E7E8F493D',
      '2:1F32D2ADC7565FDABBAAB14DE74F664F',
      '3:1F1E64213C07F6DCBE702C3FCA461A0A',
      '4:1FE1A553FA5640578FAF70815BF70669',
    ]);
  });

  it('keeps the SUN meta read key the same on every card and every other key per card', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 7, maxLength: 7 }),
        fc.uint8Array({ minLength: 7, maxLength: 7 }),
        (a, b) => {
          fc.pre(!Buffer.from(a).equals(Buffer.from(b)));
          const ka = cardKeys(master, Buffer.from(a), aid, system);
          const kb = cardKeys(master, Buffer.from(b), aid, system);
          for (let n = 0; n < 5; n++) expect(ka[n]!.key.equals(kb[n]!.key)).toBe(n === SDM_META_READ_KEY_NO);
          expect(new Set(ka.map((k) => upper(k.key))).size).toBe(5);
        },
      ),
    );
  });
});

describe('SUN message verification, AN12196 example with all-zero keys', () => {
  const e = hex('EF963FF7828658A599F3041510671E88');
  const c = hex('94EED9EE65337086');
  const verify = (encPiccData: Buffer, cmac: Buffer) =>
    verifySun({ encPiccData, cmac, metaReadKey: ZERO_KEY, fileReadKey: () => ZERO_KEY });

  it('decrypts UID 04DE5F1EACC040 and counter 61 and accepts the MAC', () => {
    expect(verify(e, c)).toEqual({ ok: true, uid: '04DE5F1EACC040', counter: 61 });
  });

  it('derives the published session MAC key and full MAC on the way', () => {
    const key = sdmSessionMacKey(ZERO_KEY, hex('04DE5F1EACC040'), 61);
    expect(upper(key)).toBe('3FB5F6E3A807A03D5E3570ACE393776F');
    expect(upper(aesCmac(key, Buffer.alloc(0)))).toBe('E194C7EE12D9F7EE8A65C8331B704386');
    expect(upper(truncateMac(aesCmac(key, Buffer.alloc(0))))).toBe('94EED9EE65337086');
  });

  it('asks for the file read key of the UID it decrypted', () => {
    const asked: string[] = [];
    verifySun({
      encPiccData: e,
      cmac: c,
      metaReadKey: ZERO_KEY,
      fileReadKey: (uid) => (asked.push(upper(uid)), ZERO_KEY),
    });
    expect(asked).toEqual(['04DE5F1EACC040']);
  });

  it('refuses the message when any one bit of c is flipped', () => {
    for (let bit = 0; bit < 64; bit++) expect(verify(e, flip(c, bit))).toEqual({ ok: false, reason: 'bad_cmac' });
  });

  it('refuses the message when any one bit of e is flipped', () => {
    for (let bit = 0; bit < 128; bit++) expect(verify(flip(e, bit), c).ok).toBe(false);
  });

  it('refuses it under another file read key', () => {
    expect(
      verifySun({ encPiccData: e, cmac: c, metaReadKey: ZERO_KEY, fileReadKey: () => Buffer.alloc(16, 1) }),
    ).toEqual({ ok: false, reason: 'bad_cmac' });
  });

  it('calls e or c of the wrong length malformed', () => {
    expect(verify(e.subarray(1), c)).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(e, Buffer.concat([c, Buffer.from([0])]))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('never throws on whatever a card or a URL hands it, and never accepts a random one', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.uint8Array({ maxLength: 40 }),
        (pe, pc, input) => {
          const result = verifySun({
            encPiccData: Buffer.from(pe),
            cmac: Buffer.from(pc),
            metaReadKey: ZERO_KEY,
            fileReadKey: () => ZERO_KEY,
            macInput: Buffer.from(input),
          });
          expect(result.ok).toBe(false);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads e and c out of the example URL', () => {
    expect(parseSunUrl('https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086')).toEqual({
      e,
      c,
    });
    expect(
      parseSunUrl('https://ntag.nxp.com/424?c=94eed9ee65337086&x=1&e=ef963ff7828658a599f3041510671e88#top'),
    ).toEqual({ e, c });
  });

  it.each([
    'https://ntag.nxp.com/424',
    'https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88',
    'https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E8&c=94EED9EE65337086',
    'https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E8Z&c=94EED9EE65337086',
  ])('finds no SUN message in %s', (url) => {
    expect(parseSunUrl(url)).toBeUndefined();
  });

  it('never throws parsing a URL', () => {
    fc.assert(fc.property(fc.string(), (url) => void parseSunUrl(url)));
  });
});

describe('EV2 secure messaging, AN12196 worked examples', () => {
  const rndA = hex('13C5DB8A5930439FC3DEF9A4C675360F');
  const sessionKeys = {
    encKey: hex('1309C877509E5A215007FF0ED19CA564'),
    macKey: hex('4C6626F5E72EA694202139295C7A7FC7'),
  };

  it('AuthenticateEV2First with key 0: the same APDUs, TI and session keys as the application note', async () => {
    const card = scripted([
      ['00A4040007D276000085010100', '9000'],
      ['9071000002000000', 'A04C124213C186F22399D33AC2A30215 91AF'],
      [
        '90AF000020 35C3E05A752E0144BAC0DE51C1F22C56B34408A23D8AEA266CAB947EA8E0118D 00',
        '3FA64DB5446D1F34CD6EA311167F5E4985B89690C04A05F17FA7AB2F08120663 9100',
      ],
    ]);
    const session = await authenticateEV2First(card, ZERO_KEY, 0, () => Buffer.from(rndA));
    expect(card.remaining()).toBe(0);
    expect({
      ti: upper(session.ti),
      enc: upper(session.encKey),
      mac: upper(session.macKey),
      ctr: session.cmdCtr,
    }).toEqual({
      ti: '9D00C4DF',
      enc: '1309C877509E5A215007FF0ED19CA564',
      mac: '4C6626F5E72EA694202139295C7A7FC7',
      ctr: 0,
    });
  });

  it('refuses the same exchange when the card does not return our RndA rotated', async () => {
    const card = scripted([
      ['00A4040007D276000085010100', '9000'],
      ['9071000002000000', 'A04C124213C186F22399D33AC2A30215 91AF'],
      [
        '90AF000020 35C3E05A752E0144BAC0DE51C1F22C56B34408A23D8AEA266CAB947EA8E0118D 00',
        '3FA64DB5446D1F34CD6EA311167F5E4985B89690C04A05F17FA7AB2F08120664 9100',
      ],
    ]);
    const failure = await authenticateEV2First(card, ZERO_KEY, 0, () => Buffer.from(rndA)).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(Ntag424Error);
    expect((failure as Ntag424Error).code).toBe('auth_failed');
  });

  it('MACs a command as the CommMode.MAC example (GetFileSettings of file 02)', () => {
    const session: Ev2Session = {
      keyNo: 0,
      ti: hex('7A21085E'),
      encKey: ZERO_KEY,
      macKey: hex('8248134A386E86EB7FAF54A52E536CB6'),
      cmdCtr: 0,
    };
    expect(upper(secureMac(session, 0xf5, 0, hex('02')))).toBe('6597A457C8CD442C');
  });

  it('encrypts and MACs a CommMode.Full command and checks its answer as the ChangeFileSettings example', () => {
    const session: Ev2Session = { keyNo: 0, ti: hex('9D00C4DF'), ...sessionKeys, cmdCtr: 1 };
    const apdu = fullModeCommand(session, 0x5f, hex('02'), hex('4000E0C1F121200000430000430000'));
    expect(upper(apdu)).toBe('905F0000190261B6D97903566E84C3AE5274467E89EAD799B7C1A0EF7A0400');
    const answer: Response = { data: hex('57BFF87B1241E93D'), status: 0x9100 };
    expect(fullModeResponse(session, answer, 'ChangeFileSettings')).toHaveLength(0);
    expect(session.cmdCtr).toBe(2);
  });

  it('refuses that answer with one bit of its MAC flipped', () => {
    const session: Ev2Session = { keyNo: 0, ti: hex('9D00C4DF'), ...sessionKeys, cmdCtr: 1 };
    const answer: Response = { data: flip(hex('57BFF87B1241E93D'), 5), status: 0x9100 };
    expect(() => fullModeResponse(session, answer, 'ChangeFileSettings')).toThrow(
      expect.objectContaining({ code: 'bad_response' }),
    );
  });
});
