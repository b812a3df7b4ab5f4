import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { runEdge } from '../edge/site/run.js';
import { silent } from '../tests/support/logger.js';
import { peakRssMb, vmRssMb } from './process-memory.js';

/** Members (one badge each) in the big directory file; the small one has SMALL. */
const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 100_000);
const SMALL = 10;
/** Badges tapped by each child once its edge is up. */
const TAPS = 20;
/** Liveness bound of each measuring child (not a performance threshold). */
const CHILD_TIMEOUT_MS = 900_000;

const uidOf = (i: number) => `04${i.toString(16).padStart(12, '0').toUpperCase()}`;

/** A directory file as an operator would write it: YAML, two plans, `n` members and their badges. */
function directoryYaml(n: number): string {
  const lines = [
    'revision: 1',
    'plans:',
    '  - {id: always, name: "24/7", access: always}',
    '  - {id: two-days, name: "2 days", access: always, daysPerWeek: 2}',
    'members:',
  ];
  for (let i = 0; i < n; i++)
    lines.push(`  - {id: m${i}, name: "Member ${i}", plan: ${i % 10 === 0 ? 'two-days' : 'always'}}`);
  lines.push('badges:');
  for (let i = 0; i < n; i++) lines.push(`  - {uid: "${uidOf(i)}", member: m${i}}`);
  return `${lines.join('\n')}\n`;
}

function siteYaml(directory: string, storage: string): string {
  return [
    'version: 2',
    'site: {id: bench, name: Bench, timeZone: Europe/Paris, capacity: 100000}',
    'readers:',
    '  - {id: in, match: in, role: entry, door: front}',
    '  - {id: out, match: out, role: exit, door: front}',
    'doors:',
    '  - {id: front, relay: {line: 17}}',
    `directory: {source: file, path: "${directory}"}`,
    `storage: {path: "${storage}"}`,
    'api: {host: 127.0.0.1, port: 0}',
    '',
  ].join('\n');
}

/**
 * How long after the GC the RSS is read. V8 hands the pages a GC freed back to the system on a
 * background thread: read at once, the RSS of an edge that just parsed a big file still counts
 * tens of MB about to go (188 MB at once, 151 MB 1 s later and still 151 MB after 3 s and
 * another GC, for 100,000 members in YAML).
 */
const SETTLE_MS = 1_000;

interface Measured {
  /** VmRSS after the taps, a full GC and SETTLE_MS, in MB. */
  rssMb: number;
  /** VmRSS right after the GC, in MB. */
  rssAtGcMb: number;
  /** Peak RSS of the process, in MB. */
  maxRssMb: number;
  /** V8 heap used after the GC, in MB. */
  heapMb: number;
  startMs: number;
  granted: number;
}

/** In the child: starts the edge on simulated hardware, taps, collects garbage, reports. */
async function child(configPath: string, members: number): Promise<void> {
  const t0 = performance.now();
  const running = await runEdge({ configPath, simulate: true, log: silent });
  const startMs = performance.now() - t0;
  let granted = 0;
  for (let i = 0; i < TAPS; i++) {
    const res = await fetch(`${running.url}/simulate/tap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reader: i % 2 ? 'out' : 'in', uid: uidOf((i * 7919) % members) }),
    });
    if (((await res.json()) as { granted?: boolean }).granted === true) granted++;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run the edge-memory child with --expose-gc');
  gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
  const rssAtGcMb = vmRssMb();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const result: Measured = {
    rssMb: vmRssMb(),
    rssAtGcMb,
    maxRssMb: peakRssMb(),
    heapMb: process.memoryUsage().heapUsed / 2 ** 20,
    startMs,
    granted,
  };
  await running.stop();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function measureInChild(configPath: string, members: number): Measured {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), '--child', configPath, String(members)],
    {
      encoding: 'utf8',
      timeout: CHILD_TIMEOUT_MS,
    },
  );
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !last.startsWith('{'))
    throw new Error(`edge-memory child (${members} members) failed: ${r.stderr || r.stdout}`);
  return JSON.parse(last) as Measured;
}

const mb = (x: number) => `${x.toFixed(0)} MB`;

/**
 * An edge's memory with a directory file of MEMBERS members and badges, against the same edge
 * with ten: each in its own process (RSS after a GC, and the peak), at its first start and
 * after a restart on the same store.
 */
export function benchEdgeMemory(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-memory-'));
  try {
    const setup = (n: number, format: 'yaml' | 'json') => {
      const directory = join(dir, `directory-${n}.${format}`);
      writeFileSync(directory, format === 'yaml' ? directoryYaml(n) : JSON.stringify(YAML.parse(directoryYaml(n))));
      const config = join(dir, `site-${n}-${format}.yaml`);
      writeFileSync(config, siteYaml(directory, join(dir, `edge-${n}-${format}.db`)));
      return config;
    };
    const measure = (n: number, format: 'yaml' | 'json') => {
      const config = setup(n, format);
      return { first: measureInChild(config, n), restart: measureInChild(config, n) };
    };
    const small = measure(SMALL, 'yaml');
    const big = measure(MEMBERS, 'yaml');
    const bigJson = measure(MEMBERS, 'json');
    const line = (label: string, m: Measured, base: Measured) =>
      `| ${label} | ${mb(m.rssMb)} | ${(m.rssMb / base.rssMb).toFixed(2)}× | ${mb(m.rssAtGcMb)} | ${(m.rssAtGcMb / base.rssAtGcMb).toFixed(2)}× | ${mb(m.maxRssMb)} | ${(m.maxRssMb / base.maxRssMb).toFixed(2)}× | ${mb(m.heapMb)} | ${(m.startMs / 1000).toFixed(1)} s | ${m.granted}/${TAPS} |`;
    return [
      `## Edge memory with a directory file of ${MEMBERS.toLocaleString('en')} members and badges`,
      `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; simulated hardware, each edge in its own process, RSS after the taps, a full GC and ${SETTLE_MS / 1000} s (goal: at most 1.5× the baseline's), and right after the GC`,
      '',
      '| edge | RSS | ratio | RSS right after the GC | ratio | peak RSS | ratio | V8 heap used | start | granted taps |',
      '|---|---|---|---|---|---|---|---|---|---|',
      line(`baseline: ${SMALL} members, first start`, small.first, small.first),
      line(`baseline: ${SMALL} members, restart`, small.restart, small.restart),
      line(`${MEMBERS.toLocaleString('en')} members, first start`, big.first, small.first),
      line(`${MEMBERS.toLocaleString('en')} members, restart`, big.restart, small.restart),
      line(`${MEMBERS.toLocaleString('en')} members, the same as JSON, first start`, bigJson.first, small.first),
      line(`${MEMBERS.toLocaleString('en')} members, the same as JSON, restart`, bigJson.restart, small.restart),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [what, config, members] = process.argv.slice(2);
  if (what === '--child' && config && members) await child(config, Number(members));
  else process.stdout.write(`${benchEdgeMemory().join('\n')}\n`);
}
