import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';

/** A process that logs once at each level with the compiled logger, its stdout a file. */
function logEachLevel(env: (stdout: { dev: bigint; ino: bigint }) => NodeJS.ProcessEnv): string[] {
  const path = join(tempDir(), 'stdout');
  const fd = openSync(path, 'w');
  try {
    const { dev, ino } = fstatSync(fd, { bigint: true });
    const logger = resolve('dist/shared/platform/logger.js');
    const script = `const { createLogger } = await import(${JSON.stringify(logger)});
      const log = createLogger('journal-test', 'trace');
      for (const level of ['trace', 'debug', 'info', 'warn', 'error', 'fatal']) log[level]({ n: 1 }, 'at ' + level);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, JOURNAL_STREAM: '', ...env({ dev, ino }) },
      stdio: ['ignore', fd, 'pipe'],
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(r.status, r.stderr).toBe(0);
  } finally {
    closeSync(fd);
  }
  return readFileSync(path, 'utf8').trimEnd().split('\n');
}

describe('log lines under systemd carry their journald priority', () => {
  it('prefixes each line with <N> when stdout is the journal stream JOURNAL_STREAM names', () => {
    const lines = logEachLevel(({ dev, ino }) => ({ JOURNAL_STREAM: `${dev}:${ino}` }));
    // After the prefix, the same JSON line as ever. (fatal flushes at once: the order may vary.)
    const byMessage = Object.fromEntries(
      lines.map((l) => [(JSON.parse(l.slice(3)) as { msg: string }).msg, l.slice(0, 3)]),
    );
    expect(byMessage).toEqual({
      'at trace': '<7>',
      'at debug': '<7>',
      'at info': '<6>',
      'at warn': '<4>',
      'at error': '<3>',
      'at fatal': '<2>',
    });
  });

  it('writes plain JSON lines without JOURNAL_STREAM, or when stdout is not that stream', () => {
    for (const env of [{}, { JOURNAL_STREAM: '1:2' }]) {
      const lines = logEachLevel(() => env);
      expect(lines).toHaveLength(6);
      for (const line of lines) expect(line).toMatch(/^\{"level":\d\d,/);
    }
  });
});
