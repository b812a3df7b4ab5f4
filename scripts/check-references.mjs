#!/usr/bin/env node
// The repository explains itself: no file may lean on a document kept outside it or on an
// issue number, and no relative Markdown link may point at a file that is not here. Part of
// `npm run check`. Usage: node scripts/check-references.mjs [folder] (default: the current one,
// which must be in a git work tree). Exits 1 and lists each problem as file:line when it finds any.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const TO_POINTER = 'say the rule itself, or point to a file in the repository';

/** This file spells out the patterns it looks for: the one file allowed to. */
const SELF = 'scripts/check-references.mjs';

/**
 * A document named the way this project names its top-level notes (capitals, `.md`) that is not
 * a file of the repository: one kept elsewhere, which a reader of the repository cannot open.
 */
const CAPITALISED_DOCUMENT = /\b[A-Z][A-Z0-9_-]*\.md\b/g;
/** Documents the project writes itself and git ignores: `npm run bench` writes bench/RESULTS.md. */
const GENERATED_DOCUMENTS = ['RESULTS.md'];

/** What a reference to something outside the repository looks like. */
const OUTSIDE_REFERENCES = [
  // An invariant by number is fine when the line says where the numbered list is.
  {
    pattern: /\binvariant \d/i,
    what: 'numbers an invariant without naming docs/architecture.md',
    allowedOn: (line) => line.includes('architecture.md'),
  },
  { pattern: /\bissues? \d/i, what: 'cites an issue number' },
  // A hash and a number standing alone: not `PKCS#7`, `&#160;`, `page.md#3-x` nor a quoted colour.
  { pattern: /(?<![\w&'"/#-])#\d+\b/, what: 'cites an issue number', allowedOn: (line, file) => isColour(line, file) },
];

/** A stylesheet's `#123456` is a colour, not an issue. */
function isColour(line, file) {
  if (!/\.(?:css|html)$/.test(file)) return false;
  return [...line.matchAll(/(?<![\w&'"/#-])#(\d+)\b/g)].every((m) => [3, 4, 6, 8].includes(m[1].length));
}

/** Tracked files and new ones not ignored, so that a document is checked before its first commit. */
function repositoryFiles(root) {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // Regular files only: an untracked symlink to a folder (a shared node_modules) is no document.
  return [...new Set(out.split('\0').filter(Boolean))].filter((file) => {
    const full = path.join(root, file);
    return existsSync(full) && statSync(full).isFile();
  });
}

/** The files and every folder above them, as paths relative to the root with `/`. */
function knownPaths(files) {
  const known = new Set(files);
  for (const file of files) {
    for (let dir = path.posix.dirname(file); dir !== '.'; dir = path.posix.dirname(dir)) known.add(dir);
  }
  return known;
}

function readText(root, file) {
  const bytes = readFileSync(path.join(root, file));
  return bytes.subarray(0, 8000).includes(0) ? undefined : bytes.toString('utf8');
}

function outsideReferences(file, lines, documents) {
  const problems = [];
  lines.forEach((line, index) => {
    if ([...line.matchAll(CAPITALISED_DOCUMENT)].some((m) => !documents.has(m[0])))
      problems.push({
        file,
        line: index + 1,
        message: `names a document kept outside the repository (${TO_POINTER}): ${line.trim().slice(0, 120)}`,
      });
    for (const rule of OUTSIDE_REFERENCES) {
      if (!rule.pattern.test(line) || rule.allowedOn?.(line, file)) continue;
      problems.push({ file, line: index + 1, message: `${rule.what} (${TO_POINTER}): ${line.trim().slice(0, 120)}` });
    }
  });
  return problems;
}

const INLINE_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
const LINK_DEFINITION = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/g;

/** Markdown text with fenced blocks blanked and code spans removed: links there are examples. */
function proseLines(lines) {
  let fence;
  return lines.map((line) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (marker && (!fence || marker.startsWith(fence))) {
      fence = fence ? undefined : marker;
      return '';
    }
    return fence ? '' : line.replace(/`[^`]*`/g, '');
  });
}

/** Where a relative link lands, relative to the root; undefined for URLs and same-page anchors. */
function linkTarget(file, href) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('#') || href.startsWith('//')) return undefined;
  let target = href.split('#')[0].split('?')[0];
  try {
    target = decodeURIComponent(target);
  } catch {
    // A malformed escape is checked as written.
  }
  const joined = target.startsWith('/') ? target.slice(1) : path.posix.join(path.posix.dirname(file), target);
  return path.posix.normalize(joined).replace(/\/$/, '') || '.';
}

function brokenLinks(file, lines, known) {
  const problems = [];
  proseLines(lines).forEach((line, index) => {
    for (const match of [...line.matchAll(INLINE_LINK), ...line.matchAll(LINK_DEFINITION)]) {
      const target = linkTarget(file, match[1]);
      if (target === undefined || target === '.' || known.has(target)) continue;
      const where = target.startsWith('..') ? 'outside the repository' : 'to a file that does not exist';
      problems.push({ file, line: index + 1, message: `links ${where}: ${match[1]}` });
    }
  });
  return problems;
}

function checkReferences(root) {
  const files = repositoryFiles(root);
  const known = knownPaths(files);
  const documents = new Set([...files.map((file) => path.posix.basename(file)), ...GENERATED_DOCUMENTS]);
  const problems = [];
  for (const file of files) {
    const text = readText(root, file);
    if (text === undefined) continue;
    const lines = text.split(/\r?\n/);
    if (file !== SELF) problems.push(...outsideReferences(file, lines, documents));
    if (file.endsWith('.md')) problems.push(...brokenLinks(file, lines, known));
  }
  return problems;
}

const root = path.resolve(process.argv[2] ?? '.');
const problems = checkReferences(root);
for (const p of problems) console.error(`${p.file}:${p.line}: ${p.message}`);
if (problems.length > 0) {
  console.error(
    `check-references: ${problems.length} problem(s) in ${new Set(problems.map((p) => p.file)).size} file(s)`,
  );
  process.exitCode = 1;
}
