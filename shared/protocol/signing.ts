import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

/**
 * Hub signatures (docs/decisions/0009-signed-hub-messages.md): directory updates and commands are signed with the hub's
 * Ed25519 key; each site pins the public key at provisioning. What is signed is the canonical
 * JSON of the body, so both ends agree byte for byte whatever order keys were written in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot sign a ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function signBody(body: unknown, privateKey: KeyObject): string {
  return sign(null, Buffer.from(canonicalJson(body)), privateKey).toString('base64');
}

/** False for a bad signature, a malformed one, or a key of the wrong kind; never throws. */
export function verifyBody(body: unknown, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(null, Buffer.from(canonicalJson(body)), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export function generateHubKeys(): { publicKeyPem: string; privateKeyPem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** An Ed25519 public key from PEM (what a site config pins); throws a clear error otherwise. */
export function hubPublicKey(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`the hub key must be Ed25519, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}

export function hubPrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`the hub key must be Ed25519, got ${key.asymmetricKeyType ?? 'unknown'}`);
  return key;
}
