import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchPostgresMissing } from '../../bench/pg.js';
import { pcscAvailability } from '../fixtures/pcscd.js';

/** Sizes small enough for the whole of `npm run bench` to run in seconds (dist/, built by tests/build-once.ts). */
const TINY = {
  BENCH_MEMBERS: '200',
  BENCH_EVENTS: '2000',
  BENCH_TAPS: '300',
  BENCH_PCSC_TAPS: '3',
  BENCH_PCSC_BUDGET_MS: '15000',
  BENCH_PERSONALISE_CARDS: '1',
  BENCH_SYNC_SITES: '3',
  BENCH_SYNC_SCALE: '0.002',
  BENCH_SYNC_REVOCATIONS: '3',
  BENCH_SYNC_BACKLOG: '500',
  BENCH_BILLING_EVENTS: '4000',
  BENCH_BILLING_MEMBERS: '60',
  BENCH_BILLING_SITES: '4',
  BENCH_DASHBOARD_TAPS: '4',
  BENCH_DASHBOARD_LOADS: '1',
  BENCH_SCALE_SITES: '3',
  BENCH_SCALE_EVENTS: '300',
  BENCH_SCALE_CONNECT: '20',
  BENCH_IMPORT_ROWS: '500',
  BENCH_INVOICE_DOCUMENTS: '5',
  BENCH_AVAILABILITY_SITES: '4',
  BENCH_AVAILABILITY_RESOURCES: '40',
  BENCH_AVAILABILITY_BOOKINGS: '2000',
  BENCH_AVAILABILITY_CANCELLED: '200',
  BENCH_AVAILABILITY_ITERATIONS: '5',
};

/** The sections that measure something, by the start of their heading, and when one may say `skipped:`. */
const SECTIONS: Array<{ heading: string; mayBeSkipped?: () => Promise<boolean> | boolean }> = [
  { heading: '## Tap → relay command' },
  { heading: '## Edge memory with a directory file' },
  { heading: '## NTAG 424 DNA verification' },
  { heading: '## Tap → relay through pcscd', mayBeSkipped: async () => !(await pcscAvailability()).ok },
  {
    heading: '## Personalising an NTAG 424 DNA through pcscd',
    mayBeSkipped: async () => !(await pcscAvailability()).ok,
  },
  { heading: '#### live traffic' },
  { heading: '#### catch-up' },
  { heading: '### Revocation latency' },
  { heading: '### Backlog drain' },
  { heading: '### Ingest through Mosquitto with 1 and 2 hub instances', mayBeSkipped: () => process.env.CI !== 'true' },
  { heading: '### Sites connecting at once' },
  { heading: '## Billing: closing a month' },
  { heading: '### Tap at the edge → occupancy change' },
  { heading: '## Big members import' },
  {
    heading: '### Dashboard first load',
    mayBeSkipped: () => !existsSync(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
  },
  { heading: '## Invoice documents' },
  { heading: '### Availability on SQLite' },
  { heading: '### Availability on PostgreSQL', mayBeSkipped: async () => (await benchPostgresMissing()) !== undefined },
];

function run(
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/bench/run.js'], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the bench did not finish within ${timeoutMs} ms:\n${out.stdout}\n${out.stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ...out });
    });
  });
}

/** Each heading's block, up to the next heading: the leaves are the measured sections. */
function blocks(markdown: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (/^#{2,4} /.test(line)) out.set(line, (current = []));
    else current?.push(line);
  }
  return out;
}

/**
 * Why a measured section falls short: no baseline row (a "baseline", or the "floor" the ingest
 * bench measures), no ratio (a "ratio", or a bold row "A / B"), or a figure that is not a number.
 */
function shortcomings(lines: string[]): string[] {
  const table = lines.filter((l) => l.startsWith('|'));
  const cells = table.flatMap((l) => l.split('|').map((c) => c.replace(/\*/g, '').trim()));
  return [
    ...(table.some((l) => /baseline|floor/i.test(l)) ? [] : ['no baseline row']),
    ...(table.some((l) => /ratio/i.test(l) || /^\| \*\*[^|]+ \/ [^|]+\*\* \|/.test(l))
      ? []
      : ['no ratio row or column']),
    ...(cells.some((c) => /^\d[\d.,]*\s*(×|%)/.test(c)) ? [] : ['no ratio figure (N× or N %)']),
    ...(table.some((l) => /NaN|Infinity/.test(l)) ? ['a figure is NaN or Infinity'] : []),
  ];
}

describe('npm run bench (tiny sizes)', () => {
  it(
    'prints and writes every section with a baseline measured in the same run and a ratio, under the machine lines',
    { timeout: 150_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-smoke-'));
      const file = join(dir, 'RESULTS.md');
      try {
        const result = await run({ ...TINY, BENCH_RESULTS: file }, 140_000);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toContain(`written to ${file}`);
        const md = readFileSync(file, 'utf8');
        expect(md).toMatch(/^# Benchmark results\n/);
        expect(md).toMatch(/^- run: \d{4}-\d\d-\d\dT.*, \d+ s in all; commit \S+/m);
        expect(md).toMatch(/^- CPU: .+, \d+ logical core\(s\)$/m);
        expect(md).toMatch(/^- memory: [\d.]+ GiB; Linux .+; Node v\d+/m);
        expect(md).toMatch(/^- load average at the start \(1, 5, 15 min\): [\d.]+, [\d.]+, [\d.]+$/m);
        expect(md).toMatch(/^- load average at the end: [\d.]+, [\d.]+, [\d.]+/m);
        expect(md).toContain('- sizes: BENCH_AVAILABILITY_BOOKINGS=2000, ');

        const found = blocks(md);
        for (const { heading, mayBeSkipped } of SECTIONS) {
          const entry = [...found].find(([h]) => h.startsWith(heading));
          expect(entry, `a section "${heading}"`).toBeDefined();
          const lines = entry?.[1] ?? [];
          // What the file holds, the console printed too.
          expect(result.stdout).toContain([entry?.[0], ...lines.slice(0, 3)].join('\n'));
          const skipped = lines.find((l) => l.startsWith('skipped:'));
          if (skipped) {
            expect(await mayBeSkipped?.(), `${heading}: ${skipped}`).toBe(true);
            continue;
          }
          expect(shortcomings(lines), heading).toEqual([]);
        }
        // No measured section beyond those: each leaf is one of them (a new bench must be added above).
        const leaves = [...found]
          .filter(([, lines]) => lines.some((l) => l.startsWith('|') || l.startsWith('skipped:')))
          .map(([h]) => h);
        for (const h of leaves)
          expect(
            SECTIONS.some((s) => h.startsWith(s.heading)),
            `unexpected section ${h}`,
          ).toBe(true);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
