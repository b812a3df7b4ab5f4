/**
 * Failed measurements of this run: a baseline that lost messages or did not finish gives no
 * figure to divide by, so no ratio is printed for it; `npm run bench` lists them at the end,
 * in bench/RESULTS.md too, and exits 1.
 */
const failures: string[] = [];

/** Records a failed measurement; returns the line its section prints instead of a ratio. */
export function failedMeasurement(what: string, reason: string): string {
  failures.push(`${what}: ${reason}`);
  return `**FAILED measurement: ${reason}; no ratio**`;
}

export function measurementFailures(): readonly string[] {
  return failures;
}

/**
 * Why a baseline phase gave no figure: the broker acknowledged every publish and the
 * subscriber still lacks some (lost), or it ran out of time. Undefined when it got them all.
 */
export function baselineShortfall(
  p: { consumedMessages: number; complete: boolean; published: boolean },
  total: number,
): string | undefined {
  if (p.complete) return undefined;
  const missing = (total - p.consumedMessages).toLocaleString('en');
  return p.published
    ? `the baseline lost ${missing} of ${total.toLocaleString('en')} messages (the broker acknowledged every publish)`
    : `the baseline did not finish in time (${missing} of ${total.toLocaleString('en')} messages missing)`;
}
