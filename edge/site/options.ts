import type { DoorConfig, LockerBankConfig, SiteConfig } from '../../firmware-config/schema.js';
import type { DoorOptions } from '../doors/door-options.js';
import type { LockerBankOptions } from '../lockers/locker-banks.js';
import type { PresenceOptions } from '../presence/presence-keeper.js';

// The site config (firmware-config/schema.ts, defaults filled in) mapped to the options of the
// parts that run the site: none of them reads the config file's schema.

export function doorOptions(door: DoorConfig): DoorOptions {
  const { id, relay, pulseMs, contact, exitButton, heldOpenSeconds, failMode, freeAccess } = door;
  return { id, relay, pulseMs, contact, exitButton, heldOpenSeconds, failMode, freeAccess };
}

export function lockerBankOptions(bank: LockerBankConfig): LockerBankOptions {
  const { id, mode, activeLow, pulseMs, relays } = bank;
  return { id, mode, activeLow, pulseMs, relays };
}

export function presenceOptions(presence: SiteConfig['presence']): PresenceOptions {
  return {
    exitButtonChecksOut: presence.checkout.includes('exit_button'),
    closingTime: presence.closingTime,
    maxStayHours: presence.maxStayHours,
  };
}
