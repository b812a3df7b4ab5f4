import { timingSafeEqual } from 'node:crypto';
import { aesCbcDecrypt, aesCmac, BLOCK, truncateMac } from './aes-cmac.js';
import type { Transmit } from './apdu.js';
import { exchange, readBinaryApdu, SELECT_APPLICATION, SELECT_NDEF_FILE, SW } from './apdu.js';
import { findUri } from './ndef.js';

/**
 * SUN messages (Secure Unique NFC, AN12196 "SDM"): the card's NDEF URL carries `e`, its UID and
 * read counter encrypted with the SDM meta read key, and `c`, a MAC under a session key derived
 * from the SDM file read key, the UID and the counter. Verifying it is offline and cheap, but a
 * message is a bearer token: the caller must refuse a counter it has already seen for the UID.
 */

const PICC_DATA_LENGTH = BLOCK;
const SUN_MAC_LENGTH = 8;
const UID_LENGTH = 7;
/** PICCDataTag: bit 7 UID mirrored, bit 6 SDMReadCtr mirrored, bits 3..0 the UID length. */
export const PICC_DATA_TAG = 0x80 | 0x40 | UID_LENGTH;
const COUNTER_LENGTH = 3;

export interface SunInput {
  /** `e`: PICCData encrypted with the SDM meta read key, 16 bytes. */
  encPiccData: Buffer;
  /** `c`: the truncated SDMMAC, 8 bytes. */
  cmac: Buffer;
  /** The SDM meta read key, the same on every card (it must work before the UID is known). */
  metaReadKey: Buffer;
  /** The SDM file read key of the card with this UID (diversified per card). */
  fileReadKey: (uid: Buffer) => Buffer;
  /** Bytes from SDMMACInputOffset to SDMMACOffset; empty when they are equal, as we personalise cards. */
  macInput?: Buffer;
}

/**
 * `malformed`: `e` or `c` has the wrong length. `bad_cmac`: anything else that does not check out,
 * including PICCData that does not decrypt to a UID-and-counter tag (a forged `e` or another key).
 */
export type SunResult = { ok: true; uid: string; counter: number } | { ok: false; reason: 'malformed' | 'bad_cmac' };

function checkKey(key: Buffer, what: string): void {
  // A key of the wrong size is configuration, never card input: fail loudly, not as a refusal.
  if (key.length !== BLOCK) throw new RangeError(`${what} must be 16 bytes, got ${key.length}`);
}

/** KSesSDMFileReadMAC = CMAC(file read key, SV2), SV2 = 3C C3 00 01 00 80 ‖ UID ‖ SDMReadCtr (LE): 16 bytes, no padding. */
export function sdmSessionMacKey(fileReadKey: Buffer, uid: Buffer, counter: number): Buffer {
  const sv2 = Buffer.concat([Buffer.from([0x3c, 0xc3, 0x00, 0x01, 0x00, 0x80]), uid, counterBytes(counter)]);
  return aesCmac(fileReadKey, sv2);
}

/** The 8-byte SDMMAC a card with this file read key puts in `c`. */
export function sunMac(fileReadKey: Buffer, uid: Buffer, counter: number, macInput: Buffer = Buffer.alloc(0)): Buffer {
  return truncateMac(aesCmac(sdmSessionMacKey(fileReadKey, uid, counter), macInput));
}

export function counterBytes(counter: number): Buffer {
  const out = Buffer.alloc(COUNTER_LENGTH);
  out.writeUIntLE(counter, 0, COUNTER_LENGTH);
  return out;
}

/** PICCData = tag ‖ UID ‖ SDMReadCtr (LE) ‖ random padding; undefined unless the tag says both are mirrored. */
function parsePiccData(plain: Buffer): { uid: Buffer; counter: number } | undefined {
  if (plain.length !== PICC_DATA_LENGTH || (plain[0]! & 0xcf) !== PICC_DATA_TAG) return undefined;
  const uid = plain.subarray(1, 1 + UID_LENGTH);
  return { uid: Buffer.from(uid), counter: plain.readUIntLE(1 + UID_LENGTH, COUNTER_LENGTH) };
}

/** Checks a SUN message. Never throws on card input; returns the counter for the caller's replay check. */
export function verifySun(input: SunInput): SunResult {
  checkKey(input.metaReadKey, 'the SDM meta read key');
  if (input.encPiccData.length !== PICC_DATA_LENGTH || input.cmac.length !== SUN_MAC_LENGTH)
    return { ok: false, reason: 'malformed' };
  const picc = parsePiccData(aesCbcDecrypt(input.metaReadKey, input.encPiccData));
  if (!picc) return { ok: false, reason: 'bad_cmac' };
  const fileReadKey = input.fileReadKey(picc.uid);
  checkKey(fileReadKey, 'the SDM file read key');
  const expected = sunMac(fileReadKey, picc.uid, picc.counter, input.macInput);
  if (!timingSafeEqual(expected, input.cmac)) return { ok: false, reason: 'bad_cmac' };
  return { ok: true, uid: picc.uid.toString('hex').toUpperCase(), counter: picc.counter };
}

function hexParam(params: URLSearchParams, name: string, bytes: number): Buffer | undefined {
  const value = params.get(name);
  if (value === null || !new RegExp(`^[0-9A-Fa-f]{${2 * bytes}}$`).test(value)) return undefined;
  return Buffer.from(value, 'hex');
}

/** `e` (PICCData, 32 hex digits) and `c` (SDMMAC, 16 hex digits) from a SUN URL's query. */
export function parseSunUrl(url: string): { e: Buffer; c: Buffer } | undefined {
  const question = url.indexOf('?');
  if (question < 0) return undefined;
  const query = url.slice(question + 1).split('#')[0]!;
  const params = new URLSearchParams(query);
  const e = hexParam(params, 'e', PICC_DATA_LENGTH);
  const c = hexParam(params, 'c', SUN_MAC_LENGTH);
  return e && c ? { e, c } : undefined;
}

/** A short ReadBinary answer stays within a reader's frame; SUN URLs fit in one. */
const READ_CHUNK = 128;

/** ReadBinary of `length` bytes from `offset` of the selected file; undefined when the card refuses. */
async function readBinary(transmit: Transmit, offset: number, length: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  for (let at = offset; at < offset + length;) {
    const { data, status } = await exchange(transmit, readBinaryApdu(at, Math.min(READ_CHUNK, offset + length - at)));
    if (status !== SW.OK || data.length === 0) return undefined;
    parts.push(data);
    at += data.length;
  }
  return Buffer.concat(parts).subarray(0, length);
}

/**
 * Reads the NDEF URL over PC/SC and returns its SUN message; undefined when the card is not an
 * NTAG 424, has no NDEF URL or the URL carries no SUN message. Reader failures throw
 * Ntag424Error 'transport'.
 */
export async function readSunMessage(transmit: Transmit): Promise<{ e: Buffer; c: Buffer } | undefined> {
  for (const select of [SELECT_APPLICATION, SELECT_NDEF_FILE]) {
    if ((await exchange(transmit, select)).status !== SW.OK) return undefined;
  }
  const nlen = await readBinary(transmit, 0, 2);
  if (!nlen || nlen.length < 2) return undefined;
  const length = nlen.readUInt16BE(0);
  if (length === 0) return undefined;
  const message = await readBinary(transmit, 2, length);
  const url = message && findUri(message);
  return url === undefined ? undefined : parseSunUrl(url);
}
