import { randomUUID } from 'node:crypto';
import type { Employer, Member } from '../../shared/directory.js';
import type { SiteEvent } from '../../shared/events.js';
import type { BilledEvent } from '../../cloud-sync/billing/visits.js';

/** Builds a site's billing-relevant events with gapless seqs, as an edge would record them. */
export class SiteLog {
  private seq = 0;
  readonly events: BilledEvent[] = [];

  /** `offset` is the site's UTC offset on these dates, e.g. `+01:00` (Paris in November). */
  constructor(
    readonly site: string,
    private readonly offset = '+01:00',
    private readonly receivedAt = 1,
  ) {}

  private push(at: string, rest: Pick<SiteEvent, 'type' | 'data'>, receivedAt: number): SiteEvent {
    const event = { v: 1, site: this.site, seq: ++this.seq, id: randomUUID(), at: `${at}${this.offset}`, ...rest } as SiteEvent;
    this.events.push({ event, receivedAt });
    return event;
  }

  /** A check-in at `date`T`time` and its check-out `minutes` later (the check-out's `at` computed on the wall clock). */
  visit(member: string, date: string, time: string, minutes: number, receivedAt = this.receivedAt): this {
    this.push(`${date}T${time}:00.000`, { type: 'presence.in', data: { memberId: member } } as Pick<SiteEvent, 'type' | 'data'>, receivedAt);
    const out = new Date(Date.parse(`${date}T${time}:00.000Z`) + minutes * 60_000).toISOString().slice(0, 23);
    this.push(out, { type: 'presence.out', data: { memberId: member, cause: 'badge', via: 'exit_reader', minutes } } as Pick<SiteEvent, 'type' | 'data'>, receivedAt);
    return this;
  }

  use(member: string, date: string, item: string, quantity: number, receivedAt = this.receivedAt): this {
    this.push(`${date}T10:00:00.000`, { type: 'consumable.used', data: { memberId: member, item, quantity } } as Pick<SiteEvent, 'type' | 'data'>, receivedAt);
    return this;
  }
}

export function member(id: string, plan: string, extra: Partial<Member> = {}): Member {
  return { id, name: `Member ${id}`, role: 'member', plan, status: 'active', ...extra };
}

export const employer = (id: string, name: string): Employer => ({ id, name });
