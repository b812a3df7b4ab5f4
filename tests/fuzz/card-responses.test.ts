import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ntag424Error, parseCommandApdu, type Transmit } from '../../edge/badges/apdu.js';
import { cardKeys } from '../../edge/badges/diversify.js';
import { doorKeysFrom } from '../../edge/badges/door-keys.js';
import { authenticateEV2First, getCardUid } from '../../edge/badges/ev2.js';
import { findUri, uriMessage } from '../../edge/badges/ndef.js';
import {
  encodeFileSettings,
  encodeFileSettingsAnswer,
  parseFileSettings,
  parseFileSettingsAnswer,
} from '../../edge/badges/personalise-commands.js';
import { personalise, PersonaliseError } from '../../edge/badges/personalise.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { parseSunUrl, readSunMessage, verifySun } from '../../edge/badges/sun.js';
import { feedbackAccepted, isIso14443_4, statusWord } from '../../edge/hardware/pcsc-apdu.js';
import { ISO14443_4_ATR } from '../../edge/hardware/sim-reader.js';
import { createNtag424Verifier } from '../../edge/site/secure-badges.js';
import { SiteConfig } from '../../firmware-config/schema.js';
import { BASE_CONFIG } from '../harness/site.js';
import { byteDamage, damage, must, same } from './kit.js';
import { fuzz, inputs } from '../support/fuzz.js';
import { silent } from '../support/logger.js';

const MASTER = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
const UID = '04DE5F1EACC040';
const DOOR = doorKeysFrom(MASTER);
const keys = cardKeys(
  MASTER,
  Buffer.from(UID, 'hex'),
  Buffer.from('3042F5', 'hex'),
  Buffer.from('Tessera', 'utf8'),
).map((k) => k.key);
const genuineCard = () => new SoftNtag424({ uid: UID, keys, url: 'https://badge.example/t' });
const CODES = ['auth_failed', 'bad_response', 'transport'];
const N = {
  ev2: inputs(50_000),
  sunRead: inputs(50_000),
  verifier: inputs(50_000),
  ndef: inputs(100_000),
  sun: inputs(100_000),
  apdu: inputs(100_000),
  personalise: inputs(300, { full: 5_000 }),
  fileSettings: inputs(100_000),
};

/** What a reader (or a card, or an emulator in between) may do to each response: pass it, damage it, or answer anything. */
type Meddling =
  | { op: 'pass' }
  | { op: 'damage'; d: { op: 'flip' | 'cut' | 'insert' | 'drop'; at: number; byte: number } }
  | { op: 'answer'; bytes: Buffer }
  | { op: 'fail' };
const meddling: fc.Arbitrary<Meddling> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ op: 'pass' } as const) },
  { weight: 3, arbitrary: byteDamage.map((d) => ({ op: 'damage', d }) as const) },
  {
    weight: 2,
    arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => ({ op: 'answer', bytes: Buffer.from(b) }) as const),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      { op: 'answer', bytes: Buffer.from([0x90, 0x00]) } as const,
      { op: 'answer', bytes: Buffer.from([0x91, 0xaf]) } as const,
      { op: 'fail' } as const,
    ),
  },
);
const plan = fc.array(meddling, { minLength: 1, maxLength: 8 });

/**
 * A genuine card behind a reader that meddles with its answers, one plan step per exchange.
 * `changed[i]`: the answer to exchange i was not the card's.
 */
function meddled(
  steps: Meddling[],
  card = genuineCard(),
): { transmit: Transmit; changed: boolean[]; meddled: () => boolean } {
  const changed: boolean[] = [];
  const transmit: Transmit = (apdu) => {
    const step = steps[changed.length] ?? { op: 'pass' };
    const answer = card.handle(apdu);
    if (step.op === 'fail') {
      changed.push(true);
      return Promise.reject(new Error('the card left the field'));
    }
    const out = step.op === 'pass' ? answer : step.op === 'damage' ? damage(answer, step.d) : step.bytes;
    changed.push(!out.equals(answer));
    return Promise.resolve(out);
  };
  return { transmit, changed, meddled: () => changed.some(Boolean) };
}

async function settles<T>(work: Promise<T>): Promise<{ value?: T; error?: Ntag424Error }> {
  try {
    return { value: await work };
  } catch (err) {
    if (!(err instanceof Ntag424Error)) throw err;
    must(CODES.includes(err.code), `Ntag424Error ${err.code}`);
    return { error: err };
  }
}

describe('fuzz: card responses at the door (edge/badges, edge/hardware/pcsc-apdu.ts)', () => {
  it(`personalise over a meddling reader: done or a PersonaliseError naming a step, and the card is never bricked (${N.personalise} inputs)`, async () => {
    const site = { masterKey: MASTER, aid: Buffer.from('3042F5', 'hex'), systemIdentifier: Buffer.from('Tessera') };
    const opts = { uid: UID, ...site, url: 'https://badge.example/t' };
    const longPlan = fc.array(fc.oneof({ weight: 8, arbitrary: fc.constant({ op: 'pass' } as const) }, meddling), {
      maxLength: 60,
    });
    await fuzz(
      fc.asyncProperty(longPlan, async (steps) => {
        const card = SoftNtag424.blank(UID);
        const link = meddled(steps, card);
        try {
          await personalise(link.transmit, opts);
        } catch (err) {
          must(err instanceof PersonaliseError && err.step.length > 0, `personalise threw ${String(err)}`);
        }
        // Whatever the reader did, an honest reader then finishes the card: no key was lost.
        await personalise(async (apdu) => card.handle(apdu), opts);
        same(
          card.state().keys,
          keys.map((k) => k.toString('hex').toUpperCase()),
          'the card has not our keys',
        );
      }),
      N.personalise,
    );
  });

  it(`ChangeFileSettings data and GetFileSettings answers: settings that encode back to the same bytes, or nothing (${N.fileSettings} inputs)`, () => {
    const valids: Buffer[] = [
      '4000E0C1FF12200000430000430000',
      '0040EEEE000100D1FE001F00004400004400002000006A0000',
    ].map((h) => Buffer.from(h, 'hex'));
    const input = fc.oneof(
      fc
        .tuple(fc.constantFrom(...valids), fc.array(byteDamage, { minLength: 1, maxLength: 3 }))
        .map(([valid, ds]) => ds.reduce((b, d) => damage(b, d), valid)),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    );
    fuzz(
      fc.property(input, (bytes) => {
        const settings = parseFileSettings(bytes);
        const answer = parseFileSettingsAnswer(bytes);
        must(
          !answer || encodeFileSettingsAnswer(answer.settings, answer.size).equals(bytes),
          'parsed GetFileSettings answer does not encode back to its bytes',
        );
        must(
          !settings || encodeFileSettings(settings).equals(bytes),
          'parsed settings do not encode back to their bytes',
        );
      }),
      N.fileSettings,
    );
  });

  it(`AuthenticateEV2First and GetCardUID: a proof, or an Ntag424Error with a code; a meddled answer proves nothing (${N.ev2} inputs)`, async () => {
    await fuzz(
      fc.asyncProperty(plan, async (steps) => {
        const link = meddled(steps);
        const r = await settles(
          (async () => getCardUid(link.transmit, await authenticateEV2First(link.transmit, keys[2]!, 2)))(),
        );
        must(r.value === undefined || r.value === UID, `GetCardUID answered ${r.value}`);
        must(link.meddled() || r.value === UID, 'the genuine card, untouched, did not prove itself');
        // AuthenticateEV2First's two answers and GetCardUID's: had one been changed, nothing would be proven.
        must(
          r.value === undefined || link.changed.slice(1, 4).every((c) => !c),
          'a changed answer still proved the card',
        );
      }),
      N.ev2,
    );
  });

  it(`reading the SUN message over APDUs: a message, nothing, or a transport error (${N.sunRead} inputs)`, async () => {
    await fuzz(
      fc.asyncProperty(plan, async (steps) => {
        const link = meddled(steps);
        const r = await settles(readSunMessage(link.transmit));
        must(!r.error || r.error.code === 'transport', () => `reading the SUN message failed with ${r.error?.code}`);
        must(!r.value || (r.value.e.length === 16 && r.value.c.length === 8), 'a SUN message of the wrong lengths');
        must(link.meddled() || r.value !== undefined, 'the genuine card, untouched, gave no SUN message');
      }),
      N.sunRead,
    );
  });

  it(`the door verifier never throws: genuine only for the card as it answered, for both checks (${N.verifier} inputs)`, async () => {
    const verifiers = (['authenticate', 'sun'] as const).map((check) =>
      createNtag424Verifier(
        SiteConfig.parse({ ...BASE_CONFIG, secureBadges: { doorKeyFile: '/unused', check } }).secureBadges!,
        DOOR,
        silent,
      ),
    );
    await fuzz(
      fc.asyncProperty(fc.nat({ max: 1 }), plan, async (which, steps) => {
        const link = meddled(steps);
        const proof = await verifiers[which]!.verify(
          { reader: 'ACR122U 00', uid: UID, atr: ISO14443_4_ATR, transmit: link.transmit },
          UID,
        );
        must(proof.check === 'genuine' || proof.check === 'not_genuine', `check ${proof.check}`);
        must(link.meddled() || proof.check === 'genuine', 'the genuine card, untouched, was not genuine');
        // AuthenticateEV2First's two answers and GetCardUID's are what prove the card: none may have been changed.
        if (which === 0 && proof.check === 'genuine')
          same(link.changed.slice(1, 4), [false, false, false], 'answers changed on the way');
      }),
      N.verifier,
    );
  });

  const url = 'https://badge.example/t?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086';
  it(`NDEF messages: the URI of the first whole URI record, or nothing; never a throw (${N.ndef} inputs)`, () => {
    const valids = [
      uriMessage(url),
      uriMessage('badge.example/x'),
      Buffer.concat([Buffer.from([0x11, 1, 1, 0x54, 0]), uriMessage(url)]),
    ];
    const input = fc.oneof(
      fc
        .tuple(fc.constantFrom(...valids), fc.array(byteDamage, { minLength: 1, maxLength: 4 }))
        .map(([m, ds]) => ds.reduce((b, d) => damage(b, d), m)),
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    );
    fuzz(
      fc.property(input, (message) => {
        const uri = findUri(message);
        must(uri === undefined || typeof uri === 'string', 'findUri gave something else than a string');
      }),
      N.ndef,
    );
  });

  it(`SUN URLs and messages: e and c of the right lengths or nothing; a forged or damaged message never verifies (${N.sun} inputs)`, () => {
    const card = genuineCard();
    const genuine = parseSunUrl(url)!;
    const text = fc.oneof(
      fc.tuple(fc.constant(url), byteDamage).map(([u, d]) => damage(u, d).toString('latin1')),
      fc.string({ maxLength: 120 }),
      fc.constantFrom(
        '?e=&c=',
        '?c=94EED9EE65337086&e=EF963FF7828658A599F3041510671E88#x',
        `?e=${'A'.repeat(32)}&e=${'B'.repeat(32)}&c=${'C'.repeat(16)}`,
      ),
    );
    fuzz(
      fc.property(text, fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 10 }), (u, e, c) => {
        const parsed = parseSunUrl(u);
        must(!parsed || (parsed.e.length === 16 && parsed.c.length === 8), 'e or c of the wrong length');
        const r = verifySun({
          encPiccData: Buffer.from(e),
          cmac: Buffer.from(c),
          metaReadKey: DOOR.metaReadKey,
          fileReadKey: () => keys[2]!,
        });
        must(r.ok === false && ['malformed', 'bad_cmac'].includes(r.reason), 'random bytes verified as a SUN message');
        if (parsed && !(parsed.e.equals(genuine.e) && parsed.c.equals(genuine.c))) {
          must(
            !verifySun({
              encPiccData: parsed.e,
              cmac: parsed.c,
              metaReadKey: DOOR.metaReadKey,
              fileReadKey: () => keys[2]!,
            }).ok,
            'a damaged SUN message verified',
          );
        }
      }),
      N.sun,
    );
    expect(card.uid).toBe(UID);
  });

  it(`command APDUs at the software card, and the reader answers the PC/SC adapter reads: parsed consistently or refused (${N.apdu} inputs)`, () => {
    const card = genuineCard();
    fuzz(
      fc.property(
        fc.uint8Array({ maxLength: 270 }).map((a) => Buffer.from(a)),
        (bytes) => {
          const command = parseCommandApdu(bytes);
          must(
            !command ||
              4 + (command.data.length > 0 ? 1 + command.data.length : 0) + (command.le === undefined ? 0 : 1) ===
                bytes.length,
            'the APDU parsed does not add up to its bytes',
          );
          must(statusWord(card.handle(bytes)) !== undefined, 'the card answered without a status word');
          must(
            typeof feedbackAccepted(bytes) === 'boolean' && typeof isIso14443_4(bytes) === 'boolean',
            'the PC/SC adapter reads',
          );
        },
      ),
      N.apdu,
    );
  });
});
