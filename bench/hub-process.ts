import { spawnCli, waitForOutput } from '../tests/harness/process.js';
import { sleep } from '../tests/support/sleep.js';

/** A hub started by the scale benchmarks: its own process, as `tessera hub` runs. */
export type HubProcess = { child: ReturnType<typeof spawnCli>; apiUrl: string };

/** Liveness bound (not a performance threshold). */
const START_TIMEOUT_MS = 30_000;

export async function startHubProcess(args: string[]): Promise<HubProcess> {
  const child = spawnCli(['hub', ...args, '--api-port', '0'], {
    TESSERA_LOG_LEVEL: 'warn',
    TESSERA_INITIAL_ADMIN_PASSWORD: 'bench-admin-password',
  });
  const [, apiUrl] = await waitForOutput(child, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/, START_TIMEOUT_MS);
  return { child, apiUrl: apiUrl ?? '' };
}

/** SIGTERM, then SIGKILL past 5 s; resolves once the process is gone. */
export async function stopHubProcess(p: Pick<HubProcess, 'child'>): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill('SIGTERM');
  if ((await Promise.race([exited.then(() => 'exited'), sleep(5000)])) === 'exited') return;
  p.child.kill('SIGKILL');
  await exited;
}

type Health = { sites: number; ingest: { received: number; batches: number; storeErrors: number } };
export const health = async (apiUrl: string): Promise<Health> =>
  (await (await fetch(`${apiUrl}/health`)).json()) as Health;
