import { randomBytes, timingSafeEqual } from 'node:crypto';
import { aesCbcDecrypt, aesCbcEncrypt, BLOCK } from './aes-cmac.js';
import type { Response, Transmit } from './apdu.js';
import { exchange, hexStatus, nativeApdu, Ntag424Error, SELECT_APPLICATION, SW } from './apdu.js';
import type { Ev2Session } from './secure-messaging.js';
import { decryptResponseData, encryptCommandData, rotateLeft, secureMac, sessionKeys } from './secure-messaging.js';

/**
 * The reader side of AuthenticateEV2First and of CommMode.Full commands (AN12196), which is
 * what lets a door tell a genuine NTAG 424 from a UID emulator: only a card holding the key
 * can answer the challenge, and each answer is fresh.
 */

export type { Ev2Session } from './secure-messaging.js';
export type { Transmit } from './apdu.js';

const INS = { AUTHENTICATE_EV2_FIRST: 0x71, ADDITIONAL_FRAME: 0xaf, GET_CARD_UID: 0x51 } as const;
const MAC_LENGTH = 8;
const UID_LENGTH = 7;

/** A status the card answered instead of the expected one: a refused key or right is auth_failed, the rest bad_response. */
export function refused(what: string, status: number): Ntag424Error {
  const authFailure =
    status === SW.AUTHENTICATION_ERROR || status === SW.NO_SUCH_KEY || status === SW.PERMISSION_DENIED;
  return new Ntag424Error(
    authFailure ? 'auth_failed' : 'bad_response',
    `${what}: the card answered ${hexStatus(status)}`,
    status,
  );
}

function expect(response: Response, what: string, status: number, length: number): Buffer {
  if (response.status !== status) throw refused(what, response.status);
  if (response.data.length !== length)
    throw new Ntag424Error('bad_response', `${what}: expected ${length} bytes, got ${response.data.length}`);
  return response.data;
}

/** Selects the NTAG 424 DNA application; anything else than OK means the card is not one. */
export async function selectApplication(transmit: Transmit): Promise<void> {
  const { status } = await exchange(transmit, SELECT_APPLICATION);
  if (status !== SW.OK)
    throw new Ntag424Error(
      'bad_response',
      `not an NTAG 424 DNA: selecting its application answered ${hexStatus(status)}`,
      status,
    );
}

/**
 * Selects the NTAG 424 application, then runs AuthenticateEV2First with `key` in slot `keyNo`:
 * the card proves it holds the key by returning our RndA rotated, and both ends derive the
 * session keys. `random` is for tests that replay AN12196's worked example.
 */
export async function authenticateEV2First(
  transmit: Transmit,
  key: Buffer,
  keyNo: number,
  random: (n: number) => Buffer = randomBytes,
): Promise<Ev2Session> {
  if (key.length !== BLOCK) throw new RangeError(`the key must be 16 bytes, got ${key.length}`);
  if (!Number.isInteger(keyNo) || keyNo < 0 || keyNo > 4)
    throw new RangeError(`key number must be 0 to 4, got ${keyNo}`);
  await selectApplication(transmit);
  // Part 1: key number and LenCap 00 (no PCDcap2); the card answers E(Kx, RndB).
  const part1 = await exchange(transmit, nativeApdu(INS.AUTHENTICATE_EV2_FIRST, Buffer.from([keyNo, 0x00])));
  const rndB = aesCbcDecrypt(key, expect(part1, 'AuthenticateEV2First part 1', SW.ADDITIONAL_FRAME, BLOCK));
  const rndA = random(BLOCK);
  if (rndA.length !== BLOCK) throw new RangeError('the random source must return the bytes asked for');
  // Part 2: E(Kx, RndA ‖ RndB'); the card answers E(Kx, TI ‖ RndA' ‖ PDcap2 ‖ PCDcap2).
  const part2 = await exchange(
    transmit,
    nativeApdu(INS.ADDITIONAL_FRAME, aesCbcEncrypt(key, Buffer.concat([rndA, rotateLeft(rndB)]))),
  );
  const answer = aesCbcDecrypt(key, expect(part2, 'AuthenticateEV2First part 2', SW.NATIVE_OK, 2 * BLOCK));
  if (!timingSafeEqual(answer.subarray(4, 20), rotateLeft(rndA))) {
    throw new Ntag424Error('auth_failed', 'AuthenticateEV2First: the card did not prove it holds the key');
  }
  return { keyNo, ti: Buffer.from(answer.subarray(0, 4)), ...sessionKeys(key, rndA, rndB), cmdCtr: 0 };
}

/**
 * A CommMode.Full command: header in clear, data encrypted, MACt over
 * Cmd ‖ CmdCtr ‖ TI ‖ header ‖ encrypted data. Exported for AN12196's worked examples.
 */
export function fullModeCommand(session: Ev2Session, ins: number, header: Buffer, data: Buffer): Buffer {
  const encrypted = data.length > 0 ? encryptCommandData(session, data) : Buffer.alloc(0);
  const mac = secureMac(session, ins, session.cmdCtr, header, encrypted);
  return nativeApdu(ins, Buffer.concat([header, encrypted, mac]));
}

/**
 * Checks a CommMode.Full response and returns its plain data. The counter steps first: the card
 * MACs and encrypts its answer under CmdCtr + 1. A session that saw a bad MAC is not to be reused.
 */
export function fullModeResponse(session: Ev2Session, response: Response, what: string): Buffer {
  if (response.status !== SW.NATIVE_OK) throw refused(what, response.status);
  session.cmdCtr = (session.cmdCtr + 1) & 0xffff;
  const { data } = response;
  if (data.length < MAC_LENGTH)
    throw new Ntag424Error('bad_response', `${what}: the answer is too short to carry a MAC`);
  const encrypted = data.subarray(0, data.length - MAC_LENGTH);
  const expected = secureMac(session, 0x00, session.cmdCtr, encrypted);
  if (!timingSafeEqual(expected, data.subarray(data.length - MAC_LENGTH))) {
    throw new Ntag424Error('bad_response', `${what}: the answer's MAC is wrong`);
  }
  if (encrypted.length === 0) return encrypted;
  const plain = decryptResponseData(session, encrypted, session.cmdCtr);
  if (plain === undefined) throw new Ntag424Error('bad_response', `${what}: the answer does not decrypt`);
  return plain;
}

/**
 * GetCardUID in CommMode.Full: the real 7-byte UID, encrypted and MACed by the card, as
 * upper-case hex. The door compares it with the UID it diversified the key from.
 */
export async function getCardUid(transmit: Transmit, session: Ev2Session): Promise<string> {
  const response = await exchange(
    transmit,
    fullModeCommand(session, INS.GET_CARD_UID, Buffer.alloc(0), Buffer.alloc(0)),
  );
  const uid = fullModeResponse(session, response, 'GetCardUID');
  if (uid.length !== UID_LENGTH)
    throw new Ntag424Error('bad_response', `GetCardUID: expected a ${UID_LENGTH}-byte UID, got ${uid.length} bytes`);
  return uid.toString('hex').toUpperCase();
}
