import { collectDefaultMetrics, Registry } from 'prom-client';
import { type MetricFamily, renderExposition } from './metrics.js';
import { VERSION } from './package-root.js';

/**
 * The process's own figures for /metrics on the hub and the edge: prom-client's default
 * collectors (`process_*`: CPU, resident memory, open file descriptors, start time; `nodejs_*`:
 * heap, event-loop delay, GC, active handles), in a registry of our own rather than
 * prom-client's global one. One per process, made on the first scrape: the figures are the
 * process's, whatever number of hubs or edges a test runs in it, and its GC observer and
 * event-loop histogram are set up once.
 */
let runtime: Registry | undefined;

function runtimeRegistry(): Registry {
  if (runtime === undefined) {
    // Text format 0.0.4, prom-client's default: the same as ours (PROMETHEUS_CONTENT_TYPE).
    runtime = new Registry();
    collectDefaultMetrics({ register: runtime });
  }
  return runtime;
}

/** `tessera_build_info{version,node} 1`: which release and which Node answer this scrape. */
export const buildInfo = (): MetricFamily => ({
  name: 'tessera_build_info',
  help: 'Always 1: the Tessera version and the Node.js version of this process.',
  type: 'gauge',
  samples: [{ labels: { version: VERSION, node: process.versions.node }, value: 1 }],
});

/**
 * A whole /metrics answer: `families` (ours, written by metrics.ts) then the build info and the
 * runtime's. Our names all start with `tessera_`, prom-client's with `process_` or `nodejs_`: no
 * family is written twice.
 */
export async function exposition(families: readonly MetricFamily[]): Promise<string> {
  return renderExposition([...families, buildInfo()]) + (await runtimeRegistry().metrics());
}
