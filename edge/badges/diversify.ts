import { aesCmac, aesCmacPadded, BLOCK } from './aes-cmac.js';

/**
 * Per-card keys for NTAG 424 DNA badges, all derived from one site (or network) master key.
 * See docs/badges.md for which key goes in which slot and why.
 */

/** AN10922 MACs exactly 32 bytes: the 0x01 constant and up to 31 bytes of M. */
const AN10922_LENGTH = 32;
const MAX_M = AN10922_LENGTH - 1;

/** Key slots of an NTAG 424 DNA application. */
export const KEY_COUNT = 5;
/**
 * SDM meta read key: encrypts the UID and counter in the SUN message. The same on every card of
 * a site, because the verifier must decrypt PICCData before it knows which card it holds.
 */
export const SDM_META_READ_KEY_NO = 1;
/** What the door uses by default: AuthenticateEV2First, and the SDM file read key (SUN MAC). */
export const DEFAULT_DOOR_KEY_NO = 2;

/** What each key number is for, as `tessera badge keys` explains it. */
export const KEY_ROLES: readonly string[] = [
  'card master key, personalisation only, never on a door',
  'SUN meta read key, the same on every card of the site',
  'door key (secureBadges.keyNo default): AuthenticateEV2First and the SUN MAC',
  'spare',
  'spare',
];

function checkKey(key: Buffer, what: string): void {
  if (key.length !== BLOCK) throw new RangeError(`${what} must be 16 bytes (AES-128), got ${key.length}`);
}

/**
 * AN10922 AES-128 key diversification: CMAC(masterKey, 0x01 ‖ M ‖ padding) with
 * M = UID ‖ AID ‖ SystemIdentifier. The 0x01 separates AES-128 derivation from the AN's other
 * variants; the input is always padded to 32 bytes (80 00.., subkey K2) unless it already is 32
 * (K1), which for short inputs differs from plain RFC 4493.
 */
export function diversifyKey(masterKey: Buffer, uid: Buffer, aid: Buffer, systemIdentifier: Buffer): Buffer {
  checkKey(masterKey, 'the master key');
  const m = Buffer.concat([uid, aid, systemIdentifier]);
  if (m.length < 1 || m.length > MAX_M) {
    throw new RangeError(
      `AN10922 diversification input must be 1 to ${MAX_M} bytes (UID ‖ AID ‖ system identifier), got ${m.length}`,
    );
  }
  return aesCmacPadded(masterKey, Buffer.concat([Buffer.from([0x01]), m]), AN10922_LENGTH);
}

/** NIST SP 800-108 KDF label: names what the derived keys are for, so no other use collides. */
const LABEL = Buffer.from('tessera ntag424 key', 'ascii');

/**
 * The master for one key number: KDF in counter mode (SP 800-108) with CMAC as the PRF,
 * one block: CMAC(master, 01 ‖ label ‖ 00 ‖ keyNo ‖ 0080). Distinct per key number, so
 * holding the key-2 master (a door) gives nothing about key 0 (the card master key).
 */
export function keyNumberMaster(masterKey: Buffer, keyNo: number): Buffer {
  checkKey(masterKey, 'the master key');
  if (!Number.isInteger(keyNo) || keyNo < 0 || keyNo >= KEY_COUNT)
    throw new RangeError(`key number must be 0 to ${KEY_COUNT - 1}, got ${keyNo}`);
  const input = Buffer.concat([Buffer.from([0x01]), LABEL, Buffer.from([0x00, keyNo, 0x00, 0x80])]);
  return aesCmac(masterKey, input);
}

/** The SDM meta read key (key 1): one per site, not per card (see SDM_META_READ_KEY_NO). */
export function sdmMetaReadKey(masterKey: Buffer): Buffer {
  return keyNumberMaster(masterKey, SDM_META_READ_KEY_NO);
}

/** One card's key in slot keyNo: the key-number master diversified by the card (AN10922). */
export function cardKey(masterKey: Buffer, keyNo: number, uid: Buffer, aid: Buffer, systemIdentifier: Buffer): Buffer {
  if (keyNo === SDM_META_READ_KEY_NO) return sdmMetaReadKey(masterKey);
  return diversifyKey(keyNumberMaster(masterKey, keyNo), uid, aid, systemIdentifier);
}

/** All five keys of one card, in slot order: what personalisation writes with ChangeKey. */
export function cardKeys(
  masterKey: Buffer,
  uid: Buffer,
  aid: Buffer,
  systemIdentifier: Buffer,
): { keyNo: number; key: Buffer }[] {
  return Array.from({ length: KEY_COUNT }, (_, keyNo) => ({
    keyNo,
    key: cardKey(masterKey, keyNo, uid, aid, systemIdentifier),
  }));
}
