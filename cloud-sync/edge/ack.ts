import { Ack } from '../../shared/protocol/sync.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';
import { describeIssues } from '../../shared/platform/validation.js';

export type AckVerdict = { ok: true; ack: Ack } | { ok: false; reason: string } | { ok: 'cleared' };

/**
 * Reads an `ack` payload for `site` (like every input from the network: anything else is refused with a reason, never
 * thrown). An empty retained payload means the hub cleared the topic: nothing to do.
 */
export function readAck(payload: Buffer, site: string): AckVerdict {
  if (payload.length === 0) return { ok: 'cleared' };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  const parsed = checkUntrusted(Ack, json);
  if (!parsed.success)
    return {
      ok: false,
      reason: describeIssues(parsed.error, json)
        .slice(0, 3)
        .map((d) => `${d.path}: ${d.message}`)
        .join('; '),
    };
  if (parsed.data.site !== site) return { ok: false, reason: `an ack for site ${parsed.data.site}` };
  return { ok: true, ack: parsed.data };
}
