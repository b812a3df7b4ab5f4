import { pgAdmin, pgSchemaPrefix, TEST_PG_URL } from './harness/hub-db.js';

/**
 * Global setup of the `*-pg` projects: the test PostgreSQL must answer (vitest.config.ts adds
 * these projects only when it does, or under CI=true, where its absence fails the run here);
 * the teardown drops every schema this run made.
 */
export default async function setup(): Promise<() => Promise<void>> {
  try {
    await pgAdmin(['SELECT 1']);
  } catch (err) {
    throw new Error(
      `the hub's PostgreSQL tests need a server at ${TEST_PG_URL} (Debian: apt-get install postgresql; or set TESSERA_TEST_PG_URL): ${(err as Error).message}`,
    );
  }
  const prefix = pgSchemaPrefix(process.env.TESSERA_TEST_PG_RUN ?? 'adhoc');
  return async () => {
    const made = await pgAdmin([`SELECT nspname FROM pg_namespace WHERE starts_with(nspname, '${prefix}')`]);
    // One schema per transaction: dropping them all at once runs out of lock slots.
    for (let i = 0; i < made.length; i += 20)
      await pgAdmin(made.slice(i, i + 20).map((s) => `DROP SCHEMA "${String(s)}" CASCADE`));
  };
}
