import { createHash } from 'node:crypto';
import { parseDocument, readTextFile, type LoadResult } from '../../shared/platform/yaml-document.js';
import { Directory } from '../../shared/protocol/directory.js';

export type DirectoryLoadResult = LoadResult<Directory, 'directory.invalid' | 'directory.unreadable'>;

/**
 * A standalone site's directory (plans, employers, members, badges) from a local file: JSON for
 * `.json`, YAML otherwise. The edge reads it at start and on SIGHUP; an invalid file is refused
 * whole, with every error, so the caller keeps the directory already in force.
 */
export function loadDirectoryFile(path: string): DirectoryLoadResult {
  const read = readTextFile(path, 'directory.unreadable', 'directory.invalid');
  if (!read.ok) return read;
  return parseDocument(read.value, path, Directory, 'directory.invalid');
}

/**
 * The file, unless its content hashes to `knownHash` (the file already in force): then only
 * `unchanged`, without parsing it. Read once, so the hash is that of the text parsed.
 */
export function loadDirectoryFileIfChanged(
  path: string,
  knownHash: string | undefined,
): (DirectoryLoadResult & { hash?: string }) | { ok: true; unchanged: true } {
  const sha256 = createHash('sha256');
  const read = readTextFile(path, 'directory.unreadable', 'directory.invalid', sha256);
  if (!read.ok) return read;
  const hash = sha256.digest('hex');
  if (hash === knownHash) return { ok: true, unchanged: true };
  const parsed = parseDocument(read.value, path, Directory, 'directory.invalid');
  return parsed.ok ? { ...parsed, hash } : parsed;
}
