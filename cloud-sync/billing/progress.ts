import type { ReadProgress } from './event-source.js';

export interface ProgressOutput {
  isTTY: boolean;
  write(text: string): void;
}

const WIDTH = 30;
/** A terminal bar is redrawn at most this often. */
const REDRAW_MS = 100;
const fmt = (n: number) => n.toLocaleString('en');

/**
 * Progress of a close: on a terminal, a bar redrawn in place per phase; elsewhere (a log, a
 * pipe), one line when a phase starts, at each quarter, and when it ends.
 */
export function progressReporter(out: ProgressOutput, now: () => number = Date.now): ReadProgress {
  let phase = '';
  let lastDraw = -Infinity;
  let lastQuarter = -1;
  return (name, done, total) => {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const finished = done >= total;
    if (name !== phase) {
      if (out.isTTY && phase !== '') out.write('\n');
      phase = name;
      lastDraw = -Infinity;
      lastQuarter = -1;
    }
    if (out.isTTY) {
      if (!finished && now() - lastDraw < REDRAW_MS) return;
      lastDraw = now();
      const filled = Math.round(fraction * WIDTH);
      out.write(
        `\r${name.padEnd(22)} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${fmt(done)}/${fmt(total)}`,
      );
      return;
    }
    const quarter = Math.floor(fraction * 4);
    if (quarter === lastQuarter) return;
    lastQuarter = quarter;
    out.write(`billing: ${name}: ${quarter * 25}% (${fmt(done)}/${fmt(total)})\n`);
  };
}
