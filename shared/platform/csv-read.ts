/**
 * Reading CSV files as people's spreadsheets write them: commas or semicolons (Excel in French
 * writes `;`), with or without a byte order mark, CRLF or LF, in UTF-8, or in Windows-1252 (what
 * Excel's plain "CSV" saves on a French Windows) or UTF-16 (its "Unicode text").
 */

/** The delimiters a file may use; the first one wins a tie. */
const DELIMITERS = [',', ';', '\t'] as const;
export type CsvDelimiter = (typeof DELIMITERS)[number];

/**
 * The delimiter of a CSV file, read from its header line: of `,`, `;` and tab, the one found
 * most often outside quotes before the first line end (a tie, or none at all: `,`). A header
 * names the columns, so a `;` or `,` in it is a delimiter unless quoted.
 */
export function detectCsvDelimiter(text: string): CsvDelimiter {
  const counts = new Map<string, number>();
  let quoted = false;
  for (let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\r' || c === '\n')) break;
    else if (!quoted) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best: CsvDelimiter = ',';
  for (const d of DELIMITERS) if ((counts.get(d) ?? 0) > (counts.get(best) ?? 0)) best = d;
  return best;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Windows-1252's characters at bytes 0x80 to 0x9F (ISO 8859-1 has control characters there);
 * the five bytes it leaves undefined stay the control character of that number. Written out
 * here: Node's TextDecoder reads 'windows-1252' as ISO 8859-1.
 */
const CP1252_HIGH = '€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8DŽ\x8F\x90‘’“”•–—˜™š›œ\x9DžŸ';

const cp1252 = (bytes: Uint8Array): string =>
  Buffer.from(bytes)
    .toString('latin1')
    .replace(/[\x80-\x9F]/g, (c) => CP1252_HIGH.charAt(c.charCodeAt(0) - 0x80));

/**
 * A file's bytes as text: UTF-16 after its byte order mark; UTF-8 when the bytes are valid
 * UTF-8 (a UTF-8 BOM is kept, for the parser to take off); Windows-1252 otherwise, which every
 * byte sequence is, and what a French Windows writes for "CSV". A file in UTF-8 is never read
 * as Windows-1252: its accents are multi-byte sequences that a Windows-1252 text almost never
 * happens to form.
 */
export function decodeCsvBytes(bytes: Uint8Array): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  try {
    return UTF8.decode(bytes);
  } catch {
    return cp1252(bytes);
  }
}
