import { z } from 'zod';
import { maskUid, normalizeUid } from '../../shared/protocol/badge.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { ItemId, type SiteEvent } from '../../shared/protocol/events.js';
import { describeIssues } from '../../shared/platform/validation.js';
import type { EdgeStore } from '../store/store.js';

const UsedItem = z.strictObject({ item: ItemId });

// What a device posts is part of the site's API: shared/protocol/api/edge.ts.
export { ConsumableUseBody } from '../../shared/protocol/api/edge.js';

/** The items the simulator's printer and coffee machine record. */
export const SIMULATED_ITEMS = { print: 'print-page', coffee: 'coffee' } as const;

/**
 * Records a consumable use as a `consumable.used` event, in its own transaction like every
 * edge event, for the hub to bill. Refuses an unknown member or badge (404), and a revoked
 * badge or a suspended member (403): nobody can run up a bill on a badge that no longer opens.
 * An item the price list could not name is refused (400) before anything else, whoever calls:
 * the hub refuses such an event, so it would stay parked at the site and never be billed.
 */
export function recordConsumableUse(
  store: EdgeStore,
  who: { memberId?: string | undefined; badge?: string | undefined },
  item: string,
  quantity: number,
  atMs: number,
): SiteEvent {
  const checked = UsedItem.safeParse({ item });
  if (!checked.success)
    throw new TesseraError('request.invalid', 'invalid consumable item', describeIssues(checked.error, { item }));
  const memberId = who.badge !== undefined ? memberOfBadge(store, who.badge) : (who.memberId ?? '');
  const member = store.directory.getMember(memberId);
  if (!member) throw new TesseraError('not_found', `no member ${JSON.stringify(memberId)} in this site's directory`);
  if (member.status === 'suspended') throw new TesseraError('auth.forbidden', `member ${memberId} is suspended`);
  return store.transaction(() =>
    store.events.append({ type: 'consumable.used', data: { memberId, item, quantity } }, atMs),
  );
}

function memberOfBadge(store: EdgeStore, badge: string): string {
  const uid = normalizeUid(badge);
  if (uid === undefined)
    throw new TesseraError('request.invalid', 'expected a badge UID of 4 to 10 bytes in hex', [
      { path: 'badge', message: 'expected a badge UID of 4 to 10 bytes in hex' },
    ]);
  const holder = store.directory.lookup(uid);
  if (!holder) throw new TesseraError('not_found', `no badge ${maskUid(uid)}`);
  if (holder.badge.status === 'revoked') throw new TesseraError('auth.forbidden', `badge ${maskUid(uid)} is revoked`);
  return holder.badge.member;
}
