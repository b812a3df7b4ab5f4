import type { WeeklyWindow } from '../../shared/protocol/schedule.js';

/** A GPIO line (BCM numbering) and its polarity. */
export interface LineOptions {
  line: number;
  activeLow: boolean;
}

/** An input line, debounced: a change is believed once it has held this long. */
export interface InputLineOptions extends LineOptions {
  debounceMs: number;
}

/** When a door is held unlocked: never, during the site's staffed hours, or in given site-local windows. */
export type FreeAccessRule = 'none' | 'staffed' | readonly WeeklyWindow[];

/** One door as its controller drives it (edge/site maps the site config's doors to this). */
export interface DoorOptions {
  id: string;
  relay: LineOptions;
  /** How long a granted tap, the exit button or a remote unlock unlocks the door. */
  pulseMs: number;
  contact?: InputLineOptions | undefined;
  exitButton?: InputLineOptions | undefined;
  /** Open for longer than this is a held-open alarm. */
  heldOpenSeconds: number;
  /**
   * fail-secure: locked when unpowered (relay energised = unlocked); fail-safe: open when
   * unpowered, e.g. a maglock (relay energised = locked). Either way the safe state is de-energised.
   */
  failMode: 'fail-secure' | 'fail-safe';
  freeAccess: FreeAccessRule;
}
