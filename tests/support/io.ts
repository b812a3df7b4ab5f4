import type { Io } from '../../shared/platform/command.js';

export interface CapturedIo extends Io {
  outLines: string[];
  errLines: string[];
  /** Both streams, as a terminal would show them. */
  text(): string;
}

/** A command's stdout and stderr, kept in memory. */
export function captureIo(): CapturedIo {
  const outLines: string[] = [];
  const errLines: string[] = [];
  const lines: string[] = [];
  return {
    outLines,
    errLines,
    out: (t) => {
      outLines.push(t);
      lines.push(t);
    },
    err: (t) => {
      errLines.push(t);
      lines.push(t);
    },
    text: () => lines.join('\n'),
  };
}
