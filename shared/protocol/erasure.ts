import { createHash } from 'node:crypto';

/**
 * Erasure of a member (docs/hub.md "Members' personal data"): what they did stays, for the
 * counts and the invoices, under a pseudonym that nothing maps back to their id. The same id
 * always gives the same pseudonym under one hub's salt, so the hub and every site arrive at the
 * same one, and an event naming the erased id that arrives late is recognised and rewritten.
 */
export const PSEUDONYM_PATTERN = /^erased-[0-9a-f]{16}$/;
export const SALT_PATTERN = /^[0-9a-f]{32}$/;
/** What an erased member's events keep of the badge: no digit at all. */
export const ERASED_BADGE = '…';

export function pseudonymOf(salt: string, memberId: string): string {
  return `erased-${createHash('sha256').update(`${salt}\u0000${memberId}`).digest('hex').slice(0, 16)}`;
}

export const isPseudonym = (id: string): boolean => PSEUDONYM_PATTERN.test(id);

/** The erased members one salt knows of: tells whether an id is one of them, and its pseudonym. */
export class ErasedMembers {
  private readonly pseudonyms: Set<string>;

  constructor(
    readonly salt: string,
    pseudonyms: Iterable<string> = [],
  ) {
    this.pseudonyms = new Set(pseudonyms);
  }

  get size(): number {
    return this.pseudonyms.size;
  }

  add(pseudonym: string): void {
    this.pseudonyms.add(pseudonym);
  }

  has(pseudonym: string): boolean {
    return this.pseudonyms.has(pseudonym);
  }

  /** The pseudonym of `memberId` if it was erased; undefined otherwise (and for a pseudonym itself). */
  match(memberId: string): string | undefined {
    if (this.pseudonyms.size === 0 || isPseudonym(memberId)) return undefined;
    const p = pseudonymOf(this.salt, memberId);
    return this.pseudonyms.has(p) ? p : undefined;
  }
}

type EventLike = { data?: unknown };

/**
 * The event with `memberId` replaced by its pseudonym and the badge masked whole, if `pseudonymFor`
 * names one for the member it is about; the same object otherwise. Works on any JSON event, parsed
 * or not, so that rows written by another version are rewritten too.
 */
export function pseudonymiseEvent<E extends EventLike>(
  event: E,
  pseudonymFor: (memberId: string) => string | undefined,
): E {
  const data = event.data as Record<string, unknown> | null | undefined;
  if (data === null || typeof data !== 'object' || typeof data.memberId !== 'string') return event;
  const pseudonym = pseudonymFor(data.memberId);
  if (pseudonym === undefined) return event;
  const masked: Record<string, unknown> = { ...data, memberId: pseudonym };
  if (typeof masked.badge === 'string') masked.badge = ERASED_BADGE;
  return { ...event, data: masked };
}

/** pseudonymiseEvent on a stored JSON body: the new body, or undefined when it is not about an erased member. */
export function pseudonymiseBody(
  body: string,
  pseudonymFor: (memberId: string) => string | undefined,
): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const out = pseudonymiseEvent(parsed as EventLike, pseudonymFor);
  return out === parsed ? undefined : JSON.stringify(out);
}
