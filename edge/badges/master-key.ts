import { readFileSync, statSync } from 'node:fs';

/** A 16-byte AES key written as 32 hex digits; whitespace and colons between them are allowed. */
export function parseKeyHex(text: string): Buffer | undefined {
  const hex = text.replace(/[\s:]/g, '');
  return /^[0-9A-Fa-f]{32}$/.test(hex) ? Buffer.from(hex, 'hex') : undefined;
}

export type MasterKeyFile = { ok: true; key: Buffer; warning?: string } | { ok: false; message: string };

/**
 * Reads the master key file (secureBadges.masterKeyFile). Whoever reads it can make keys for
 * every card, so a file other users can read earns a warning.
 */
export function readMasterKeyFile(path: string): MasterKeyFile {
  let text: string;
  let mode: number;
  try {
    text = readFileSync(path, 'utf8');
    mode = statSync(path).mode;
  } catch (err) {
    return { ok: false, message: `cannot read the master key file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  const key = parseKeyHex(text);
  if (!key) return { ok: false, message: `${path}: expected 32 hex digits (an AES-128 key), nothing else` };
  const warning = mode & 0o077 ? `${path} can be read by other users; chmod 600 it` : undefined;
  return warning ? { ok: true, key, warning } : { ok: true, key };
}
