import { execFileSync } from 'node:child_process';

/**
 * Tests that spawn processes (kill -9, signals, the CLI) run the compiled code in dist/: build it
 * once before any test so it is never stale.
 */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
}
