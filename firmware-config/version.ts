import type { ErrorDetail } from '../shared/platform/errors.js';

/**
 * The format of a site config file has a number, its top-level `version` key (docs/config.md,
 * "Versions"). A file without the key is version 1, the format before the key existed. This
 * release reads CONFIG_VERSION only: an older file is refused with the command that rewrites it
 * (`tessera config migrate`), a newer one with the advice to upgrade.
 */
export const CONFIG_VERSION = 2;

export type VersionRead = { ok: true; version: number } | { ok: false; error: ErrorDetail };

/** The version a parsed file declares; a document that is not a mapping is left to the schema. */
export function declaredVersion(data: unknown): VersionRead {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return { ok: true, version: CONFIG_VERSION };
  if (!Object.hasOwn(data, 'version')) return { ok: true, version: 1 };
  const value = (data as { version: unknown }).version;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return { ok: true, version: value };
  return {
    ok: false,
    error: {
      path: 'version',
      message: `expected the file's format version, a whole number (this release reads ${CONFIG_VERSION}), got ${JSON.stringify(value) ?? String(value)}`,
    },
  };
}

/** A path as one shell word, so the command in a message can be pasted as it is. */
export function shellWord(path: string): string {
  return /^[\w./:@%+=,-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

/** Why `file`, of format `version`, cannot be read by this release; undefined when it can. */
export function versionRefusal(file: string, version: number): ErrorDetail | undefined {
  if (version === CONFIG_VERSION) return undefined;
  const reads = `version ${version}, this release reads version ${CONFIG_VERSION}`;
  if (version < CONFIG_VERSION)
    return { path: 'version', message: `${reads}: run \`tessera config migrate --config ${shellWord(file)}\`` };
  return {
    path: 'version',
    message: `${reads}: the file was written for a newer Tessera; upgrade Tessera, or put back the backup \`tessera config migrate\` kept (${shellWord(`${file}.v${CONFIG_VERSION}.bak`)})`,
  };
}

/**
 * The one line to print about a refused file when its version is the reason: nothing else about
 * it is worth reading until it is migrated (or Tessera upgraded). The version is checked before
 * anything else, so such an error is always the only one.
 */
export function versionHeadline(file: string, errors: readonly ErrorDetail[]): string | undefined {
  const [first] = errors;
  if (errors.length !== 1 || first?.path !== 'version') return undefined;
  return /^version \d+, this release reads /.test(first.message) ? `${file}: ${first.message}` : undefined;
}
