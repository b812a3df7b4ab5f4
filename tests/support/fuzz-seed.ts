import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';

/**
 * The seed of a run's fuzz inputs: FUZZ_SEED when set (to replay a failure), otherwise the
 * commit's, the first 8 hex digits of `git rev-parse HEAD` as an integer, so each commit gets
 * inputs of its own and running that commit again gets the same. Outside a git clone: a random
 * one, printed like the others. Free of vitest: the config and the global set-up read it too.
 */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.FUZZ_SEED;
  if (given !== undefined && given !== '') {
    const seed = Number(given);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new Error(`FUZZ_SEED must be a non-negative integer, not ${JSON.stringify(given)}`);
    return seed;
  }
  return commitSeed() ?? randomInt(2 ** 32);
}

function commitSeed(): number | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return /^[0-9a-f]{8}/.test(head) ? parseInt(head.slice(0, 8), 16) : undefined;
  } catch {
    return undefined;
  }
}

/** `npm run fuzz` (FUZZ_FULL=1): every parser its full set; otherwise the slices. */
export const fuzzFull = (env: NodeJS.ProcessEnv = process.env) => env.FUZZ_FULL === '1' && env.FUZZ_SLICES_ONLY !== '1';

const ANNOUNCED = Symbol.for('tessera.tests.fuzz-seed');

/**
 * Global set-up of the fuzz projects: the seed, once at the start of the run (both projects
 * run this in the one main process), with how to replay it. vitest.config.ts has set FUZZ_SEED.
 */
export default function announceSeed(): void {
  const state = globalThis as { [ANNOUNCED]?: true };
  if (state[ANNOUNCED]) return;
  state[ANNOUNCED] = true;
  const seed = fuzzSeed();
  const mode = fuzzFull() ? 'full sets (FUZZ_FULL=1)' : 'a fixed slice and a slice from this seed';
  process.stdout.write(
    `fuzz: FUZZ_SEED=${seed}, ${mode}; a failure replays with FUZZ_SEED=${seed} npx vitest run --project fuzz FILE\n`,
  );
}
