import { aesCbcDecrypt, aesCbcEncrypt, aesCmac, aesEncryptBlock, BLOCK, truncateMac } from './aes-cmac.js';

/**
 * EV2 secure messaging math of AN12196, shared by the reader (ev2.ts) and the software card:
 * both ends must compute the same bytes, so they compute them in one place.
 */

/** What AuthenticateEV2First leaves both ends with. */
export interface Ev2Session {
  readonly keyNo: number;
  /** Transaction identifier the card chose, 4 bytes. */
  readonly ti: Buffer;
  /** SesAuthENCKey. */
  readonly encKey: Buffer;
  /** SesAuthMACKey. */
  readonly macKey: Buffer;
  /** Command counter: steps once per command-response pair, between command and response. */
  cmdCtr: number;
}

/** Rotates left by one byte: RndA' and RndB' of the authentication. */
export function rotateLeft(bytes: Buffer): Buffer {
  return Buffer.concat([bytes.subarray(1), bytes.subarray(0, 1)]);
}

/**
 * SesAuthENCKey = CMAC(Kx, SV1), SesAuthMACKey = CMAC(Kx, SV2), with
 * SV = label ‖ 00 01 00 80 ‖ RndA[15..14] ‖ (RndA[13..8] ⊕ RndB[15..10]) ‖ RndB[9..0] ‖ RndA[7..0],
 * bytes numbered from the right as AN12196 does (RndA[15] is the first byte).
 */
export function sessionKeys(key: Buffer, rndA: Buffer, rndB: Buffer): { encKey: Buffer; macKey: Buffer } {
  const mixed = Buffer.alloc(6);
  for (let i = 0; i < 6; i++) mixed[i] = rndA[2 + i]! ^ rndB[i]!;
  const tail = Buffer.concat([
    Buffer.from([0x00, 0x01, 0x00, 0x80]),
    rndA.subarray(0, 2),
    mixed,
    rndB.subarray(6, 16),
    rndA.subarray(8, 16),
  ]);
  return {
    encKey: aesCmac(key, Buffer.concat([Buffer.from([0xa5, 0x5a]), tail])),
    macKey: aesCmac(key, Buffer.concat([Buffer.from([0x5a, 0xa5]), tail])),
  };
}

function counterBytes(cmdCtr: number): Buffer {
  const out = Buffer.alloc(2);
  out.writeUInt16LE(cmdCtr & 0xffff);
  return out;
}

/**
 * MACt over `first ‖ CmdCtr ‖ TI ‖ rest`: `first` is the command byte on the way in and the
 * return code (00) on the way out; the counter is little-endian.
 */
export function secureMac(session: Ev2Session, first: number, cmdCtr: number, ...rest: Buffer[]): Buffer {
  const input = Buffer.concat([Buffer.from([first]), counterBytes(cmdCtr), session.ti, ...rest]);
  return truncateMac(aesCmac(session.macKey, input));
}

/** The IV of CommMode.Full: E(SesAuthENCKey, A5 5A (command) or 5A A5 (response) ‖ TI ‖ CmdCtr ‖ 0⁸). */
function fullModeIv(session: Ev2Session, label: 0xa55a | 0x5aa5, cmdCtr: number): Buffer {
  const block = Buffer.concat([
    Buffer.from([label >> 8, label & 0xff]),
    session.ti,
    counterBytes(cmdCtr),
    Buffer.alloc(8),
  ]);
  return aesEncryptBlock(session.encKey, block);
}

/** ISO/IEC 9797-1 method 2: always 80, then zeros to a whole block. */
function pad(data: Buffer): Buffer {
  const out = Buffer.alloc((Math.floor(data.length / BLOCK) + 1) * BLOCK);
  data.copy(out);
  out[data.length] = 0x80;
  return out;
}

/** Undoes `pad`; undefined when the padding is not 80 00.. (a wrong key, or tampering). */
function unpad(data: Buffer): Buffer | undefined {
  let end = data.length - 1;
  while (end >= 0 && data[end] === 0x00) end--;
  if (end < 0 || data[end] !== 0x80 || data.length - end > BLOCK) return undefined;
  return data.subarray(0, end);
}

export function encryptCommandData(session: Ev2Session, plain: Buffer): Buffer {
  return aesCbcEncrypt(session.encKey, pad(plain), fullModeIv(session, 0xa55a, session.cmdCtr));
}

const wholeBlocks = (data: Buffer) => data.length > 0 && data.length % BLOCK === 0;

/** Response data is encrypted under the counter that already stepped for this command. */
export function encryptResponseData(session: Ev2Session, plain: Buffer, cmdCtr: number): Buffer {
  return aesCbcEncrypt(session.encKey, pad(plain), fullModeIv(session, 0x5aa5, cmdCtr));
}

export function decryptResponseData(session: Ev2Session, encrypted: Buffer, cmdCtr: number): Buffer | undefined {
  if (!wholeBlocks(encrypted)) return undefined;
  return unpad(aesCbcDecrypt(session.encKey, encrypted, fullModeIv(session, 0x5aa5, cmdCtr)));
}

/** The card's side of `encryptCommandData`: undefined when the length or the padding is wrong. */
export function decryptCommandData(session: Ev2Session, encrypted: Buffer): Buffer | undefined {
  if (!wholeBlocks(encrypted)) return undefined;
  return unpad(aesCbcDecrypt(session.encKey, encrypted, fullModeIv(session, 0xa55a, session.cmdCtr)));
}

/**
 * CRC32NK of ChangeKey: the IEEE 802.3 polynomial (reflected, EDB88320), register preset to
 * FFFFFFFF and NOT complemented at the end, sent least significant byte first. AN12196 gives
 * 789DFADC for F3847D627727ED3BC9C4CC050489B966; the usual CRC-32 is that value complemented.
 */
export function crc32Nk(data: Buffer): Buffer {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32LE(crc >>> 0);
  return out;
}
