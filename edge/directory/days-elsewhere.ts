import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { SignedDaysElsewhere } from '../../shared/protocol/sync.js';
import type { DaysElsewhereRepo } from '../store/days-elsewhere-repo.js';
import { openSigned } from './signed-message.js';

/** What the days-elsewhere messages need of the site (edge/site/edge.ts passes itself). */
export interface DaysSite {
  readonly store: { readonly daysElsewhere: Pick<DaysElsewhereRepo, 'issuedAt' | 'replace'> };
  /** Records a refused message as a fault the hub sees. */
  rejectDirectory(source: string, detail: string): void;
}

export type DaysRefusal = 'malformed' | 'forged' | 'foreign' | 'replayed';

export type DaysOutcome = { applied: true; members: number } | { applied: false; refused: DaysRefusal; detail: string };

/**
 * The site's end of the hub's days-elsewhere messages (shared/protocol/sync.ts DaysElsewhere): signed by
 * the pinned hub key, for this site, issued after the one in force. A copy already applied (the
 * retained message again after a reconnect) is dropped quietly; anything else refused is
 * recorded like a refused directory update, and the days in force stay.
 */
export class DaysElsewhereUpdates {
  readonly refused = new Map<DaysRefusal, number>();

  constructor(private readonly deps: { site: string; publicKey: KeyObject; edge: DaysSite; log: Logger }) {}

  receive(payload: Buffer | string): DaysOutcome {
    const opened = openSigned(payload, SignedDaysElsewhere, { ...this.deps, what: 'days elsewhere' });
    if ('refused' in opened) return this.refuse(opened.refused, opened.detail);
    const { body } = opened;
    const store = this.deps.edge.store.daysElsewhere;
    const issuedAt = Date.parse(body.issuedAt);
    if (issuedAt <= store.issuedAt())
      return this.refuse('replayed', `issued ${body.issuedAt}, not after the days in force`);
    store.replace(issuedAt, body.members);
    this.deps.log.debug({ members: body.members.length, issuedAt: body.issuedAt }, 'days elsewhere applied');
    return { applied: true, members: body.members.length };
  }

  private refuse(reason: DaysRefusal, detail: string): DaysOutcome {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    // The retained message comes again at each reconnect: not a fault.
    if (reason === 'replayed') this.deps.log.debug({ reason, detail }, 'days elsewhere already applied');
    else {
      this.deps.log.warn({ reason, detail }, 'days elsewhere refused: the days in force stay');
      this.deps.edge.rejectDirectory('hub', `days elsewhere ${reason}: ${detail}`);
    }
    return { applied: false, refused: reason, detail };
  }
}
