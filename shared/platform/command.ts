/** What every `tessera` subcommand is: a name, one line of help, and a run function. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export interface Command {
  /** Words that select it, e.g. `config validate`. */
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: Io): Promise<number>;
}

/** Process exit codes; systemd's RestartPreventExitStatus names CONFIG_INVALID and STORE_CORRUPT. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  CONFIG_INVALID: 2,
  /** The site's database is damaged or not a database: a restart would fail the same way. */
  STORE_CORRUPT: 3,
  USAGE: 64,
} as const;
