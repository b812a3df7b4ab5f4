import { describe, expect, it } from 'vitest';
import { readAck } from '../../cloud-sync/edge/ack.js';
import { checkCommand } from '../../edge/commands/check.js';
import { generateHubKeys, hubPublicKey } from '../../shared/protocol/signing.js';
import { signedInHub } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

// Valid JSON that zod's length checks cannot compare: a value with a `length` whose own `toString` is
// not a function. Found by fuzzing the ack topic; every boundary that checks JSON from outside must
// refuse it with a reason instead of throwing.
const HOSTILE = { length: { toString: true } };
const AT = '2026-11-23T09:00:00+01:00';
// (The hub's ingest of such a batch: tests/unit/hub-ingest.test.ts.)

describe('a value whose length cannot be compared, at every boundary that reads JSON from outside', () => {
  it('the sync worker refuses such an ack with a reason', () => {
    const verdict = readAck(
      Buffer.from(JSON.stringify({ v: 1, site: 'murat', seq: 1, missing: HOSTILE, at: AT })),
      'murat',
    );
    expect(verdict).toEqual({ ok: false, reason: expect.stringContaining('missing') as string });
  });

  it('a site refuses such a command as malformed', () => {
    const keys = generateHubKeys();
    const verdict = checkCommand(JSON.stringify({ body: { site: 'murat' }, signature: HOSTILE }), {
      site: 'murat',
      publicKey: hubPublicKey(keys.publicKeyPem),
      nowMs: Date.parse(AT),
      doors: ['front'],
      readers: ['front-in'],
      seen: () => false,
    });
    expect(verdict).toMatchObject({ ok: false, refused: 'malformed' });
  });

  it('the hub API answers 400 request.invalid for such a body, with the field', async () => {
    const { hub, admin } = await signedInHub(silent);
    const r = await hub.api.inject({
      method: 'PUT',
      url: '/directory/members/alice',
      headers: admin,
      payload: { name: HOSTILE },
    });
    expect([r.statusCode, r.json<{ code: string }>().code]).toEqual([400, 'request.invalid']);
    expect(JSON.stringify(r.json())).toContain('name');
    await hub.stop();
  });
});
