import type { SiteEvent } from '../../../shared/protocol/events.js';

// The kinds are part of the API (shared/protocol/api/hub-occupancy.ts).
import type { AlarmKind } from '../../../shared/protocol/api/hub-occupancy.js';

export type { AlarmKind };

/** What one event does to the alarms of its site: raise one, clear some, or nothing. */
export type AlarmEffect =
  | { raise: { kind: AlarmKind; subject: string; detail: string | null; clears: ClearRule | null } }
  | { clear: { kinds: AlarmKind[]; subject: string; by: string } }
  | null;

/** The event that ends a raised alarm's condition, to look for among later events (keys into the stored event, joined by '.'). */
export interface ClearRule {
  type: 'door.secured' | 'device.fault';
  match: Record<string, string>;
}

/**
 * The alarm rules (docs/dashboard.md "Alarms"), pure. A forced or held door is cleared by the
 * door's `door.secured`, a lost reader by its `reader.found`; a sync rejection has no lasting
 * condition and is raised already cleared, waiting only for someone to acknowledge it; so is a
 * hub command or directory update the site refused (forged, replayed, expired: someone should
 * look), a relay write that failed and a reader that keeps reading no UID.
 * `site.offline` and `sync.log_behind` come from the site's status, not from events (see AlarmBook.onStatus).
 */
export function alarmEffect(e: SiteEvent): AlarmEffect {
  switch (e.type) {
    case 'door.forced':
      return {
        raise: { kind: 'door.forced', subject: e.data.door, detail: null, clears: secured(e.data.door, 'forced') },
      };
    case 'door.held':
      return {
        raise: {
          kind: 'door.held',
          subject: e.data.door,
          detail: `${e.data.seconds} s`,
          clears: secured(e.data.door, 'held'),
        },
      };
    case 'door.secured':
      return {
        clear: { kinds: [e.data.after === 'forced' ? 'door.forced' : 'door.held'], subject: e.data.door, by: e.type },
      };
    case 'device.fault':
      return faultEffect(e);
    case 'access.granted':
    case 'access.denied':
    case 'presence.in':
    case 'presence.out':
    case 'locker.assigned':
    case 'locker.opened':
    case 'locker.released':
    case 'door.exit_requested':
    case 'door.mode':
    case 'consumable.used':
    case 'clock.unsynced':
    case 'command.executed':
    case 'badge.presented':
    case 'enrol.expired':
      return null;
  }
}

const secured = (door: string, after: 'forced' | 'held'): ClearRule => ({
  type: 'door.secured',
  match: { 'data.door': door, 'data.after': after },
});

type FaultKind = Extract<SiteEvent, { type: 'device.fault' }>['data']['kind'];
const ONE_OFF_FAULTS: Partial<Record<FaultKind, AlarmKind>> = {
  'sync.rejected': 'sync.rejected',
  'command.rejected': 'command.rejected',
  'directory.rejected': 'directory.rejected',
  'gpio.error': 'relay.failed',
  'uid.unreadable': 'reader.unreadable',
};

function faultEffect(e: Extract<SiteEvent, { type: 'device.fault' }>): AlarmEffect {
  const { device, kind, detail } = e.data;
  if (kind === 'reader.lost')
    return {
      raise: {
        kind: 'reader.lost',
        subject: device,
        detail: detail ?? null,
        clears: { type: 'device.fault', match: { 'data.device': device, 'data.kind': 'reader.found' } },
      },
    };
  if (kind === 'reader.found') return { clear: { kinds: ['reader.lost'], subject: device, by: 'reader.found' } };
  // No event ends these: raised already over, open until someone acknowledges them. A refused
  // (forged, replayed, foreign) directory update or command may be an attack; a relay that did
  // not move may leave a door open or shut; a reader that reads no UID may be failing or probed.
  const oneOff = ONE_OFF_FAULTS[kind];
  if (oneOff) return { raise: { kind: oneOff, subject: device, detail: detail ?? null, clears: null } };
  return null;
}
