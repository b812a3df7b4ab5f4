/**
 * A CSV file read as a spreadsheet would, to check what it would run as a formula. Cells as a lenient spreadsheet import reads them: quoted fields per RFC 4180, but outside
 * quotes a lone CR or LF ends the row, as CRLF does. `delimiter`: `;` for a file for Excel in French.
 */
export function spreadsheetCells(csv: string, delimiter = ','): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < csv.length; i++) {
    const c = csv[i];
    if (quoted && c === '"' && csv[i + 1] === '"') {
      cell += '"';
      i++;
    } else if (quoted && c === '"') quoted = false;
    else if (!quoted && c === '"' && cell === '') quoted = true;
    else if (!quoted && (c === delimiter || c === '\r' || c === '\n')) {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/** A cell a spreadsheet would run: a formula character first once blanks and control characters are skipped. */
export const runsAsFormula = (cell: string) => /^[\s\p{Cc}\uFEFF]*[=+\-@\uFF1D\uFF0B\uFF0D\uFF20]/u.test(cell);

/** Text cells an attacker would try: a formula after blanks, control characters or line breaks. */
export const FORMULA_NAMES = [
  '\r=1+1',
  '\n=cmd|"/c calc"!A1',
  '\r\n+SUM(1)',
  ' =HYPERLINK("http://x")',
  '\t=1',
  '\u00a0@x',
  '\u0001-2',
  '\uFEFF=1',
  "'=already",
  '=plain',
];
