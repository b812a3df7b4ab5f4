import type { CST, LineCounter } from 'yaml';
import type { ErrorDetail } from './errors.js';

/**
 * What the YAML library must never compose (found by fuzzing, docs/security.md). It composes
 * nesting recursively: a few thousand `[` or `- ` overflow its stack, and when that happens while
 * V8 compiles a regular expression the process aborts ("RegExpCompiler Allocation failed") with
 * no exit handler run, relays included. And it makes a key that is itself a collection a string
 * by writing the collection out, at every level: `? ? ? … x` of 800 bytes takes minutes.
 * The library's own tokenizer and CST parser are iterative, so the check reads the tokens first.
 */

/** Past this a document is an attack or an accident; ours are five levels deep. */
export const MAX_YAML_DEPTH = 64;

const COLLECTIONS = new Set(['block-map', 'block-seq', 'flow-collection']);

type Item = { key?: CST.Token | null; value?: CST.Token | null };

/**
 * The first place the document's tokens nest deeper than MAX_YAML_DEPTH or have a list, a mapping
 * or an alias as a key. `depth`: how deep `tokens` sit in their document (a part of it checked alone).
 */
export function yamlShapeProblem(tokens: readonly CST.Token[], lines: LineCounter, depth = 0): ErrorDetail | undefined {
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return `(line ${line}, column ${col})`;
  };
  const stack = tokens.map((token) => ({ token, depth }));
  for (let next = stack.pop(); next; next = stack.pop()) {
    const { token, depth } = next;
    if (token.type === 'document') {
      if (token.value) stack.push({ token: token.value, depth });
      continue;
    }
    if (!COLLECTIONS.has(token.type) || !('items' in token)) continue;
    if (depth >= MAX_YAML_DEPTH)
      return { path: at(token.offset), message: `nested more than ${MAX_YAML_DEPTH} levels deep` };
    for (const item of token.items as Item[]) {
      if (item.key && (COLLECTIONS.has(item.key.type) || item.key.type === 'alias')) {
        return { path: at(item.key.offset), message: 'a key must be a name, not a list, a mapping or an alias' };
      }
      if (item.key) stack.push({ token: item.key, depth: depth + 1 });
      if (item.value) stack.push({ token: item.value, depth: depth + 1 });
    }
  }
  return undefined;
}
