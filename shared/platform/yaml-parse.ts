import YAML, { type CST } from 'yaml';
import type { ErrorDetail } from './errors.js';
import { yamlShapeProblem } from './yaml-limits.js';

/**
 * YAML text to plain data, with every syntax error placed by line and column. A top-level list
 * written as a block list (a directory file's `members:` and `badges:`) is composed a few items
 * at a time while the text is read, so the library's syntax tree and document of the whole list
 * never exist at once: for 100,000 members and badges they took 560 and 230 MB, more than a Pi
 * Zero 2 W has.
 */

export type Parsed = { ok: true; data: unknown } | { ok: false; errors: ErrorDetail[] };

/** Items composed at a time; the last KEEP items stay with the parser, which may still add to them. */
const BATCH = 100;
const KEEP = 2;
/** Only a top-level key spelt plainly is streamed: its value then goes back under that very key. */
const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const where = (line: number, column: number) => `(line ${line}, column ${column})`;

interface Problem {
  offset: number;
  message: string;
}

/** The values of a top-level block list's items composed so far, by the list's offset in the text. */
class StreamedLists {
  readonly values = new Map<number, { key: string; items: unknown[] }>();
  readonly errors: Problem[] = [];

  constructor(private readonly lines: YAML.LineCounter) {}

  /** Composes the items the parser is done with, when it is inside a top-level block list. */
  take(stack: readonly CST.Token[]): ErrorDetail | undefined {
    const [doc, map, seq] = stack;
    if (doc?.type !== 'document' || map?.type !== 'block-map' || seq?.type !== 'block-seq') return undefined;
    if (seq.items.length < BATCH + KEEP) return undefined;
    const pair = map.items.at(-1);
    const key = pair?.key;
    if (!pair?.sep || pair.value || key?.type !== 'scalar' || !PLAIN_KEY.test(key.source) || key.source === '__proto__')
      return undefined;
    return this.compose(key.source, seq, seq.items.splice(0, seq.items.length - KEEP));
  }

  private compose(key: string, seq: CST.BlockSequence, items: CST.BlockSequence['items']): ErrorDetail | undefined {
    const part: CST.BlockSequence = { type: 'block-seq', offset: seq.offset, indent: seq.indent, items };
    // At the depth the list has in the document: under the document's mapping.
    const shape = yamlShapeProblem([part], this.lines, 1);
    if (shape) return shape;
    const [doc] = new YAML.Composer().compose([{ type: 'document', offset: seq.offset, start: [], value: part }]);
    if (!doc) return undefined;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) this.errors.push({ offset: e.pos[0], message: e.message });
      return undefined;
    }
    const list = this.values.get(seq.offset) ?? { key, items: [] };
    this.values.set(seq.offset, list);
    for (const item of doc.toJS() as unknown[]) list.items.push(item);
    return undefined;
  }
}

/** The text's data; a text with an alias or a directive is composed whole (see `composeWhole`). */
export function parseYaml(text: string): Parsed {
  const lines = new YAML.LineCounter();
  const parser = new YAML.Parser(lines.addNewLine);
  const streamed = new StreamedLists(lines);
  const tokens: CST.Token[] = [];
  lines.addNewLine(0);
  let scalarNext = false;
  for (const lexeme of new YAML.Lexer().lex(text)) {
    // An alias may name an anchor in items composed apart; a directive changes how all is read.
    const first = lexeme.charCodeAt(0);
    if (!scalarNext && (first === 0x2a || first === 0x25)) return composeWhole(text);
    scalarNext = lexeme === YAML.CST.SCALAR;
    for (const token of parser.next(lexeme)) tokens.push(token);
    const shape = streamed.take(parser.stack);
    if (shape) return { ok: false, errors: [shape] };
  }
  for (const token of parser.end()) tokens.push(token);
  return compose(text, tokens, lines, streamed);
}

/** The document the library composes from all the tokens at once: for texts that cannot be streamed. */
function composeWhole(text: string): Parsed {
  const lines = new YAML.LineCounter();
  const tokens = [...new YAML.Parser(lines.addNewLine).parse(text)];
  return compose(text, tokens, lines, new StreamedLists(lines));
}

/**
 * Tokens first, checked (yaml-limits.ts), then composed: nothing the library cannot compose
 * safely ever reaches its composer. The lists composed while reading go back in their place.
 */
function compose(text: string, tokens: CST.Token[], lines: YAML.LineCounter, streamed: StreamedLists): Parsed {
  const shape = yamlShapeProblem(tokens, lines);
  if (shape) return { ok: false, errors: [shape] };
  const [doc, ...more] = new YAML.Composer().compose(tokens, true, text.length);
  if (!doc) return { ok: false, errors: [{ path: '(document)', message: 'YAML syntax: no document' }] };
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return where(pos.line, pos.col);
  };
  const second = more[0]?.range[0];
  if (second !== undefined)
    return {
      ok: false,
      errors: [
        {
          path: at(second),
          message: 'YAML syntax: Source contains multiple documents; please use YAML.parseAllDocuments()',
        },
      ],
    };
  const own = doc.errors.map((e) => ({ offset: e.pos[0], message: e.message }));
  // The library's order; with errors of the lists composed apart, the order of the text.
  const problems =
    streamed.errors.length === 0 ? own : [...streamed.errors, ...own].sort((a, b) => a.offset - b.offset);
  if (problems.length > 0) {
    const errors = problems.map((e) => ({
      path: at(e.offset),
      message: `YAML syntax: ${e.message.split('\n')[0] ?? e.message}`,
    }));
    return { ok: false, errors };
  }
  return { ok: true, data: withStreamed(doc, streamed) };
}

/** The document's data, each streamed list's first items put back before those the document kept. */
function withStreamed(doc: YAML.Document.Parsed, streamed: StreamedLists): unknown {
  const data: unknown = doc.toJS();
  if (streamed.values.size === 0) return data;
  const map = doc.contents;
  if (!YAML.isMap(map) || data === null || typeof data !== 'object')
    throw new Error('streamed lists outside a mapping');
  for (const { value } of map.items) {
    const offset = YAML.isSeq(value) ? value.range[0] : -1;
    const list = streamed.values.get(offset);
    if (!list) continue;
    const kept: unknown = (data as Record<string, unknown>)[list.key];
    if (!Object.hasOwn(data, list.key) || !Array.isArray(kept)) throw new Error(`streamed list ${list.key} lost`);
    (data as Record<string, unknown>)[list.key] = [...list.items, ...(kept as unknown[])];
    streamed.values.delete(offset);
  }
  if (streamed.values.size > 0) throw new Error('a streamed list found no place in the document');
  return data;
}
