import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import type { CommandBody, CommandRefusal } from '../../shared/protocol/commands.js';
import type { CommandRepo } from '../store/command-repo.js';
import { checkCommand } from './check.js';
import type { SiteCommands } from './site-commands.js';

/** What the hub's commands need of the site (edge/site/edge.ts passes itself). */
export interface CommandSite {
  readonly doors: ReadonlyMap<string, unknown>;
  readonly config: { readonly readers: ReadonlyArray<{ readonly id: string }> };
  readonly store: { readonly commands: Pick<CommandRepo, 'seen'> };
  readonly commands: Pick<SiteCommands, 'carryOut'>;
  /** Records a refused command as a fault the hub sees. */
  rejectCommand(detail: string): void;
}

export type CommandOutcome =
  { accepted: true; command: CommandBody } | { accepted: false; refused: CommandRefusal; detail: string };

/**
 * The site's end of the hub's commands topic: checks each message (edge/commands/check.ts),
 * carries out what passes (edge/commands/site-commands.ts), and refuses the rest: counted,
 * logged, and recorded as a `device.fault` of kind `command.rejected` that the hub sees.
 * Nothing refused moves a relay or changes what is stored, apart from that record.
 */
export class HubCommands {
  readonly refused = new Map<CommandRefusal, number>();

  constructor(
    private readonly deps: { site: string; publicKey: KeyObject; edge: CommandSite; clock: Clock; log: Logger },
  ) {}

  receive(payload: Buffer | string): CommandOutcome {
    const { edge, site, publicKey, clock } = this.deps;
    const verdict = checkCommand(payload, {
      site,
      publicKey,
      nowMs: clock.now(),
      doors: [...edge.doors.keys()],
      readers: edge.config.readers.map((r) => r.id),
      seen: (nonce) => edge.store.commands.seen(nonce),
    });
    if (!verdict.ok) return this.refuse(verdict.refused, verdict.detail);
    edge.commands.carryOut(verdict.command);
    return { accepted: true, command: verdict.command };
  }

  private refuse(reason: CommandRefusal, detail: string): CommandOutcome {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    this.deps.log.warn({ code: 'command.rejected', reason, detail }, 'hub command refused: nothing done');
    this.deps.edge.rejectCommand(`${reason}: ${detail}`);
    return { accepted: false, refused: reason, detail };
  }
}
