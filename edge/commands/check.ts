import type { KeyObject } from 'node:crypto';
import {
  COMMAND_CLOCK_SKEW_MS,
  SignedCommand,
  type CommandBody,
  type CommandRefusal,
} from '../../shared/protocol/commands.js';
import { verifyBody } from '../../shared/protocol/signing.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';
import { describeIssues, formatDetails } from '../../shared/platform/validation.js';

/** What a site knows when it judges a command. */
export interface CommandContext {
  site: string;
  publicKey: KeyObject;
  nowMs: number;
  doors: readonly string[];
  /** The site's reader ids, from its config: an enrol names one of them. */
  readers: readonly string[];
  /** Whether this nonce was already carried out (and not yet expired). */
  seen(nonce: string): boolean;
}

export type CommandVerdict =
  { ok: true; command: CommandBody } | { ok: false; refused: CommandRefusal; detail: string };

const refuse = (refused: CommandRefusal, detail: string): CommandVerdict => ({ ok: false, refused, detail });

/**
 * Judges a message from the commands topic (docs/security.md), without side effects: it must be
 * a signed command of the schema, signed by the pinned hub key over the body as sent, for this
 * site, within its validity, with a nonce not seen before, naming a door (an unlock) or a reader
 * (an enrol) this site has. The
 * first failing check gives the refusal.
 */
export function checkCommand(payload: Buffer | string, ctx: CommandContext): CommandVerdict {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString());
  } catch {
    return refuse('malformed', 'not JSON');
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json) && !('signature' in json))
    return refuse('unsigned', 'no signature');
  const parsed = checkUntrusted(SignedCommand, json);
  if (!parsed.success) return refuse('malformed', formatDetails(describeIssues(parsed.error, json)).slice(0, 400));
  const { body, signature } = parsed.data;
  // The hub signed the body as it sent it: check that, not the parsed copy.
  if (!verifyBody((json as { body: unknown }).body, signature, ctx.publicKey))
    return refuse('forged', 'the signature is not the hub key’s');
  if (body.site !== ctx.site) return refuse('foreign', `a command for site ${body.site}`);
  if (ctx.nowMs >= Date.parse(body.expiresAt)) return refuse('expired', `expired at ${body.expiresAt}`);
  if (Date.parse(body.issuedAt) > ctx.nowMs + COMMAND_CLOCK_SKEW_MS)
    return refuse('not_yet_valid', `issued at ${body.issuedAt}, after this site's clock`);
  if (ctx.seen(body.nonce)) return refuse('replayed', `nonce ${body.nonce} already carried out`);
  if (body.kind === 'unlock' && !ctx.doors.includes(body.door))
    return refuse('unknown_door', `no door ${JSON.stringify(body.door)} at this site`);
  if (body.kind === 'enrol' && !ctx.readers.includes(body.reader))
    return refuse('unknown_reader', `no reader ${JSON.stringify(body.reader)} at this site`);
  return { ok: true, command: body };
}
