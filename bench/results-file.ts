import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem } from 'node:os';

/**
 * `bench/RESULTS.md`: the sections `npm run bench` prints, under what a reader needs to weigh
 * them: when, which commit, the machine, how loaded it was, and the sizes asked for.
 */
export function machineLines(): string[] {
  const cpu = cpus();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
  return [
    `- CPU: ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} logical core(s)`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Linux ${release()}; Node ${process.version}`,
    `- load average at the start (1, 5, 15 min): ${load}`,
  ];
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return dirty ? `${head} with uncommitted changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** The BENCH_* sizes set for this run; the others took their defaults (bench/README.md). */
function sizes(env: NodeJS.ProcessEnv): string {
  const set = Object.entries(env)
    .filter(([k, v]) => k.startsWith('BENCH_') && k !== 'BENCH_RESULTS' && v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  return set.length === 0 ? 'the defaults (bench/README.md)' : `${set.join(', ')}; the rest the defaults`;
}

export function resultsMarkdown(opts: {
  startedAt: Date;
  seconds: number;
  machine: string[];
  sections: string[][];
  env: NodeJS.ProcessEnv;
}): string {
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (bench/run.ts); each figure beside its baseline measured in the same run, and their ratio.',
    '',
    `- run: ${opts.startedAt.toISOString()}, ${Math.round(opts.seconds)} s in all; commit ${commit()}`,
    ...opts.machine,
    `- load average at the end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')} (the machine may be shared: compare ratios, not absolute times)`,
    `- sizes: ${sizes(opts.env)}`,
    '',
    opts.sections.map((s) => s.join('\n')).join('\n\n'),
    '',
  ].join('\n');
}
