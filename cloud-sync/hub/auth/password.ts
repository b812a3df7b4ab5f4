import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * scrypt with N = 2^15, r = 8, p = 1 (32 MB and ~50-100 ms per hash on the reference 2-core
 * machine: slow enough to make an offline guess expensive, fast enough for a login), a 16-byte
 * random salt and a 32-byte key. The parameters travel in the stored string, so raising them
 * later still verifies older hashes.
 */
const PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** What an account's password must be: long rather than clever (NIST SP 800-63B). */
export const NewPassword = z.string().min(10, { error: 'a password needs at least 10 characters' }).max(200);

const maxmemOf = (params: { N: number; r: number }) => 256 * params.N * params.r;

function derive(password: string, salt: Buffer, params: { N: number; r: number; p: number }, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyBytes, { ...params, maxmem: maxmemOf(params) }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

const encode = (salt: Buffer, key: Buffer) => ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), key.toString('base64url')].join('$');

/** `scrypt$N$r$p$salt$key`, salt and key in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return encode(salt, await derive(password, salt, PARAMS, KEY_BYTES));
}

/** The same, blocking: only for the first start's admin, made before the API serves anyone. */
export function hashPasswordSync(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  return encode(salt, scryptSync(password.normalize('NFC'), salt, KEY_BYTES, { ...PARAMS, maxmem: maxmemOf(PARAMS) }));
}

/** True when `password` matches `stored`; compares in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return false;
  const expected = Buffer.from(key, 'base64url');
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  if (expected.length === 0 || !Object.values(params).every((v) => Number.isInteger(v) && v > 0)) return false;
  const actual = await derive(password, Buffer.from(salt, 'base64url'), params, expected.length);
  return timingSafeEqual(actual, expected);
}

/** A random password for the first start's admin: 20 characters of base64url, 120 bits. */
export function randomPassword(): string {
  return randomBytes(15).toString('base64url');
}
