/** The most rows one multi-row statement carries (a few hundred bound values on either store). */
export const MAX_ROWS_PER_STATEMENT = 256;

/**
 * `rows` cut into chunks of a power of two each, largest first, none above `max`: a multi-row
 * statement is then written in at most log2(max) + 1 shapes, so the adapters, which prepare
 * one statement per SQL text, keep a handful of texts per statement, not one per row count.
 */
export function powerOfTwoChunks<T>(rows: readonly T[], max = MAX_ROWS_PER_STATEMENT): T[][] {
  const chunks: T[][] = [];
  let at = 0;
  while (at < rows.length) {
    let size = 1;
    while (size * 2 <= Math.min(max, rows.length - at)) size *= 2;
    chunks.push(rows.slice(at, at + size));
    at += size;
  }
  return chunks;
}

/** `count` rows of `row` (a parenthesised tuple of placeholders), for a VALUES list. */
export const valuesOf = (count: number, row: string): string => Array.from({ length: count }, () => row).join(', ');
