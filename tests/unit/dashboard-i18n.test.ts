import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { LINE_KINDS } from '../../shared/protocol/api/hub-billing.js';
import { DecisionReason } from '../../shared/protocol/reasons.js';

/** The dashboard's catalogue (cloud-sync/dashboard/ui/messages.js): plain JavaScript for the browser, read here from its source (the hub serves it within /ui/app.js). */
type Catalogue = Readonly<Record<'fr' | 'en', Readonly<Record<string, string>>>>;

const UI_DIR = fileURLToPath(new URL('../../cloud-sync/dashboard/ui/', import.meta.url));
// Through a variable, which the compiler does not follow: the catalogue is JavaScript, typed by tsconfig.dashboard.json.
const CATALOGUE = new URL('../../cloud-sync/dashboard/ui/messages.js', import.meta.url).href;

/** The `{name}` placeholders of a message, sorted. */
const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/**
 * The keys the modules pass to `t` or `tOr` as a literal: a quoted key as it is, a template
 * (`alarm.${a.kind}`) as a pattern where each `${…}` stands for any text.
 */
function keysUsed(source: string): Array<{ key: string; pattern: RegExp }> {
  return [...source.matchAll(/\bt(?:Or)?\(\s*(?:'([^']*)'|`([^`]*)`)/g)].map((m) => {
    const key = m[1] ?? m[2] ?? '';
    const parts = key.split(/\$\{[^}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return { key, pattern: new RegExp(`^${parts.join('.+')}$`) };
  });
}

const uiModules = () =>
  readdirSync(UI_DIR, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.js'))
    .map((e) => join(e.parentPath, e.name));

describe("the dashboard's catalogue", () => {
  let messages: Catalogue;
  beforeAll(async () => {
    ({ MESSAGES: messages } = (await import(CATALOGUE)) as { MESSAGES: Catalogue });
  });

  it('has the same keys in French and in English', () => {
    const fr = Object.keys(messages.fr);
    const en = Object.keys(messages.en);
    expect(fr.length).toBeGreaterThan(100);
    expect({
      missingInEnglish: fr.filter((k) => !(k in messages.en)),
      missingInFrench: en.filter((k) => !(k in messages.fr)),
    }).toEqual({ missingInEnglish: [], missingInFrench: [] });
  });

  it('has words for every reason a door gives and every kind of invoice line, in both languages', () => {
    const wanted = [...DecisionReason.options.map((r) => `reason.${r}`), ...LINE_KINDS.map((k) => `line.${k}`)];
    expect({
      fr: wanted.filter((k) => !(k in messages.fr)),
      en: wanted.filter((k) => !(k in messages.en)),
    }).toEqual({ fr: [], en: [] });
  });

  it('has the same placeholders in both languages, message by message', () => {
    const differ = Object.keys(messages.fr).filter(
      (k) => placeholders(messages.fr[k] ?? '').join() !== placeholders(messages.en[k] ?? '').join(),
    );
    expect(differ).toEqual([]);
  });

  it('has words for every key a module asks for by name', () => {
    const used = uiModules().flatMap((file) =>
      keysUsed(readFileSync(file, 'utf8')).map((u) => ({ ...u, file: file.slice(UI_DIR.length) })),
    );
    // The scan itself must see the calls: an empty list would prove nothing.
    expect(used.length).toBeGreaterThan(100);
    const known = Object.keys(messages.fr);
    const unknown = used.filter((u) => !known.some((k) => u.pattern.test(k))).map((u) => `${u.file}: ${u.key}`);
    expect(unknown).toEqual([]);
  });
});
