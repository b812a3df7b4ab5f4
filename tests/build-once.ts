import { spawnSync } from 'node:child_process';

const BUILT = Symbol.for('tessera.tests.built');

/**
 * Tests that spawn processes (kill -9, signals, the CLI) run the compiled code in dist/: build it
 * once before any test so it is never stale. tsc emits even with type errors; those are
 * `npm run check`'s to fail on (CI runs it first), so here they are only shown.
 */
export default function setup(): void {
  // Vitest runs the global set-up of the root and of every project in the run (nine builds of the
  // same tree in a whole run, 20 s of CPU each): all run in this one process, so the first builds.
  const state = globalThis as { [BUILT]?: true };
  if (state[BUILT]) return;
  state[BUILT] = true;
  const r = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    encoding: 'utf8',
  });
  if (r.error) throw r.error;
  if (r.status !== 0)
    process.stderr.write(`tsc reported type errors (dist/ was still emitted):\n${r.stdout}${r.stderr}\n`);
}
