import type { Sql } from '../../cloud-sync/hub/db.js';

/**
 * `q` itself, counting the statements run through it: what a group of events costs in round
 * trips to the database, checked by the tests of set-based code.
 */
export function countingSql(q: Sql): { sql: Sql; statements: () => number } {
  let statements = 0;
  const counted =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...a: A) => {
      statements++;
      return f(...a);
    };
  const sql: Sql = {
    dialect: q.dialect,
    all: counted((text, params) => q.all(text, params)),
    get: counted((text, params) => q.get(text, params)),
    column: counted((text, params) => q.column(text, params)),
    value: counted((text, params) => q.value(text, params)),
    run: counted((text, params) => q.run(text, params)),
    exec: counted((text: string) => q.exec(text)),
    transaction: (fn) => q.transaction(fn),
  };
  return { sql, statements: () => statements };
}
