/**
 * CSV cells for files people open in a spreadsheet (members, invoices). A cell a spreadsheet
 * would run as a formula gets a leading `'` (OWASP "CSV injection"): one whose first character,
 * after any blanks and control characters, is `=`, `+`, `-`, `@` or their full-width forms, one
 * that starts with a tab, CR or LF (a reader that ends a row at a lone CR or LF would start a
 * new cell there), and one already so prefixed, so that taking one `'` off gives the text back.
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

/** One CSV field (RFC 4180): neutralised, then quoted if it holds a quote, a comma, a CR or an LF. */
export function csvField(text: string): string {
  const safe = neutraliseFormula(text);
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
