import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
/** Liveness bound of one section's process (not a performance threshold). */
const SECTION_TIMEOUT_MS = 30 * 60_000;
/** What a section's process hands back on its last line of output. */
interface SectionResult {
  lines: string[];
  failures: readonly string[];
}

/**
 * One section in a process of its own, as a hub or an edge runs: what the sections before it
 * left in memory (the tap's million events, the month seeded for the close) is not in its heap,
 * and their collections do not pause it.
 */
function runSection(name: string): SectionResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--section', name], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: SECTION_TIMEOUT_MS,
  });
  const out = r.stdout.trim().split('\n');
  const last = out.pop() ?? '';
  // Anything else a section printed as it ran.
  if (out.length > 0) process.stderr.write(`${out.join('\n')}\n`);
  if (r.status !== 0 || !last.startsWith('{'))
    throw new Error(`bench section ${name} failed (status ${r.status ?? r.signal}): ${r.error?.message ?? r.stdout}`);
  return JSON.parse(last) as SectionResult;
}

const [flag, sectionName = ''] = process.argv.slice(2);
if (flag === '--section') {
  const section = BENCHES[sectionName];
  if (!section) throw new Error(`no bench section ${sectionName}: ${Object.keys(BENCHES).join(', ')}`);
  // A section's own process: its lines and failed measurements, as one line of JSON.
  const lines = await section();
  process.stdout.write(`${JSON.stringify({ lines, failures: measurementFailures() } satisfies SectionResult)}\n`);
} else runAll();

function runAll(): void {
  // BENCH_ONLY=scale,sync runs those alone (while working on one hot path); by default, all.
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  const sections: string[][] = [];
  const failures: string[] = [];
  for (const name of Object.keys(BENCHES))
    if (!only || only.includes(name)) {
      const r = runSection(name);
      sections.push(r.lines);
      failures.push(...r.failures);
    }
  // A baseline that lost messages or timed out measured nothing: listed last, and the run fails.
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
}
