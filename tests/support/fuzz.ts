import fc from 'fast-check';
import { TestRunner } from 'vitest';
import { fuzzFull, fuzzSeed } from './fuzz-seed.js';

/**
 * How many generated inputs each fuzz test (tests/fuzz) gets, and from which seeds: the one place
 * that decides it.
 *
 * - `npm test` (CI too): every property runs its slice, half of it from a fixed seed (the same
 *   draws in every run, so what passed before is tried again) and half from a seed taken from the
 *   commit (new inputs at each commit, the same ones when that commit runs again). The slices are
 *   sized for about 1 minute of the `fuzz` project and 20 s of `fuzz-pg` on the reference 2-core
 *   machine (cheap pure parsers still get their 100,000 inputs).
 * - `npm run fuzz` (FUZZ_FULL=1): every parser its full set, 100,000 inputs, from the run's seed;
 *   by hand or nightly (about 8 minutes).
 *
 * The run's seed (FUZZ_SEED, or the commit's: tests/support/fuzz-seed.ts) is printed at the start
 * and in every failure, with the command that replays it; tests/fuzz/kit.ts draws its pool of odd
 * values from it too. FUZZ_SCALE shrinks every count while working on a test (FUZZ_SCALE=0.01).
 * The `fuzz-pg` project sets FUZZ_SLICES_ONLY=1: the hub's parsers on PostgreSQL get their
 * slices, never the full sets (those run on SQLite).
 */
export const FULL_RUNS = 100_000;
const FULL = fuzzFull();
const RUN_SEED = fuzzSeed();
/** The fixed slice's seed, whatever the commit. */
const FIXED_SEED = 20_261_123;
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** On PostgreSQL (the `fuzz-pg` project): each input costs the hub's parsers round trips to the server. */
const ON_POSTGRES = process.env.TESSERA_TEST_HUB_DB === 'postgres';

/**
 * How many inputs a parser gets in this run: its `slice` under `npm test` (its `postgres` slice,
 * if it has one, in the `fuzz-pg` project), its `full` set (100,000 unless a parser's inputs are
 * split between ways in) under `npm run fuzz`.
 */
export function inputs(slice: number, sets: { full?: number; postgres?: number } = {}): number {
  const count = FULL ? (sets.full ?? FULL_RUNS) : ON_POSTGRES ? (sets.postgres ?? slice) : slice;
  return Math.max(1, Math.round(count * SCALE));
}

/** One of `parts` tests that share a parser's `total` inputs. */
export const part = (total: number, parts: number) => Math.ceil(total / parts);

type Slice = { name: 'fixed' | 'seeded' | 'full'; seed: number; count: number };

/** FNV-1a: a test's name as 32 bits, so that each property (and each part of one) gets inputs of its own. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Properties checked so far in each test: a second one in the same test gets other seeds. */
const calls = new Map<string, number>();

function slicesOf(count: number): Slice[] {
  const test = TestRunner.getCurrentTest();
  const key = `${test?.fullName ?? ''}#${calls.get(test?.id ?? '') ?? 0}`;
  calls.set(test?.id ?? '', (calls.get(test?.id ?? '') ?? 0) + 1);
  const seeded = hash(key) ^ (RUN_SEED >>> 0);
  if (FULL) return [{ name: 'full', seed: seeded | 0, count }];
  const fixed = Math.ceil(count / 2);
  return [
    { name: 'fixed' as const, seed: (hash(key) ^ FIXED_SEED) | 0, count: fixed },
    { name: 'seeded' as const, seed: seeded | 0, count: count - fixed },
  ].filter((s) => s.count > 0);
}

/** The line that runs this test file again with the same inputs. */
function replay(): string {
  const file = TestRunner.getCurrentTest()?.file;
  return `${FULL ? 'FUZZ_FULL=1 ' : ''}FUZZ_SEED=${RUN_SEED} npx vitest run --project ${file?.projectName ?? 'fuzz'} ${file?.name ?? 'FILE'}`;
}

const shorten = (text: string) =>
  text.length > 600 ? `${text.slice(0, 300)} … (${text.length} chars) … ${text.slice(-200)}` : text;

/**
 * fast-check's settings for one slice. A failure names the run's seed, the line that replays it,
 * the property's own seed and path, and the input cut to a readable length (a 40 kB
 * counterexample would bury the assertion that failed).
 */
function settings<Ts>(slice: Slice): fc.Parameters<Ts> {
  return {
    numRuns: slice.count,
    seed: slice.seed,
    endOnFailure: true,
    reporter(details) {
      if (!details.failed) return;
      const show = (v: unknown) =>
        Buffer.isBuffer(v) ? `Buffer(${JSON.stringify(v.toString('utf8'))})` : fc.stringify(v);
      const input = shorten(((details.counterexample ?? []) as unknown[]).map(show).join(', '));
      const cause =
        details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      const path = details.counterexample === null ? '' : details.counterexamplePath;
      throw new Error(
        `failed after ${details.numRuns} inputs of the ${slice.name} slice (FUZZ_SEED=${RUN_SEED}; property seed ${details.seed}, path "${path}")\n` +
          `replay: ${replay()}\n${shorten(cause)}\ninput: ${input}`,
      );
    },
  };
}

/**
 * Checks `property` against `count` generated inputs, in this run's slices: returns a promise
 * for an async property, like fc.assert.
 */
export function fuzz<Ts>(property: fc.IAsyncProperty<Ts>, count: number): Promise<void>;
export function fuzz<Ts>(property: fc.IProperty<Ts>, count: number): void;
export function fuzz<Ts>(property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>, count: number): void | Promise<void> {
  const slices = slicesOf(count);
  if (property.isAsync()) {
    return (async () => {
      for (const slice of slices) await fc.assert(property as fc.IAsyncProperty<Ts>, settings<Ts>(slice));
    })();
  }
  for (const slice of slices) fc.assert(property as fc.IProperty<Ts>, settings<Ts>(slice));
}
