import { z } from 'zod';
import { SITE_ID_PATTERN } from './topics.js';

/**
 * `tessera/v1/sites/{site}/commands`, hub → edge, QoS 1, not retained (shared/protocol/CHANGELOG.md,
 * docs/security.md). A network operator's order to one site, signed with the hub's Ed25519 key over the
 * canonical JSON of `body` (shared/protocol/signing.ts), valid from `issuedAt` until `expiresAt`, carried
 * out at most once (`nonce`). Anything else is refused by the site, recorded and never obeyed.
 */
export const COMMAND_SCHEMA_VERSION = 1;

/** How long the hub makes a command valid unless told otherwise. */
export const DEFAULT_COMMAND_TTL_MS = 60_000;
/** The longest validity a site accepts: a command cannot outlive a short outage. */
export const MAX_COMMAND_TTL_MS = 10 * 60_000;
/** A site whose clock is behind the hub's by up to this much still accepts a fresh command. */
export const COMMAND_CLOCK_SKEW_MS = 30_000;

/** The longest validity of an `enrol`: the reader waits for a card only while the operator is at the screen. */
export const MAX_ENROL_TTL_MS = 60_000;

export const COMMAND_KINDS = ['unlock', 'lockdown', 'lift_lockdown', 'resend', 'enrol'] as const;

/**
 * Why a site refused a command. Stable codes: logged, and recorded in a `device.fault` of kind
 * `command.rejected` whose detail starts with the code.
 */
export const COMMAND_REFUSALS = [
  'malformed',
  'unsigned',
  'forged',
  'foreign',
  'expired',
  'not_yet_valid',
  'replayed',
  'unknown_door',
  'unknown_reader',
] as const;
export type CommandRefusal = (typeof COMMAND_REFUSALS)[number];

const Id = z.string().min(1).max(64);
const At = z.iso.datetime({ offset: true });
/** Random, at least 96 bits: base64url of 16 bytes is 22 characters. */
export const Nonce = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/);

const Common = {
  v: z.literal(COMMAND_SCHEMA_VERSION),
  site: z.string().regex(SITE_ID_PATTERN),
  nonce: Nonce,
  issuedAt: At,
  expiresAt: At,
};

/** What an operator asks for (`POST /sites/:site/commands`); the hub adds site, nonce and times. */
const Unlock = z.strictObject({ kind: z.literal('unlock'), door: Id });
const Lockdown = z.strictObject({ kind: z.literal('lockdown') });
const LiftLockdown = z.strictObject({ kind: z.literal('lift_lockdown') });
const Resend = z.strictObject({ kind: z.literal('resend'), fromSeq: z.number().int().positive() });
const Enrol = z.strictObject({ kind: z.literal('enrol'), reader: Id });
export const CommandRequest = z.discriminatedUnion('kind', [Unlock, Lockdown, LiftLockdown, Resend, Enrol]);
export type CommandRequest = z.infer<typeof CommandRequest>;

/**
 * unlock: one pulse of the door's relay, as a granted badge gives. lockdown: every door stays
 * locked, entry and locker taps are refused, free access is suspended; exits still let people
 * out. lift_lockdown: back to normal. resend: the site's sync worker sends its stored events
 * again from `fromSeq` (the hub lost some). enrol: the next card tapped on `reader` until
 * `expiresAt` (60 s at most) is not decided but reported in a `badge.presented` event, for an
 * operator to register it (docs/badges.md "Enrolling at a site's reader").
 */
export const CommandBody = z
  .discriminatedUnion('kind', [
    Unlock.extend(Common),
    Lockdown.extend(Common),
    LiftLockdown.extend(Common),
    Resend.extend(Common),
    Enrol.extend(Common),
  ])
  .superRefine((body, ctx) => {
    const life = Date.parse(body.expiresAt) - Date.parse(body.issuedAt);
    const max = body.kind === 'enrol' ? MAX_ENROL_TTL_MS : MAX_COMMAND_TTL_MS;
    if (!(life > 0 && life <= max))
      ctx.addIssue({
        code: 'custom',
        path: ['expiresAt'],
        message: `expected 0 < expiresAt - issuedAt <= ${max} ms, got ${life} ms`,
      });
  });
export type CommandBody = z.infer<typeof CommandBody>;

export const SignedCommand = z.strictObject({ body: CommandBody, signature: z.string().min(1).max(200) });
export type SignedCommand = z.infer<typeof SignedCommand>;
