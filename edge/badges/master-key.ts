import { readFileSync, statSync } from 'node:fs';

/** A 16-byte AES key written as 32 hex digits; whitespace and colons between them are allowed. */
export function parseKeyHex(text: string): Buffer | undefined {
  const hex = text.replace(/[\s:]/g, '');
  return /^[0-9A-Fa-f]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

export type MasterKeyFile = { ok: true; key: Buffer; warning?: string } | { ok: false; message: string };

export type SecretFile = { ok: true; text: string; warning?: string } | { ok: false; message: string };

/** Reads a key file; one that other users can read earns a warning (whoever reads it holds the keys). */
export function readSecretFile(path: string, what: string): SecretFile {
  try {
    const text = readFileSync(path, 'utf8');
    const warning = statSync(path).mode & 0o077 ? `${path} can be read by other users; chmod 600 it` : undefined;
    return warning ? { ok: true, text, warning } : { ok: true, text };
  } catch (err) {
    return {
      ok: false,
      message: `cannot read the ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    };
  }
}

/** Reads the site master key file (personalisation, `tessera badge keys`), never a door's. */
export function readMasterKeyFile(path: string): MasterKeyFile {
  const file = readSecretFile(path, 'master key file');
  if (!file.ok) return file;
  const key = parseKeyHex(file.text);
  if (!key) return { ok: false, message: `${path}: expected 32 hex digits (an AES-128 key), nothing else` };
  return file.warning ? { ok: true, key, warning: file.warning } : { ok: true, key };
}
