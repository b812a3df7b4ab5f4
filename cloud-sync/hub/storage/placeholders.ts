/**
 * better-sqlite3 placeholders (`?`, `@name`) rewritten as PostgreSQL's `$1…$n`, outside string
 * literals, quoted identifiers and comments. A name used twice is one parameter.
 */
export interface Rewritten {
  text: string;
  /** Number of `$n` parameters. */
  count: number;
  /** For `@name` placeholders: the name of each `$n`, in order; undefined for `?` ones. */
  names: string[] | undefined;
}

export function rewritePlaceholders(sql: string): Rewritten {
  let out = '';
  let positional = 0;
  const names: string[] = [];
  for (let i = 0; i < sql.length;) {
    const c = sql[i] as string;
    const skipTo = skipEnd(sql, i);
    if (skipTo > i) {
      out += sql.slice(i, skipTo);
      i = skipTo;
    } else if (c === '?') {
      out += `$${++positional}`;
      i++;
    } else if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))?.[0] ?? '';
      let n = names.indexOf(name);
      if (n < 0) n = names.push(name) - 1;
      out += `$${n + 1}`;
      i += name.length + 1;
    } else {
      out += c;
      i++;
    }
  }
  if (positional > 0 && names.length > 0) throw new Error(`SQL mixes ? and @name placeholders: ${sql}`);
  return { text: out, count: positional || names.length, names: names.length > 0 ? names : undefined };
}

/** The index past a literal, quoted identifier or comment starting at `i`, or `i`. */
function skipEnd(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    for (let j = i + 1; j < sql.length; j++) {
      if (sql[j] !== c) continue;
      if (sql[j + 1] === c)
        j++; // a doubled quote is one quote character
      else return j + 1;
    }
    return sql.length;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const end = sql.indexOf('\n', i);
    return end < 0 ? sql.length : end + 1;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const end = sql.indexOf('*/', i + 2);
    return end < 0 ? sql.length : end + 2;
  }
  return i;
}
