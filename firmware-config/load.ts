import { dirname, resolve } from 'node:path';
import { parseDocument, readTextFile } from '../shared/platform/yaml-document.js';
import type { LoadResult } from '../shared/platform/yaml-document.js';
import { SiteConfig } from './schema.js';

export type { LoadResult } from '../shared/platform/yaml-document.js';

/**
 * A site's config from its YAML file: every error at once with its path, or a config whose
 * file paths are absolute, so the edge does not depend on the folder it was started from.
 */
export function parseSiteConfig(text: string, source: string, baseDir: string): LoadResult<SiteConfig> {
  const result = parseDocument(text, source, SiteConfig, 'config.invalid');
  if (!result.ok) return result;
  const config = result.value;
  const directory =
    config.directory.source === 'file'
      ? { ...config.directory, path: resolve(baseDir, config.directory.path) }
      : config.directory;
  const secureBadges = config.secureBadges
    ? { secureBadges: { ...config.secureBadges, doorKeyFile: resolve(baseDir, config.secureBadges.doorKeyFile) } }
    : {};
  return {
    ok: true,
    value: {
      ...config,
      storage: { ...config.storage, path: resolve(baseDir, config.storage.path) },
      directory,
      ...secureBadges,
    },
  };
}

export function loadSiteConfig(path: string): LoadResult<SiteConfig> {
  const read = readTextFile(path, 'config.unreadable', 'config.invalid');
  if (!read.ok) return read;
  return parseSiteConfig(read.value, path, dirname(resolve(path)));
}
