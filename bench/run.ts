import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../shared/platform/package-root.js';
import { benchAvailability } from './availability.js';
import { benchBilling } from './billing.js';
import { benchDashboard } from './dashboard.js';
import { benchEdgeMemory } from './edge-memory.js';
import { benchImport } from './import.js';
import { benchInvoiceDocuments } from './invoice-documents.js';
import { benchNtag424 } from './ntag424.js';
import { benchPcscTap } from './pcsc-tap.js';
import { benchPersonalise } from './personalise.js';
import { measurementFailures } from './failures.js';
import { machineLines, resultsMarkdown } from './results-file.js';
import { benchScale } from './scale.js';
import { benchSync } from './sync.js';
import { benchTapLatency } from './tap-latency.js';

/**
 * `npm run bench`: every benchmark of the project, each against its baseline in the same run,
 * printed and written to bench/RESULTS.md (`BENCH_RESULTS=FILE` writes elsewhere).
 */
const startedAt = new Date();
// Read before the benches load the machine.
const machine = machineLines();
const BENCHES: Record<string, () => string[] | Promise<string[]>> = {
  tap: benchTapLatency,
  'edge-memory': benchEdgeMemory,
  ntag424: benchNtag424,
  pcsc: benchPcscTap,
  personalise: benchPersonalise,
  sync: benchSync,
  scale: benchScale,
  billing: benchBilling,
  dashboard: benchDashboard,
  import: benchImport,
  availability: benchAvailability,
  'invoice-documents': benchInvoiceDocuments,
};
// BENCH_ONLY=scale,sync runs those alone (while working on one hot path); by default, all.
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const sections: string[][] = [];
for (const [name, bench] of Object.entries(BENCHES)) if (!only || only.includes(name)) sections.push(await bench());
// A baseline that lost messages or timed out measured nothing: listed last, and the run fails.
const failures = measurementFailures();
if (failures.length > 0) sections.push(['## Failed measurements', '', ...failures.map((f) => `- ${f}`)]);
process.stdout.write(`${sections.map((s) => s.join('\n')).join('\n\n')}\n`);
const file = process.env.BENCH_RESULTS ?? join(PACKAGE_ROOT, 'bench', 'RESULTS.md');
writeFileSync(
  file,
  resultsMarkdown({
    startedAt,
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    machine,
    sections,
    env: process.env,
  }),
);
process.stdout.write(`\nwritten to ${file}\n`);
if (failures.length > 0) {
  process.stderr.write(`${failures.length} measurement(s) failed: no ratio for them (see the end of the report)\n`);
  process.exitCode = 1;
}
