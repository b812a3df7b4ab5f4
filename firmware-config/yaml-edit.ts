import YAML from 'yaml';
import type { Pair, YAMLMap } from 'yaml';

/**
 * Edits of a YAML (or JSON) text at the places its parsed document locates: the node ranges say
 * where a key and its value are, and only those characters change. Re-printing the document
 * instead would lose what an operator wrote around them: aligned comments, quotes, flow style.
 */

export function rootMap(doc: YAML.Document): YAMLMap {
  if (doc.errors.length > 0) throw new Error(`YAML syntax: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
  if (!YAML.isMap(doc.contents)) throw new Error('the file is not a mapping of keys to values');
  return doc.contents;
}

export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => YAML.isScalar(p.key) && p.key.value === key);
}

type Ranged = { range?: [number, number, number] | null | undefined };

function rangeOf(node: unknown): [number, number, number] {
  const range = (node as Ranged | null)?.range;
  if (!range) throw new Error('a node without a place in the text');
  return range;
}

const lineStart = (text: string, at: number) => text.lastIndexOf('\n', at - 1) + 1;
const eolOf = (text: string) => (text.includes('\r\n') ? '\r\n' : '\n');

/** The text without `pair` of `map`: its whole lines in block style, the item and a comma in flow style. */
export function removePair(text: string, map: YAMLMap, pair: Pair): string {
  const keyStart = rangeOf(pair.key)[0];
  const valueEnd = rangeOf(pair.value ?? pair.key)[1];
  if (map.flow) {
    // Up to the value's last character: what follows it belongs to the next item or the closing bracket.
    const end = valueEnd;
    const after = /^\s*,[ \t]*/.exec(text.slice(end));
    if (after) return text.slice(0, keyStart) + text.slice(end + after[0].length);
    // The last item: the comma before it goes instead.
    const before = /,\s*$/.exec(text.slice(0, keyStart));
    const start = before ? keyStart - before[0].length : keyStart;
    return text.slice(0, start) + text.slice(end);
  }
  const start = lineStart(text, keyStart);
  const from = /^[ \t]*$/.test(text.slice(start, keyStart)) ? start : keyStart;
  // In block style its whole lines go, to the end of the line where the value ends (with any
  // comment there). Not to the node's end: that can reach into the next key's indentation.
  let end = valueEnd;
  if (end > 0 && text[end - 1] !== '\n') {
    const newline = text.indexOf('\n', end);
    end = newline === -1 ? text.length : newline + 1;
  }
  return text.slice(0, from) + text.slice(end);
}

/**
 * The text with top-level `key` set to the number `value`: its value replaced when present,
 * else a first key, after the comments that open the file (with `comment` beside it in block style).
 */
export function setTopLevel(
  text: string,
  key: string,
  value: number,
  comment: string,
): { text: string; change: string } {
  const map = rootMap(YAML.parseDocument(text));
  const pair = pairOf(map, key);
  if (pair) {
    const [start, valueEnd] = rangeOf(pair.value ?? pair.key);
    const old = YAML.isScalar(pair.value) ? JSON.stringify(pair.value.value) : text.slice(start, valueEnd);
    const at = pair.value ? start : valueEnd;
    return {
      text: `${text.slice(0, at)}${pair.value ? '' : ' '}${value}${text.slice(valueEnd)}`,
      change: `${key}: ${old} → ${value}`,
    };
  }
  return { text: insertFirst(text, map, key, value, comment), change: `added ${key}: ${value}` };
}

function insertFirst(text: string, map: YAMLMap, key: string, value: number, comment: string): string {
  const eol = eolOf(text);
  const first = map.items[0];
  if (!first) {
    if (!map.flow) throw new Error('the file has no keys');
    const open = rangeOf(map)[0] + 1;
    return `${text.slice(0, open)}${JSON.stringify(key)}: ${value}${text.slice(open)}`;
  }
  const at = rangeOf(first.key)[0];
  const start = lineStart(text, at);
  const indent = text.slice(start, at);
  const ownLine = /^[ \t]*$/.test(indent);
  if (map.flow) {
    // Quoted: valid in a JSON file as in YAML.
    const item = `${JSON.stringify(key)}: ${value},`;
    return `${text.slice(0, at)}${item}${ownLine && start > rangeOf(map)[0] ? `${eol}${indent}` : ' '}${text.slice(at)}`;
  }
  // A line of its own before the first key's line (which may open with `? `), at its indentation.
  const margin = /^[ \t]*/.exec(indent)?.[0] ?? '';
  return `${text.slice(0, start)}${margin}${key}: ${value} # ${comment}${eol}${text.slice(start)}`;
}
