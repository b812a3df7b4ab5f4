import type { SiteEvent } from '../../shared/protocol/events.js';
import type { Account } from './auth/account.js';

/**
 * A site event as `account` may read it: the whole UID of a card presented for enrolment
 * (`badge.presented`) is for network operators only, who register badges by it; anyone else
 * (a site manager) sees the event with its masked badge alone. A UID-only card is cloned from
 * its UID: the hub does not hand it to more people than need it.
 */
export function eventFor(account: Pick<Account, 'role'>, e: SiteEvent): SiteEvent {
  if (e.type !== 'badge.presented' || account.role === 'operator' || e.data.uid === undefined) return e;
  const { uid: _uid, ...data } = e.data;
  return { ...e, data };
}
