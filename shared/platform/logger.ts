import pino from 'pino';
import type { Logger } from 'pino';
import pretty from 'pino-pretty';

/**
 * Structured logs: JSON lines for machines, pretty only on a terminal.
 * `TESSERA_LOG_LEVEL` sets the level (default info).
 */
export function createLogger(name: string, level = process.env.TESSERA_LOG_LEVEL ?? 'info'): Logger {
  if (process.stdout.isTTY)
    return pino(
      { name, level },
      pretty({ sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }),
    );
  return pino({ name, level });
}
