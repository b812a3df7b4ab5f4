import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { fuzzSeed } from '../support/fuzz-seed.js';

/**
 * What the fuzz tests feed every parser at a boundary (docs/security.md; docs/architecture.md, invariant 6):
 * pure garbage, and structure-aware mutations of a valid input (one field changed, wrong types,
 * keys removed or added, huge strings, deep nesting, prototype-pollution keys), then the same as
 * text with its bytes damaged.
 */

/**
 * Assertions for a fuzz run's hot path: vitest's `expect` costs about 10 µs a call, as much as
 * some parsers take, and a check makes several per input. A failure throws with what was wrong.
 */
export function must(ok: boolean, what: string | (() => string)): asserts ok {
  if (!ok) throw new Error(typeof what === 'string' ? what : what());
}
export function same(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected))
    throw new Error(
      `${what}: expected ${JSON.stringify(expected)?.slice(0, 300)}, got ${JSON.stringify(actual)?.slice(0, 300)}`,
    );
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** 20,000 levels of arrays: deeper than any recursive walker's stack (JSON.stringify's among them). */
export const DEEP_TEXT = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
/** Stands for DEEP_TEXT inside a value until `toJsonText` (JSON.stringify itself cannot write it). */
const DEEP_MARK = '\u0000deep\u0000';
/** Far past every field's limit (ids 64, names 200, details 500), well under a payload's. */
const HUGE = 'x'.repeat(100_000);

/** A mutated value as JSON text, deep nesting written out. */
export function toJsonText(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replaceAll(JSON.stringify(DEEP_MARK), DEEP_TEXT);
}

export const POLLUTION_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  'hasOwnProperty',
  'toString',
  'valueOf',
] as const;

/** Values that break naive code: edge numbers, odd strings, empty and deep containers. */
const weirdValues: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    -0,
    -1,
    1.5,
    2 ** 31,
    2 ** 53 + 2,
    -(2 ** 53) - 2,
    1e308,
    -1e308,
    5e-324,
    '',
    ' ',
    '\u0000',
    '\uFFFD',
    '\uD800',
    '…',
    '../../etc/passwd',
    "'; DROP TABLE events; --",
    '%s%n',
    'null',
    'true',
    '0',
    '1e309',
    '2026-02-30T25:61:00+01:00',
    '04:A1:A1:A1:A1:A1:A1',
    [],
    {},
    [[]],
    JSON.parse('{"__proto__":{"polluted":true}}') as Json,
    // A length that cannot be compared: zod's length checks threw on it.
    { length: { toString: true } },
  ),
  fc.constantFrom(...POLLUTION_KEYS),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

/**
 * Drawn from 5,000 of them, sampled afresh from each run's seed (so a failure replays with it):
 * generating one costs more than most parsers take to refuse it, and the inputs' variety is in
 * where and how they are put.
 */
const WEIRD_POOL = fc.sample(weirdValues, { numRuns: 5_000, seed: fuzzSeed() | 0 });
export const weird: fc.Arbitrary<Json> = fc.nat({ max: WEIRD_POOL.length - 1 }).map((i) => WEIRD_POOL[i] as Json);

/** Every path to a value inside `value`, the root (`[]`) first. */
function pathsOf(
  value: Json,
  at: Array<string | number> = [],
  out: Array<Array<string | number>> = [],
): Array<Array<string | number>> {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => pathsOf(v, [...at, i], out));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...at, k], out);
  return out;
}

/** Sets an own, enumerable property even for `__proto__` (plain assignment would set the prototype). */
function setOwn(target: Record<string, Json> | Json[], key: string | number, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export type Mutation =
  | { op: 'replace'; pick: number; value: Json }
  | { op: 'delete'; pick: number }
  | { op: 'add'; pick: number; key: string; value: Json }
  | { op: 'huge' | 'deep' | 'wrap' | 'duplicate'; pick: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ op: fc.constant('replace' as const), pick: fc.nat(), value: weird }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('add' as const),
      pick: fc.nat(),
      key: fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 12 })),
      value: weird,
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('wrap' as const, 'duplicate' as const), pick: fc.nat() }) },
);

/** A huge string or a 20,000-level nest somewhere in the value: each costs a parser a hundred small inputs, so they come rarely. */
export const bulky: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constantFrom('huge' as const, 'deep' as const),
  pick: fc.nat(),
});

/** A deep copy; JSON keeps an own `__proto__` key as one (and is faster than structuredClone here). */
const copy = (value: unknown): Json => (value === undefined ? null : (JSON.parse(JSON.stringify(value)) as Json));

/** The paths of the valid inputs mutations start from, computed once each. */
const knownPaths = new WeakMap<object, Array<Array<string | number>>>();

/** One mutation applied to a deep copy of `valid`; the root itself may be replaced. */
export function mutate(valid: unknown, m: Mutation): Json {
  const root = { v: copy(valid) };
  const cached = valid !== null && typeof valid === 'object' ? knownPaths.get(valid) : undefined;
  const paths = cached ?? pathsOf(root.v);
  const path = ['v', ...(paths[m.pick % paths.length] ?? [])];
  const key = path[path.length - 1] as string | number;
  let parent: Json = root as unknown as Json;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string, Json>)[step as string] as Json;
  const container = parent as Record<string, Json>;
  const current = container[key as string] as Json;
  // Values are copied in: fast-check hands out the same constant object more than once.
  if (m.op === 'replace') setOwn(container, key, copy(m.value));
  else if (m.op === 'delete') {
    if (Array.isArray(container)) container.splice(Number(key), 1);
    else delete container[key as string];
  } else if (m.op === 'add') {
    const value = copy(m.value);
    if (Array.isArray(current)) current.push(value);
    else if (current !== null && typeof current === 'object') setOwn(current, m.key, value);
    else setOwn(container, key, { [m.key]: value } as Json);
  } else if (m.op === 'huge') setOwn(container, key, HUGE);
  else if (m.op === 'deep') setOwn(container, key, DEEP_MARK);
  else if (m.op === 'wrap') setOwn(container, key, [current]);
  else if (Array.isArray(current)) current.push(...(copy(current) as Json[]));
  else setOwn(container, key, typeof current === 'string' && current.length < 1000 ? current.repeat(50) : current);
  return root.v;
}

const mutations = fc.array(fc.oneof({ weight: 150, arbitrary: mutation }, { weight: 1, arbitrary: bulky }), {
  minLength: 1,
  maxLength: 3,
});

/** One of `valids` (its index in `from`) with one to three mutations; a tuple, not `chain`: eight times cheaper to generate. */
export function mutatedFrom(valids: readonly unknown[]): fc.Arbitrary<{ from: number; value: Json }> {
  for (const v of valids)
    if (v !== null && typeof v === 'object' && !knownPaths.has(v)) knownPaths.set(v, pathsOf(v as Json));
  return fc
    .tuple(fc.nat({ max: valids.length - 1 }), mutations)
    .map(([from, ms]) => ({ from, value: ms.reduce<Json>((v, m) => mutate(v, m), valids[from] as Json) }));
}

export const mutationsOf = (...valids: readonly unknown[]): fc.Arbitrary<Json> =>
  mutatedFrom(valids).map((m) => m.value);

export type ByteDamage = { op: 'flip' | 'cut' | 'insert' | 'drop'; at: number; byte: number };
export const byteDamage: fc.Arbitrary<ByteDamage> = fc.record({
  op: fc.constantFrom('flip' as const, 'cut' as const, 'insert' as const, 'drop' as const),
  at: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
});

/** Damages the bytes of a text: a flipped bit, a truncation, an inserted or a dropped byte. */
export function damage(text: string | Buffer, d: ByteDamage): Buffer {
  const bytes = Buffer.from(text);
  if (bytes.length === 0) return Buffer.from([d.byte]);
  const at = d.at % bytes.length;
  if (d.op === 'flip') bytes[at] = bytes[at]! ^ (1 << (d.byte % 8));
  else if (d.op === 'cut') return bytes.subarray(0, at);
  else if (d.op === 'insert') return Buffer.concat([bytes.subarray(0, at), Buffer.from([d.byte]), bytes.subarray(at)]);
  else return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1)]);
  return bytes;
}

/** Random bytes, random text, random JSON: what a broken or hostile client sends. */
export const garbage: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
  fc.string({ maxLength: 200 }).map((s) => Buffer.from(s)),
  fc.string({ unit: 'binary', maxLength: 100 }).map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
  fc.constantFrom(
    Buffer.alloc(0),
    Buffer.from('null'),
    Buffer.from('{}'),
    Buffer.from('[]'),
    Buffer.from('{"__proto__":{"polluted":1}}'),
    Buffer.from('{"constructor":{"prototype":{"polluted":1}}}'),
  ),
);

/**
 * The mix every JSON boundary gets: mutations of its valid inputs (as JSON, some with damaged
 * bytes) and garbage. `valids` are the well-formed examples the mutations start from.
 */
export function jsonInputs(valids: readonly unknown[]): fc.Arbitrary<Buffer> {
  const base = fc.constantFrom(...valids);
  const mutated = mutationsOf(...valids).map((v) => Buffer.from(toJsonText(v)));
  const damaged = fc.tuple(base, byteDamage).map(([v, d]) => damage(JSON.stringify(v), d));
  return fc.oneof(
    { weight: 60, arbitrary: mutated },
    { weight: 20, arbitrary: damaged },
    { weight: 15, arbitrary: garbage },
    { weight: 5, arbitrary: base.map((v) => Buffer.from(JSON.stringify(v))) },
  );
}

/** After a run: nothing polluted Object.prototype (a `__proto__` key that reached an assignment). */
export function prototypeIsClean(): boolean {
  const probe = {} as Record<string, unknown>;
  return probe.polluted === undefined && Object.keys(Object.prototype).length === 0;
}
