import { z } from 'zod';
import type { ErrorDetail } from './errors.js';
import { checkUntrusted } from './check-untrusted.js';
import { describeIssues } from './validation.js';

/**
 * From a zod failure to the lines a person reads: `doors[0].relay.line: expected an integer
 * 0-27, got "17a"`. Shared by the site config and the directory file so both speak alike.
 */

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys to values',
};

const typeName = (expected: string) => TYPE_NAMES[expected] ?? `a value of type ${expected}`;
const quoted = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');
const plural = (n: number | bigint, word: string) => `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;

function bound(origin: string, n: number | bigint, side: 'least' | 'most', inclusive: boolean | undefined): string {
  if (origin === 'string')
    return n === 1 && side === 'least' ? 'a non-empty string' : `a string of at ${side} ${plural(n, 'character')}`;
  if (origin === 'array' || origin === 'set') return `at ${side} ${plural(n, 'item')}`;
  const op = side === 'least' ? (inclusive === false ? '>' : '>=') : inclusive === false ? '<' : '<=';
  return `a number ${op} ${n}`;
}

/** What each branch of a failed union wanted at its own root, e.g. `"none", "staffed" or a list`. */
function unionWants(branches: readonly (readonly Issue[])[]): string | undefined {
  const wants: string[] = [];
  for (const issues of branches) {
    for (const issue of issues) {
      if (issue.path.length > 0) continue;
      if (issue.code === 'invalid_value') wants.push(quoted(issue.values));
      else if (issue.code === 'invalid_type') wants.push(typeName(issue.expected));
    }
  }
  if (wants.length === 0) return undefined;
  const last = wants.pop();
  return wants.length === 0 ? `expected ${last}` : `expected ${wants.join(', ')} or ${last}`;
}

/**
 * Our wording for the issues a schema did not word itself (a schema's own `error` wins over a
 * per-parse map). zod's defaults ("Invalid input: expected string, received undefined") would
 * repeat what the `got` suffix already says.
 */
export function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${typeName(issue.expected)}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `expected ${quoted(issue.values)}` : `expected one of ${quoted(issue.values)}`;
    case 'too_small':
      return `expected ${bound(issue.origin, issue.minimum, 'least', issue.inclusive)}`;
    case 'too_big':
      return `expected ${bound(issue.origin, issue.maximum, 'most', issue.inclusive)}`;
    case 'invalid_format':
      return issue.format === 'regex'
        ? `expected text matching ${issue.pattern ?? 'the pattern'}`
        : `expected a valid ${issue.format}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    case 'invalid_union':
      if (issue.discriminator !== undefined && 'options' in issue && Array.isArray(issue.options))
        return `expected one of ${quoted(issue.options)}`;
      return unionWants(issue.errors);
    case 'unrecognized_keys':
    case 'invalid_key':
    case 'invalid_element':
    case 'custom':
      return undefined;
  }
}

/** The input is not of the kind this (union branch's) schema takes at all. */
const isMismatch = (i: Issue) =>
  i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value' || i.code === 'invalid_union');

/**
 * A union whose input had the right shape for one branch but failed inside it (a list of
 * windows with a bad day) is reported as that branch's own issues, so the path reaches the bad
 * value instead of stopping at the union with "expected ... or a list".
 */
function expandUnions(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union') return [issue];
    const shaped = issue.errors.find((branch) => branch.length > 0 && !branch.some(isMismatch));
    if (!shaped) return [issue];
    return expandUnions(shaped.map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
  });
}

/** The schemas a value at `key` below `schema` may be checked by (several inside a union). */
function childSchemas(schema: z.core.$ZodType, key: PropertyKey): z.core.$ZodType[] {
  return concrete(schema).flatMap((s) => {
    if (s instanceof z.ZodObject && typeof key === 'string') {
      const field = (s.shape as Record<string, z.core.$ZodType | undefined>)[key];
      return field ? [field] : [];
    }
    if (s instanceof z.ZodArray && typeof key === 'number') return [s.element as z.core.$ZodType];
    return [];
  });
}

/** Looks through wrappers (optional, default, pipe...) and unions to the objects and arrays. */
function concrete(schema: z.core.$ZodType): z.core.$ZodType[] {
  if (
    schema instanceof z.ZodOptional ||
    schema instanceof z.ZodNullable ||
    schema instanceof z.ZodDefault ||
    schema instanceof z.ZodPrefault
  )
    return concrete(schema.unwrap() as z.core.$ZodType);
  if (schema instanceof z.ZodPipe) return concrete(schema.in as z.core.$ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as z.core.$ZodType[]).flatMap(concrete);
  return [schema];
}

/** The keys a schema allows in the object at `path`, for "did you mean" hints. */
export function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): string[] {
  let at = [schema];
  for (const key of path) at = at.flatMap((s) => childSchemas(s, key));
  const keys = at.flatMap(concrete).flatMap((s) => (s instanceof z.ZodObject ? Object.keys(s.shape) : []));
  return [...new Set(keys)];
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: ErrorDetail[] };

/**
 * A cross-check's message often names the value already (`no door with id "back"`) or points at
 * a whole item (`duplicate badge ...`); a `got` suffix would only repeat it.
 */
function withoutEcho(issue: Issue, detail: ErrorDetail): ErrorDetail {
  if (issue.code !== 'custom') return detail;
  const got = /^, got (.*)$/s.exec(detail.message.slice(issue.message.length))?.[1];
  if (got === undefined) return detail;
  const echo =
    got.startsWith('{') ||
    got.startsWith('[') ||
    issue.message.includes(got) ||
    issue.message.includes(got.replace(/^"|"$/g, ''));
  return echo ? { path: detail.path, message: issue.message } : detail;
}

/** Checks `input` against `schema` and reports every issue at once, each with its path. */
export function validate<S extends z.ZodType>(schema: S, input: unknown): Validation<z.output<S>> {
  const result = checkUntrusted(schema, input, { error: issueMessage });
  if (result.success) return { ok: true, value: result.data };
  const shapeOf = (path: readonly PropertyKey[]) => keysAt(schema, path);
  const errors = expandUnions(result.error.issues).flatMap((issue) =>
    describeIssues(new z.ZodError([issue]), input, shapeOf).map((detail) => withoutEcho(issue, detail)),
  );
  return { ok: false, errors };
}
