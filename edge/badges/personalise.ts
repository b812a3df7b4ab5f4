import { randomBytes } from 'node:crypto';
import { BLOCK } from './aes-cmac.js';
import type { Transmit } from './apdu.js';
import { Ntag424Error } from './apdu.js';
import { cardKey, DEFAULT_DOOR_KEY_NO, KEY_COUNT, SDM_META_READ_KEY_NO, sdmMetaReadKey } from './diversify.js';
import { authenticateEV2First, getCardUid, selectApplication } from './ev2.js';
import {
  changeFileSettings,
  changeKey,
  FACTORY_NDEF_SETTINGS,
  getFileSettings,
  NDEF_FILE_NO,
  sunFileSettings,
  sunNdefTemplate,
  writeData,
  writeMode,
} from './personalise-commands.js';
import type { Ev2Session } from './secure-messaging.js';
import { readSunMessage, verifySun } from './sun.js';

/**
 * Personalising an NTAG 424 DNA for a site, and undoing it (docs/badges.md, "Personalising a
 * card"). Both are sequences of steps over the reader's APDU transport, each reported as it
 * ends. Both are resumable: they start by finding out, slot by slot, whether each key is the
 * factory one or ours, so a card pulled away half-way is finished by running them again, and a
 * card whose keys are neither is left untouched.
 */

export interface PersonaliseOptions {
  /** The 7-byte UID the reader reported, in hex: the keys are diversified from it. */
  uid: string;
  /** The site master key (16 bytes). */
  masterKey: Buffer;
  /** AN10922 diversification inputs, as the doors' secureBadges block has them. */
  aid: Buffer;
  systemIdentifier: Buffer;
  /** The URL the badge opens; `?e=..&c=..` (or `&e=..`) is appended. */
  url: string;
  /** The door's key number (default 2): the SDM file read key, checked at the end. */
  doorKeyNo?: number;
  /** Key version given to our keys (default 1; factory keys are version 0). */
  keyVersion?: number;
  /** Told each step when it is done: one line per step for a CLI. */
  onStep?: (step: string) => void;
  random?: (n: number) => Buffer;
}

/** A step of personalise or resetCard that failed: `step` names it, `cause` is the card error. */
export class PersonaliseError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`${step}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'PersonaliseError';
  }
}

/** The first step of personalise and resetCard: what fails here is not an NTAG 424 DNA (or not on the reader). */
export const SELECT_STEP = 'select the NTAG 424 DNA application';

type KeyState = 'factory' | 'ours';
const ZERO_KEY = Buffer.alloc(BLOCK);

async function step<T>(name: string, onStep: ((step: string) => void) | undefined, run: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (err) {
    throw new PersonaliseError(name, err);
  }
  onStep?.(name);
  return result;
}

function checkUid(uid: string): Buffer {
  const clean = uid.replace(/[\s:]/g, '');
  if (!/^[0-9A-Fa-f]{14}$/.test(clean))
    throw new RangeError(`an NTAG 424 UID is 7 bytes of hex, got ${JSON.stringify(uid)}`);
  return Buffer.from(clean, 'hex');
}

/** True when the card accepts `key` in `keyNo`; false when it refuses it; throws on anything else. */
async function holdsKey(
  transmit: Transmit,
  keyNo: number,
  key: Buffer,
  random: (n: number) => Buffer,
): Promise<boolean> {
  try {
    await authenticateEV2First(transmit, key, keyNo, random);
    return true;
  } catch (err) {
    if (err instanceof Ntag424Error && err.code === 'auth_failed') return false;
    throw err;
  }
}

/**
 * Which of its keys a card holds: the factory one or ours, per slot. A slot with neither is a
 * card of another site or master key (or a key we did not write): nothing may be changed.
 */
async function probeKeys(transmit: Transmit, ours: Buffer[], random: (n: number) => Buffer): Promise<KeyState[]> {
  const states: KeyState[] = [];
  for (let keyNo = 0; keyNo < KEY_COUNT; keyNo++) {
    if (await holdsKey(transmit, keyNo, ours[keyNo]!, random)) states.push('ours');
    else if (await holdsKey(transmit, keyNo, ZERO_KEY, random)) states.push('factory');
    else
      throw new Ntag424Error(
        'auth_failed',
        `key ${keyNo} is neither the factory key nor the one this master key gives: a card of another site or master key; nothing was changed`,
      );
  }
  return states;
}

function keysOf(opts: Pick<PersonaliseOptions, 'masterKey' | 'aid' | 'systemIdentifier'>, uid: Buffer): Buffer[] {
  return Array.from({ length: KEY_COUNT }, (_, keyNo) =>
    cardKey(opts.masterKey, keyNo, uid, opts.aid, opts.systemIdentifier),
  );
}

/** Changes every key not yet in its target state, key 0 last (which ends the session). */
async function moveKeys(
  transmit: Transmit,
  states: KeyState[],
  target: KeyState,
  ours: Buffer[],
  version: number,
  onStep: ((step: string) => void) | undefined,
  random: (n: number) => Buffer,
): Promise<void> {
  const keyOf = (state: KeyState, keyNo: number) => (state === 'ours' ? ours[keyNo]! : ZERO_KEY);
  const session = await step('authenticate with key 0', onStep, () =>
    authenticateEV2First(transmit, keyOf(states[0]!, 0), 0, random),
  );
  for (let keyNo = 1; keyNo < KEY_COUNT; keyNo++) {
    if (states[keyNo] === target) continue;
    await step(`change key ${keyNo}`, onStep, () =>
      changeKey(transmit, session, keyNo, keyOf(target, keyNo), { version, oldKey: keyOf(states[keyNo]!, keyNo) }),
    );
  }
  if (states[0] !== target)
    await step('change key 0', onStep, () => changeKey(transmit, session, 0, keyOf(target, 0), { version }));
}

/**
 * Personalises a card: checks it is an NTAG 424 DNA, finds which keys it holds, writes keys
 * 1 to 4 then key 0, the NDEF file with SUN placeholders and the SDM file settings, then checks
 * it as a door would (AuthenticateEV2First with the door key and GetCardUID, and a SUN read).
 * A card personalised half-way is finished; one of another master key is left as it is.
 */
export async function personalise(transmit: Transmit, opts: PersonaliseOptions): Promise<void> {
  const uid = checkUid(opts.uid);
  const random = opts.random ?? randomBytes;
  const doorKeyNo = opts.doorKeyNo ?? DEFAULT_DOOR_KEY_NO;
  if (doorKeyNo === 0 || doorKeyNo === SDM_META_READ_KEY_NO || !Number.isInteger(doorKeyNo) || doorKeyNo > 4)
    throw new RangeError(`the door key number must be 2, 3 or 4, got ${doorKeyNo}`);
  const template = sunNdefTemplate(opts.url);
  const ours = keysOf(opts, uid);
  const onStep = opts.onStep;

  await step(SELECT_STEP, onStep, () => selectApplication(transmit));
  const states = await step('find which keys the card holds', onStep, () => probeKeys(transmit, ours, random));
  if (states.some((state) => state !== 'ours'))
    await moveKeys(transmit, states, 'ours', ours, opts.keyVersion ?? 1, onStep, random);
  const session = await step('authenticate with our key 0', onStep, () =>
    authenticateEV2First(transmit, ours[0]!, 0, random),
  );
  const current = await step('read the NDEF file settings', onStep, () =>
    getFileSettings(transmit, session, NDEF_FILE_NO),
  );
  await step('write the NDEF file', onStep, () =>
    writeData(transmit, session, {
      fileNo: NDEF_FILE_NO,
      offset: 0,
      data: template.file,
      mode: writeMode(current.settings),
    }),
  );
  await step('set the SDM file settings', onStep, () =>
    changeFileSettings(transmit, session, NDEF_FILE_NO, sunFileSettings(template, SDM_META_READ_KEY_NO, doorKeyNo)),
  );
  await step('check as a door: authenticate with the door key', onStep, async () => {
    const door = await authenticateEV2First(transmit, ours[doorKeyNo]!, doorKeyNo, random);
    const read = await getCardUid(transmit, door);
    if (read !== uid.toString('hex').toUpperCase())
      throw new Ntag424Error('bad_response', `the card says its UID is ${read}, not ${opts.uid}`);
  });
  await step('check as a door: read and verify a SUN message', onStep, async () => {
    const message = await readSunMessage(transmit);
    if (!message) throw new Ntag424Error('bad_response', 'the NDEF file carries no SUN message');
    const result = verifySun({
      encPiccData: message.e,
      cmac: message.c,
      metaReadKey: sdmMetaReadKey(opts.masterKey),
      fileReadKey: (read) => cardKey(opts.masterKey, doorKeyNo, read, opts.aid, opts.systemIdentifier),
    });
    if (!result.ok) throw new Ntag424Error('bad_response', `the SUN message does not verify (${result.reason})`);
    if (result.uid !== uid.toString('hex').toUpperCase())
      throw new Ntag424Error('bad_response', `the SUN message is for UID ${result.uid}, not ${opts.uid}`);
  });
}

export type ResetOptions = Omit<PersonaliseOptions, 'url' | 'doorKeyNo' | 'keyVersion'>;

/**
 * Returns a card of ours to the factory: NDEF file emptied and its settings back to plain and
 * free, then keys 1 to 4 and key 0 back to zero at version 0. Resumable like personalise.
 */
export async function resetCard(transmit: Transmit, opts: ResetOptions): Promise<void> {
  const uid = checkUid(opts.uid);
  const random = opts.random ?? randomBytes;
  const ours = keysOf(opts, uid);
  const onStep = opts.onStep;
  await step(SELECT_STEP, onStep, () => selectApplication(transmit));
  const states = await step('find which keys the card holds', onStep, () => probeKeys(transmit, ours, random));
  const session: Ev2Session = await step('authenticate with key 0', onStep, () =>
    authenticateEV2First(transmit, states[0] === 'ours' ? ours[0]! : ZERO_KEY, 0, random),
  );
  await step('set the factory file settings', onStep, () =>
    changeFileSettings(transmit, session, NDEF_FILE_NO, FACTORY_NDEF_SETTINGS),
  );
  await step('empty the NDEF file', onStep, () =>
    writeData(transmit, session, { fileNo: NDEF_FILE_NO, offset: 0, data: Buffer.alloc(2), mode: 'plain' }),
  );
  if (states.some((s) => s !== 'factory')) await moveKeys(transmit, states, 'factory', ours, 0, onStep, random);
}
