import YAML from 'yaml';
import type { ErrorDetail } from '../shared/platform/errors.js';
import { CONFIG_VERSION } from './version.js';
import { rootMap, pairOf, removePair, setTopLevel } from './yaml-edit.js';

/**
 * From a site config of an older format to the current one, one version at a time. A step is a
 * pure function from the text of a version-n file to the text of the same site in version n+1,
 * with a line for each thing it changed; the chain then sets `version`. Steps edit the text in
 * place at the places the YAML document locates (yaml-edit.ts), so every comment, blank line,
 * quote and alignment the operator wrote stays as it was. A step must keep the site's meaning:
 * the migrated file loads to the same config as the old file did under the old format.
 */
export interface MigrationStep {
  /** The version it reads; it writes `from + 1`. */
  from: number;
  /** What changed in the format, for `config migrate` and docs/config.md. */
  title: string;
  apply(text: string): { text: string; changes: string[] };
}

/** Version 1 → 2: the key that let roles in from a stale directory, ignored since every role has a bound. */
function dropStaleRoles(text: string): { text: string; changes: string[] } {
  const directory = rootMap(YAML.parseDocument(text)).get('directory', true);
  if (!YAML.isMap(directory)) return { text, changes: [] };
  const pair = pairOf(directory, 'staleRoles');
  if (!pair) return { text, changes: [] };
  const roles = JSON.stringify(YAML.isNode(pair.value) ? pair.value.toJSON() : null);
  return {
    text: removePair(text, directory, pair),
    changes: [
      `removed directory.staleRoles (${roles}): it was ignored; each role's bound is directory.maxAgeHours, unchanged`,
    ],
  };
}

/** In order: STEPS[i] reads version i + 1. */
export const STEPS: readonly MigrationStep[] = [
  {
    from: 1,
    title: 'the file states its version; directory.staleRoles, ignored, is gone',
    apply: dropStaleRoles,
  },
];

export interface StepReport {
  from: number;
  to: number;
  title: string;
  changes: string[];
}

export type Migration =
  { ok: true; from: number; to: number; text: string; steps: StepReport[] } | { ok: false; errors: ErrorDetail[] };

/** The text of a file of format `version` rewritten to CONFIG_VERSION, step by step. */
export function migrateText(text: string, version: number): Migration {
  if (!Number.isSafeInteger(version) || version < 1 || version > CONFIG_VERSION)
    return { ok: false, errors: [{ path: 'version', message: `no migration from version ${version}` }] };
  const steps: StepReport[] = [];
  let current = text;
  try {
    for (let from = version; from < CONFIG_VERSION; from++) {
      const step = STEPS[from - 1];
      if (step?.from !== from) throw new Error(`no step from version ${from}`);
      const applied = step.apply(current);
      const versioned = setTopLevel(applied.text, 'version', from + 1, "this file's format (docs/config.md)");
      steps.push({ from, to: from + 1, title: step.title, changes: [versioned.change, ...applied.changes] });
      current = versioned.text;
    }
  } catch (error) {
    return { ok: false, errors: [{ path: '(document)', message: (error as Error).message }] };
  }
  return { ok: true, from: version, to: CONFIG_VERSION, text: current, steps };
}
