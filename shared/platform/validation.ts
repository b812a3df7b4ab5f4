import type { z } from 'zod';
import type { ErrorDetail } from './errors.js';

/** `['doors', 0, 'relay', 'line']` → `doors[0].relay.line`; the root is `(root)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let cur: unknown = input;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || !(key in cur)) return { found: false, value: undefined };
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: cur };
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    // Nested deeper than the stack (a hostile payload of 20,000 brackets): say what it is.
    return Array.isArray(value) ? 'an array nested too deep to show' : 'an object nested too deep to show';
  }
  if (text === undefined) return typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] ?? 0;
      row[j] = Math.min(
        (row[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] ?? 0;
}

function suggestion(key: string, known: readonly string[]): string {
  const norm = (s: string) => s.replace(/[_-]/g, '').toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const d = norm(k) === norm(key) ? 0 : distance(key, k);
    if (d < bestScore) {
      best = k;
      bestScore = d;
    }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(key.length / 3)) ? ` (did you mean "${best}"?)` : '';
}

/** A value under a key like these is a secret: an error says what kind of value it was, never the value (logs keep errors). */
const SECRET_KEY = /pass(word|phrase)|secret|token|private/i;
const isSecretPath = (path: readonly PropertyKey[]) => path.some((k) => typeof k === 'string' && SECRET_KEY.test(k));
const kindOf = (v: unknown) =>
  v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;

/**
 * Every zod issue as `{path, message}`, with what was found at that path, so a person can fix a
 * config file or request body in one pass: `doors[0].relay.line: expected an integer 0-27, got "17a"`.
 * `shapeOf(path)` lists the keys allowed at a path, for "did you mean" hints on unknown keys;
 * `secret`: the whole input is one (a password checked on its own), so its value is never shown.
 */
export function describeIssues(
  error: z.ZodError,
  input: unknown,
  shapeOf?: (path: readonly PropertyKey[]) => readonly string[],
  opts: { secret?: boolean } = {},
): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = shapeOf?.(issue.path) ?? [];
      for (const key of issue.keys) {
        details.push({
          path: formatPath([...issue.path, key]),
          message: `unknown key "${key}"${suggestion(key, known)}`,
        });
      }
      continue;
    }
    const at = valueAt(input, issue.path);
    const secret = opts.secret === true || isSecretPath(issue.path);
    const got = !at.found
      ? ', but it is missing'
      : secret
        ? `, got ${kindOf(at.value)} (not shown: a secret)`
        : `, got ${describe(at.value)}`;
    details.push({ path: formatPath(issue.path), message: `${issue.message}${got}` });
  }
  return details;
}

export function formatDetails(details: readonly ErrorDetail[]): string {
  return details.map((d) => `${d.path}: ${d.message}`).join('\n');
}
