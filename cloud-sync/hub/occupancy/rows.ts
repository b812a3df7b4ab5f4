/** The most rows one multi-row statement carries (a few thousand bound values at most on either store). */
export const MAX_ROWS_PER_STATEMENT = 256;

/** One multi-row statement's share of the rows: `size` rows of values, padded with rows of NULLs. */
export interface RowChunk {
  size: number;
  params: unknown[];
}

/**
 * `rows` as the values of multi-row statements, `width` values each: at most
 * MAX_ROWS_PER_STATEMENT rows per statement, padded with rows of NULLs up to a power of two,
 * which the statement leaves out (`WHERE column1 IS NOT NULL`). Each statement is then written
 * in a handful of shapes, not one per row count: the adapters prepare one per SQL text.
 */
export function rowChunks<T>(rows: readonly T[], width: number, values: (row: T) => unknown[]): RowChunk[] {
  const chunks: RowChunk[] = [];
  for (let at = 0; at < rows.length; at += MAX_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(at, at + MAX_ROWS_PER_STATEMENT);
    let size = 1;
    while (size < chunk.length) size *= 2;
    const params = chunk.flatMap(values);
    params.length = size * width;
    chunks.push({ size, params: params.fill(null, chunk.length * width) });
  }
  return chunks;
}

/**
 * A VALUES list of `size` rows as a subquery, its columns column1, column2… on both stores;
 * `row` is one parenthesised row of placeholders, typed with CAST where not text (PostgreSQL
 * reads an untyped placeholder of a VALUES list as text).
 */
export const valuesOf = (size: number, row: string): string =>
  `(VALUES ${Array.from({ length: size }, () => row).join(', ')}) AS v`;

/** The column names of a VALUES list, for a SELECT from it. */
export const valueColumns = (width: number): string =>
  Array.from({ length: width }, (_, i) => `v.column${i + 1}`).join(', ');
