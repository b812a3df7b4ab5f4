import type { Hash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { z } from 'zod';
import type { ErrorCode, ErrorDetail } from './errors.js';
import { formatPath } from './validation.js';
import { validate } from './zod-issues.js';
import { type Parsed, parseYaml, where } from './yaml-parse.js';

/**
 * Reading a YAML or JSON document that a schema then checks: the site config, the standalone
 * directory file. A bad document is an answer with every error, never an exception, so the
 * edge can refuse a reload and keep what it had (docs/architecture.md, invariant 6).
 */

export type LoadResult<T, Code extends ErrorCode = 'config.invalid' | 'config.unreadable'> =
  { ok: true; value: T } | { ok: false; code: Code; errors: ErrorDetail[] };

/** Past this depth a document is an attack or an accident; ours are five levels deep. */
const MAX_DEPTH = 64;

function why(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const FS_REASONS: Record<string, string> = {
  ENOENT: 'file not found',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'a folder in the path is not a directory',
};

/**
 * A file's text, refused (`invalid`) when it is not UTF-8: decoding it loosely would turn a
 * stray byte into U+FFFD inside a name or a path and let the file validate with a value nobody wrote.
 * `hash`, when given, is fed the text's bytes (without a byte-order mark) as they are read.
 */
export function readTextFile<Code extends ErrorCode, Invalid extends ErrorCode>(
  path: string,
  code: Code,
  invalid: Invalid,
  hash?: Hash,
): LoadResult<string, Code | Invalid> {
  let text: string | ErrorDetail;
  try {
    text = readUtf8(path, hash);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    const reason = (errno !== undefined && FS_REASONS[errno]) || why(error);
    return { ok: false, code, errors: [{ path: '(file)', message: `cannot read ${path}: ${reason}` }] };
  }
  return typeof text === 'string' ? { ok: true, value: text } : { ok: false, code: invalid, errors: [text] };
}

/**
 * Files are read and decoded a piece at a time: a buffer of a whole big file would come from malloc, and
 * once freed, glibc raises its mmap threshold to that size, so that later allocations stay in
 * the process's heap: 20 to 30 MB more resident for good after a 10 MB directory file.
 */
const PIECE = 64 * 1024;

function readUtf8(path: string, hash?: Hash): string | ErrorDetail {
  const fd = openSync(path, 'r');
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    const piece = Buffer.allocUnsafe(PIECE);
    const parts: string[] = [];
    try {
      for (let n = readSync(fd, piece); n > 0; n = readSync(fd, piece))
        parts.push(decoder.decode(piece.subarray(0, n), { stream: true }));
      parts.push(decoder.decode());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') throw error;
      return firstBadByte(readFileSync(path));
    }
    // Editors on Windows may start the file with a byte-order mark; neither parser wants it.
    const first = parts.findIndex((part) => part.length > 0);
    if (first >= 0) parts[first] = (parts[first] as string).replace(/^\uFEFF/, '');
    for (const part of parts) hash?.update(part);
    return parts.join('');
  } finally {
    closeSync(fd);
  }
}

const looseUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/** Where the first byte that is not UTF-8 is in a file that failed to decode: byte offset, line and column. */
function firstBadByte(bytes: Buffer): ErrorDetail {
  // Every character before the first U+FFFD that the file does not spell out (EF BF BD) decoded cleanly.
  const loose = looseUtf8.decode(bytes);
  let offset = 0;
  let line = 1;
  let column = 1;
  for (const char of loose) {
    if (char === '\uFFFD' && !(bytes[offset] === 0xef && bytes[offset + 1] === 0xbf && bytes[offset + 2] === 0xbd))
      break;
    offset += Buffer.byteLength(char);
    if (char === '\n') [line, column] = [line + 1, 1];
    else column++;
  }
  const byte = (bytes[offset] ?? 0).toString(16).toUpperCase().padStart(2, '0');
  return {
    path: where(line, column),
    message: `not UTF-8 text: byte 0x${byte} at byte offset ${offset} cannot be decoded; save the file as UTF-8`,
  };
}

function parseJson(text: string): Parsed {
  try {
    return { ok: true, data: JSON.parse(text) };
  } catch (error) {
    const message = why(error);
    const at = /at position (\d+)/.exec(message);
    let path = '(document)';
    if (at?.[1] !== undefined) {
      const before = text.slice(0, Number(at[1])).split('\n');
      path = where(before.length, (before.at(-1)?.length ?? 0) + 1);
    }
    return {
      ok: false,
      errors: [{ path, message: `JSON syntax: ${message.replace(/ (in JSON )?at position \d+.*$/, '')}` }],
    };
  }
}

/**
 * Aliases can make a YAML document refer to itself (`a: &x {b: *x}`); such a value cannot be
 * described in a message, and a config never needs one.
 */
function findLoop(value: unknown, path: PropertyKey[], open: Set<object>): ErrorDetail | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  if (open.has(value)) return { path: formatPath(path), message: 'a YAML alias refers to a value that contains it' };
  if (path.length >= MAX_DEPTH) return { path: formatPath(path), message: `nested more than ${MAX_DEPTH} levels deep` };
  open.add(value);
  for (const [key, child] of Object.entries(value)) {
    const loop = findLoop(child, [...path, Array.isArray(value) ? Number(key) : key], open);
    if (loop) return loop;
  }
  open.delete(value);
  return undefined;
}

/** The data in `text`: JSON when `source` ends in `.json`, YAML otherwise. */
export function parseText(text: string, source: string): Parsed {
  let parsed: Parsed;
  try {
    parsed = extname(source).toLowerCase() === '.json' ? parseJson(text) : parseYaml(text);
  } catch (error) {
    // The YAML library throws on alias bombs ("excessive alias count") and deep nesting.
    return { ok: false, errors: [{ path: '(document)', message: `cannot parse: ${why(error)}` }] };
  }
  if (!parsed.ok) return parsed;
  if (parsed.data === null || parsed.data === undefined)
    return { ok: false, errors: [{ path: '(root)', message: `${basename(source)} is empty` }] };
  const loop = findLoop(parsed.data, [], new Set());
  return loop ? { ok: false, errors: [loop] } : parsed;
}

/** Parses `text` and checks it against `schema`; `source` names it and picks the syntax. */
export function parseDocument<S extends z.ZodType, Code extends ErrorCode>(
  text: string,
  source: string,
  schema: S,
  code: Code,
): LoadResult<z.output<S>, Code> {
  const parsed = parseText(text, source);
  if (!parsed.ok) return { ok: false, code, errors: parsed.errors };
  const checked = validate(schema, parsed.data);
  return checked.ok ? checked : { ok: false, code, errors: checked.errors };
}
