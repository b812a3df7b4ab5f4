import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

/**
 * scrypt with N = 2^17, r = 8, p = 1 (128 MB and a few hundred ms per hash: an offline guess costs
 * as much), a 16-byte random salt and a 32-byte key. The parameters travel in the stored string:
 * older hashes still verify, and a login with the right password stores it again at this cost.
 */
export const PASSWORD_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** A stored hash asking for more than this is taken as corrupt, not run: it would take the hub's memory. */
const MAX_COST: ScryptCost = { N: 2 ** 20, r: 16, p: 4 };

// What a new password must be is part of the API (shared/protocol/api/hub-auth.ts).
export { NewPassword, passwordIsUsername } from '../../../shared/protocol/api/hub-auth.js';

// Node refuses scrypt above `maxmem` (32 MB by default): 128 * N * r bytes are needed, with room to spare.
const maxmemOf = (params: ScryptCost) => 256 * params.N * params.r;

function derive(password: string, salt: Buffer, params: ScryptCost, keyBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyBytes, { ...params, maxmem: maxmemOf(params) }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

const encode = (cost: ScryptCost, salt: Buffer, key: Buffer) =>
  ['scrypt', cost.N, cost.r, cost.p, salt.toString('base64url'), key.toString('base64url')].join('$');

/** `scrypt$N$r$p$salt$key`, salt and key in base64url. */
export async function hashPassword(password: string, cost: ScryptCost = PASSWORD_COST): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  return encode(cost, salt, await derive(password, salt, cost, KEY_BYTES));
}

/** The same, blocking: for scripts that set up a database (never in a running hub: it would stall it). */
export function hashPasswordSync(password: string, cost: ScryptCost = PASSWORD_COST): string {
  const salt = randomBytes(SALT_BYTES);
  return encode(
    cost,
    salt,
    scryptSync(password.normalize('NFC'), salt, KEY_BYTES, { ...cost, maxmem: maxmemOf(cost) }),
  );
}

function parse(stored: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | undefined {
  const [scheme, n, r, p, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || key === undefined) return undefined;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const sane = (Object.keys(cost) as Array<keyof ScryptCost>).every(
    (k) => Number.isInteger(cost[k]) && cost[k] > 0 && cost[k] <= MAX_COST[k],
  );
  const expected = Buffer.from(key, 'base64url');
  return sane && expected.length > 0 ? { cost, salt: Buffer.from(salt, 'base64url'), key: expected } : undefined;
}

/** True when `password` matches `stored`; compares in constant time. A malformed hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed) return false;
  return timingSafeEqual(await derive(password, parsed.salt, parsed.cost, parsed.key.length), parsed.key);
}

/** Whether a stored hash was made at `cost`; if not, the next successful login stores it again. */
export function hashIsAtCost(stored: string, cost: ScryptCost = PASSWORD_COST): boolean {
  const parsed = parse(stored);
  return parsed !== undefined && parsed.cost.N === cost.N && parsed.cost.r === cost.r && parsed.cost.p === cost.p;
}

/** A random password for the first start's admin: 20 characters of base64url, 120 bits. */
export function randomPassword(): string {
  return randomBytes(15).toString('base64url');
}
