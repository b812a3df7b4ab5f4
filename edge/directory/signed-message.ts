import type { KeyObject } from 'node:crypto';
import type { z } from 'zod';
import { verifyBody } from '../../shared/protocol/signing.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';
import { describeIssues, formatDetails } from '../../shared/platform/validation.js';

export type SignedRefusal = { refused: 'malformed' | 'forged' | 'foreign'; detail: string };

/**
 * The body of a hub message signed with the pinned hub key and meant for this site, or why not:
 * not JSON or not the schema (`malformed`), not the hub key's signature over the body as sent
 * (`forged`, checked on the JSON received, not the parsed copy with defaults filled in), another
 * site's (`foreign`).
 */
export function openSigned<B extends { site: string }>(
  payload: Buffer | string,
  schema: z.ZodType<{ body: B; signature: string }>,
  expected: { site: string; publicKey: KeyObject; what: string },
): { body: B } | SignedRefusal {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch {
    return { refused: 'malformed', detail: 'not JSON' };
  }
  const parsed = checkUntrusted(schema, json);
  if (!parsed.success) return { refused: 'malformed', detail: formatDetails(describeIssues(parsed.error, json)) };
  const { body, signature } = parsed.data;
  if (!verifyBody((json as { body: unknown }).body, signature, expected.publicKey))
    return { refused: 'forged', detail: 'the signature is not the hub key’s' };
  if (body.site !== expected.site) return { refused: 'foreign', detail: `${expected.what} for site ${body.site}` };
  return { body };
}
