/**
 * CSV files people open in a spreadsheet (members, invoices): the one writer every export uses,
 * in two dialects, and the cells' guard against formulas.
 *
 * A cell a spreadsheet would run as a formula gets a leading `'` (OWASP "CSV injection"): one
 * whose first character, after any blanks and control characters, is `=`, `+`, `-`, `@` or their
 * full-width forms, one that starts with a tab, CR or LF (a reader that ends a row at a lone CR
 * or LF would start a new cell there), and one already so prefixed, so that taking one `'` off
 * gives the text back.
 */
const FORMULA = /^'*(?:[\t\r\n]|[\s\p{Cc}\uFEFF]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20])/u;

/** The text with a leading `'` if a spreadsheet could run it as a formula. */
export function neutraliseFormula(text: string): string {
  return FORMULA.test(text) ? `'${text}` : text;
}

/** The text neutraliseFormula was given: one `'` taken off a neutralised cell, anything else as is. */
export function restoreFormula(cell: string): string {
  return cell.startsWith("'") && FORMULA.test(cell) ? cell.slice(1) : cell;
}

/**
 * How a CSV file is written. `rfc4180` (the default): commas, a decimal point, no BOM.
 * `excel-fr`, for Excel set up in French (which splits a line at `;` and reads `12,50` as a
 * number): semicolons, a decimal comma, and a UTF-8 byte order mark, without which Excel reads
 * the file as Windows-1252 and garbles every accent. Both end lines with CRLF and quote as RFC 4180.
 */
export const CSV_DIALECTS = ['rfc4180', 'excel-fr'] as const;
export type CsvDialect = (typeof CSV_DIALECTS)[number];

const RULES: Record<CsvDialect, { delimiter: string; decimalComma: boolean; bom: string }> = {
  rfc4180: { delimiter: ',', decimalComma: false, bom: '' },
  'excel-fr': { delimiter: ';', decimalComma: true, bom: '\uFEFF' },
};

/** A number cell: its decimal text with a point (`-12.05`, `5.5`), written with the dialect's separator. */
export interface CsvNumber {
  readonly decimal: string;
}

/** A text cell (neutralised, quoted when needed) or a number cell (never neutralised: `-2.00` is a number). */
export type CsvCell = string | CsvNumber;

/** A number cell of this decimal text (a point before the decimals). */
export const csvNumber = (decimal: string | number): CsvNumber => ({ decimal: String(decimal) });

/** A decimal text with a comma instead of its point (`12.05` is `12,05`). */
export const decimalComma = (decimal: string): string => decimal.replace('.', ',');

function cellText(cell: CsvCell, delimiter: string, comma: boolean): string {
  if (typeof cell !== 'string') return comma ? decimalComma(cell.decimal) : cell.decimal;
  const safe = neutraliseFormula(cell);
  return safe.includes('"') || safe.includes(delimiter) || /[\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** A CSV file's text: the header, then the rows, each line ended by CRLF; a BOM first for `excel-fr`. */
export function csvDocument(
  header: readonly string[],
  rows: Iterable<readonly CsvCell[]>,
  dialect: CsvDialect = 'rfc4180',
): string {
  const { delimiter, decimalComma: comma, bom } = RULES[dialect];
  const line = (cells: readonly CsvCell[]) => `${cells.map((c) => cellText(c, delimiter, comma)).join(delimiter)}\r\n`;
  let out = bom + line(header);
  for (const row of rows) out += line(row);
  return out;
}
