import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openHubDatabase } from '../../cloud-sync/hub/db.js';
import { HubAuth } from '../../cloud-sync/hub/auth/hub-auth.js';
import { HubIngest } from '../../cloud-sync/hub/ingest.js';
import { HubStore } from '../../cloud-sync/hub/store.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { topics } from '../../shared/protocol/topics.js';
import { describeIssues } from '../../shared/platform/validation.js';
import { testHubDb } from '../harness/hub-db.js';
import { silent } from '../support/logger.js';

/** 20,000 nested arrays: JSON.parse reads them, a recursive JSON.stringify runs out of stack. */
const DEEP = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;

describe('describing what is wrong with a value', () => {
  it('a value nested too deep to write out is named, not thrown on', () => {
    const input: unknown = JSON.parse(`{"site":${DEEP}}`);
    const r = z.strictObject({ site: z.string() }).safeParse(input);
    expect(r.success).toBe(false);
    expect(describeIssues(r.error!, input)).toEqual([
      { path: 'site', message: expect.stringMatching(/got an array nested too deep to show$/) as string },
    ]);
  });

  it('the hub dead-letters such a payload as invalid instead of failing on it', async () => {
    const store = new HubStore(await openHubDatabase(await testHubDb()));
    try {
      const ingest = new HubIngest({ store, clock: new ManualClock(0), log: silent, commitWindowMs: 0 });
      await ingest.onMessage(topics().events('murat'), Buffer.from(DEEP));
      expect(ingest.counters).toMatchObject({ rejected: 1, storeErrors: 0 });
      expect((await store.deadLetters(1))[0]?.reason).toBe('payload.invalid');
    } finally {
      await store.db.close();
    }
  });
});

describe('a secret in an error', () => {
  it('is never echoed: what kind of value it was is said instead, in config files and request bodies alike', () => {
    const schema = z.strictObject({
      api: z.strictObject({ token: z.string().min(16) }),
      broker: z.strictObject({ password: z.string(), url: z.string() }),
    });
    const input = { api: { token: 'short-secret' }, broker: { password: ['s3cr3t-pw'], url: 42 } };
    const details = describeIssues(schema.safeParse(input).error!, input);
    expect(details.map((d) => d.message)).toEqual([
      expect.stringMatching(/, got a string \(not shown: a secret\)$/),
      expect.stringMatching(/, got a list \(not shown: a secret\)$/),
      expect.stringMatching(/, got 42$/),
    ]);
    expect(JSON.stringify(details)).not.toMatch(/short-secret|s3cr3t-pw/);
  });

  it('nor when the input is the secret itself: a first admin password refused for being short', async () => {
    const db = await openHubDatabase(await testHubDb());
    try {
      await expect(
        HubAuth.open({
          db,
          clock: new ManualClock(0),
          log: silent,
          initialAdmin: { username: 'admin', password: 'hunter2-x' },
        }),
      ).rejects.toThrow(
        /initialAdmin\.password: a password needs at least 12 characters, got a string \(not shown: a secret\)$/,
      );
      expect(await db.value('SELECT count(*) FROM accounts')).toBe(0);
    } finally {
      await db.close();
    }
  });
});
