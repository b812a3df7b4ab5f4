import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AES-128 primitives and AES-CMAC (RFC 4493), all from node:crypto. NTAG 424 DNA only ever uses
 * AES-128 with its own explicit padding, so node's PKCS#7 auto-padding is switched off
 * everywhere: a length that is not whole blocks is a bug and must throw, not be padded silently.
 */

export const BLOCK = 16;
const ZERO_IV = Buffer.alloc(BLOCK);
/** The GF(2^128) reduction constant R_128 of RFC 4493 section 2.3. */
const RB = 0x87;

function checkKey(key: Buffer): void {
  if (key.length !== BLOCK) throw new RangeError(`AES-128 needs a 16-byte key, got ${key.length} bytes`);
}

function checkBlocks(data: Buffer): void {
  if (data.length % BLOCK !== 0) throw new RangeError(`expected whole 16-byte blocks, got ${data.length} bytes`);
}

export function aesCbcEncrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV): Buffer {
  checkKey(key);
  checkBlocks(data);
  const cipher = createCipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

export function aesCbcDecrypt(key: Buffer, data: Buffer, iv: Buffer = ZERO_IV): Buffer {
  checkKey(key);
  checkBlocks(data);
  const decipher = createDecipheriv('aes-128-cbc', key, iv).setAutoPadding(false);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

/** One block through the raw cipher (ECB): IV derivation and CMAC subkeys need nothing more. */
export function aesEncryptBlock(key: Buffer, block: Buffer): Buffer {
  if (block.length !== BLOCK) throw new RangeError(`expected one 16-byte block, got ${block.length} bytes`);
  return aesCbcEncrypt(key, block);
}

/** Multiplication by x in GF(2^128): a one-bit left shift, reduced by R_128 when the top bit falls off. */
function double(block: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) {
    const next = i + 1 < BLOCK ? block[i + 1]! : 0;
    out[i] = ((block[i]! << 1) | (next >> 7)) & 0xff;
  }
  if (block[0]! & 0x80) out[BLOCK - 1] = out[BLOCK - 1]! ^ RB;
  return out;
}

/** K1 and K2 of RFC 4493 section 2.3. */
export function cmacSubkeys(key: Buffer): { k1: Buffer; k2: Buffer } {
  const k1 = double(aesEncryptBlock(key, ZERO_IV));
  return { k1, k2: double(k1) };
}

function xorInto(target: Buffer, offset: number, mask: Buffer): void {
  for (let i = 0; i < mask.length; i++) target[offset + i] = target[offset + i]! ^ mask[i]!;
}

/**
 * CMAC with the message padded out to at least `minLength` bytes. RFC 4493 pads only to the next
 * block (minLength 16); AN10922 diversification always MACs 32 bytes, so it pads further with
 * the same 80 00.. rule and the same K2. An unpadded last block (length already whole blocks
 * and at least minLength) takes K1.
 */
export function aesCmacPadded(key: Buffer, message: Buffer, minLength: number): Buffer {
  const wholeBlocks = Math.ceil(message.length / BLOCK) * BLOCK;
  const length = Math.max(minLength, wholeBlocks, BLOCK);
  const complete = message.length === length;
  const data = Buffer.alloc(length);
  message.copy(data);
  if (!complete) data[message.length] = 0x80;
  const { k1, k2 } = cmacSubkeys(key);
  xorInto(data, length - BLOCK, complete ? k1 : k2);
  return aesCbcEncrypt(key, data).subarray(length - BLOCK);
}

/** AES-CMAC of RFC 4493: a 16-byte tag. */
export function aesCmac(key: Buffer, message: Buffer): Buffer {
  return aesCmacPadded(key, message, BLOCK);
}

/**
 * The 8-byte MAC NTAG 424 sends: the bytes at odd offsets of the full CMAC (AN12196 writes them
 * S14, S12, .., S0 counting from the right). Used for secure messaging and for the SUN MAC.
 */
export function truncateMac(mac: Buffer): Buffer {
  const out = Buffer.alloc(mac.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = mac[2 * i + 1]!;
  return out;
}
