import pg from 'pg';

/** Runs statements on a PostgreSQL server outside any hub (a bench's schemas), one client for all. */
export async function pgStatements(url: string, statements: readonly string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}
