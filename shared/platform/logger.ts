import { fstatSync } from 'node:fs';
import pino from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured logs: JSON lines for machines, pretty only on a terminal.
 * `TESSERA_LOG_LEVEL` sets the level (default info).
 *
 * Under systemd each line starts with its syslog priority, `<3>{"level":50,...}`: journald takes
 * the prefix off and files the line at that priority, so `journalctl -p err` finds the errors.
 */
export function createLogger(name: string, level = process.env.TESSERA_LOG_LEVEL ?? 'info'): Logger {
  if (process.stdout.isTTY)
    return pino(
      { name, level },
      pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }),
    );
  if (!stdoutIsJournal(process.env.JOURNAL_STREAM)) return pino({ name, level });
  return pino({ name, level, hooks: { streamWrite: withJournalPriority } });
}

/**
 * Whether stdout is the journal's stream: systemd sets JOURNAL_STREAM to its `device:inode`.
 * A child whose stdout was redirected elsewhere inherits the variable, hence the comparison.
 */
function stdoutIsJournal(journalStream: string | undefined): boolean {
  if (!journalStream) return false;
  try {
    const { dev, ino } = fstatSync(1, { bigint: true });
    return journalStream === `${dev}:${ino}`;
  } catch {
    return false;
  }
}

/** pino's levels as sd-daemon prefixes: trace and debug 7, info 6, warn 4, error 3, fatal 2. */
const PRIORITY: Record<string, string> = {
  '10': '<7>',
  '20': '<7>',
  '30': '<6>',
  '40': '<4>',
  '50': '<3>',
  '60': '<2>',
};
const LEVEL_AT = '{"level":'.length;

/** pino writes the level first; a line that does not start so is filed as info. */
function withJournalPriority(line: string): string {
  return (PRIORITY[line.slice(LEVEL_AT, LEVEL_AT + 2)] ?? '<6>') + line;
}
