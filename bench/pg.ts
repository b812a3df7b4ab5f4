import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** Runs statements on a PostgreSQL server outside any hub (a bench's schemas), one client for all. */
async function pgStatements(url: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The server the benches use on PostgreSQL (`BENCH_PG_URL` names another). */
export const BENCH_PG_URL = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';

/** Why the PostgreSQL runs of a bench cannot run here, or undefined when the server answers. */
export async function benchPostgresMissing(url = BENCH_PG_URL): Promise<string | undefined> {
  try {
    await pgStatements(url, ['SELECT 1']);
    return undefined;
  } catch (err) {
    return `PostgreSQL at ${url}: ${(err as Error).message}`;
  }
}

/** A fresh schema of the bench server, as a hub database URL; `drop` removes it. */
export async function benchSchema(url = BENCH_PG_URL): Promise<{ url: string; drop: () => Promise<void> }> {
  const schema = `tessera_bench_${randomUUID().slice(0, 8)}`;
  await pgStatements(url, [`CREATE SCHEMA ${schema}`]);
  return {
    url: `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-csearch_path=${schema}`)}`,
    drop: () => pgStatements(url, [`DROP SCHEMA ${schema} CASCADE`]),
  };
}
