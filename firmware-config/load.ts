import { dirname, resolve } from 'node:path';
import { parseText, readTextFile } from '../shared/platform/yaml-document.js';
import type { LoadResult } from '../shared/platform/yaml-document.js';
import { validate } from '../shared/platform/zod-issues.js';
import { SiteConfig } from './schema.js';
import { declaredVersion, versionRefusal } from './version.js';

export type { LoadResult } from '../shared/platform/yaml-document.js';

/** A load's answer and the format version the file declares, when it could be read that far. */
export interface SiteConfigRead {
  result: LoadResult<SiteConfig>;
  version: number | undefined;
}

/**
 * A site's config from its YAML file: every error at once with its path, or a config whose
 * file paths are absolute, so the edge does not depend on the folder it was started from. The
 * file's format version comes first: a file of another version is refused with what to do,
 * before its keys are read by rules that are not its own.
 */
export function readSiteConfig(text: string, source: string, baseDir: string): SiteConfigRead {
  const parsed = parseText(text, source);
  if (!parsed.ok) return { result: { ok: false, code: 'config.invalid', errors: parsed.errors }, version: undefined };
  const declared = declaredVersion(parsed.data);
  if (!declared.ok)
    return { result: { ok: false, code: 'config.invalid', errors: [declared.error] }, version: undefined };
  const { version } = declared;
  const refusal = versionRefusal(source, version);
  if (refusal) return { result: { ok: false, code: 'config.invalid', errors: [refusal] }, version };
  const checked = validate(SiteConfig, withoutVersion(parsed.data));
  if (!checked.ok) return { result: { ok: false, code: 'config.invalid', errors: checked.errors }, version };
  return { result: { ok: true, value: absolutePaths(checked.value, baseDir) }, version };
}

/** The version key is the file's, not the site's: the schema describes the rest. */
function withoutVersion(data: unknown): unknown {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return data;
  const { version: _version, ...rest } = data as Record<string, unknown>;
  return rest;
}

function absolutePaths(config: SiteConfig, baseDir: string): SiteConfig {
  const directory =
    config.directory.source === 'file'
      ? { ...config.directory, path: resolve(baseDir, config.directory.path) }
      : config.directory;
  const secureBadges = config.secureBadges
    ? { secureBadges: { ...config.secureBadges, doorKeyFile: resolve(baseDir, config.secureBadges.doorKeyFile) } }
    : {};
  return {
    ...config,
    storage: { ...config.storage, path: resolve(baseDir, config.storage.path) },
    directory,
    ...secureBadges,
  };
}

export function parseSiteConfig(text: string, source: string, baseDir: string): LoadResult<SiteConfig> {
  return readSiteConfig(text, source, baseDir).result;
}

/** The file at `path`, read and checked, with the version it declares. */
export function inspectSiteConfig(path: string): SiteConfigRead {
  const read = readTextFile(path, 'config.unreadable', 'config.invalid');
  if (!read.ok) return { result: read, version: undefined };
  return readSiteConfig(read.value, path, dirname(resolve(path)));
}

export function loadSiteConfig(path: string): LoadResult<SiteConfig> {
  return inspectSiteConfig(path).result;
}
