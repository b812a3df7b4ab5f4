import { z } from 'zod';
import { CommandBody, CommandRequest } from '../commands.js';
import { SITE_ID_PATTERN } from '../topics.js';
import { defineRoute } from './common.js';

/**
 * `POST /sites/:site/commands`: a network operator's remote unlock, lockdown, lift or re-send
 * request to one site, signed by the hub and valid 60 s. 202 once the broker took it; 503
 * `sync.rejected` when it did not (the attempt stays in the audit log); 404 for a site neither
 * declared nor heard from, or an unlock of a door the site did not name in its last status; 409
 * for an unlock at a site that has not named its doors yet.
 */

/** A site id out of this pattern is refused 400 ("invalid site"). */
export const CommandSiteParams = z.strictObject({ site: z.string().regex(SITE_ID_PATTERN) }).meta({ title: 'site' });

/** What the operator asks for; the hub adds site, nonce and times (shared/protocol/commands.ts). */
export const CommandOrder = CommandRequest.meta({ title: 'command' });

/** The command as signed and published: what the site will check and carry out at most once. */
export const CommandSent = z.strictObject({ item: CommandBody, published: z.literal(true) });
export type CommandSent = z.infer<typeof CommandSent>;

export const HubCommandRoutes = {
  send: defineRoute({
    method: 'POST',
    url: '/sites/:site/commands',
    operationId: 'sendSiteCommand',
    tags: ['commands'],
    summary:
      'Send a site a signed command valid 60 s: unlock a door, lockdown, lift it, re-send events from a seq (operator; audited); 202 once the broker took it, 503 if not',
    params: CommandSiteParams,
    body: CommandOrder,
    response: { 202: CommandSent },
    errors: ['not_found', 'conflict', 'sync.rejected'],
  }),
};
