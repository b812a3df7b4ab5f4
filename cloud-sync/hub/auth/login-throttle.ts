import { isIPv6 } from 'node:net';
import type { Clock } from '../../../shared/platform/clock.js';

export interface ThrottleLimits {
  /** Failures one address may make on one account before it waits. */
  freePerAccountAtAddress: number;
  /** The same once the account is under attack: each new address gets this many. */
  freeUnderAttack: number;
  /** Failures on one account, from anywhere, that put it under attack. */
  underAttackAfter: number;
  /** Failures one address may make, whatever the usernames, before it waits. */
  freePerAddress: number;
  /** The first wait; each further failure doubles it, up to `maxWaitMs`. */
  firstWaitMs: number;
  maxWaitMs: number;
  /** Failures are forgotten after this long without a new one. */
  forgetAfterMs: number;
}

export const THROTTLE: ThrottleLimits = {
  freePerAccountAtAddress: 5,
  freeUnderAttack: 1,
  underAttackAfter: 20,
  freePerAddress: 20,
  firstWaitMs: 1000,
  maxWaitMs: 15 * 60 * 1000,
  forgetAfterMs: 24 * 60 * 60 * 1000,
};

/** Failures kept under one key: a count and the time of the last one. */
interface Tally {
  failures: number;
  last: number;
}

/** Keys kept at most: past this, the least recently failed are forgotten first (a bound on memory). */
const MAX_KEYS = 100_000;

/**
 * The client's network for throttling: an IPv4 address as is (also when written as IPv4-mapped
 * IPv6), an IPv6 address by its /64, since one host is usually given a whole /64 to step through.
 */
export function throttledNetwork(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return mapped;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * Slows password guessing without letting someone who lacks the password keep its owner out.
 *
 * Failures are counted per (account, address), per address and per account. One address gets a few
 * free tries on one account, then waits 1 s, 2 s, 4 s ... (at most 15 min) after each further
 * failure; one address spraying many usernames gets the same past 20 failures. An account's own
 * count never refuses anyone outright: failures from anywhere only put it "under attack", and then
 * each address gets a single free try before its waits begin. So the right password from an
 * address that has not been guessing always goes through, while a guesser, however many addresses
 * it has, pays a doubling wait per address. In memory: a restart forgets it.
 */
export class LoginThrottle {
  private readonly tallies = new Map<string, Tally>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: ThrottleLimits = THROTTLE,
  ) {}

  /** Milliseconds to wait before trying again, or 0 when an attempt may go ahead. */
  retryAfterMs(username: string, address: string): number {
    const k = keys(username, address);
    const underAttack = (this.tally(k.account)?.failures ?? 0) >= this.limits.underAttackAfter;
    const freeHere = underAttack ? this.limits.freeUnderAttack : this.limits.freePerAccountAtAddress;
    return Math.max(this.wait(k.pair, freeHere), this.wait(k.address, this.limits.freePerAddress));
  }

  /** Counts one failure; counted before the (slow) check, so that parallel guesses cannot all slip through. */
  failed(username: string, address: string): void {
    const at = this.clock.now();
    for (const key of Object.values(keys(username, address))) {
      const failures = (this.tally(key)?.failures ?? 0) + 1;
      // Re-inserted: the map's order is then least recently failed first, which `bound` drops first.
      this.tallies.delete(key);
      this.tallies.set(key, { failures, last: at });
    }
    this.bound();
  }

  /** The attempt was right: its address's failures on that account are forgotten, and its own count taken back. */
  succeeded(username: string, address: string): void {
    const k = keys(username, address);
    this.tallies.delete(k.pair);
    for (const key of [k.address, k.account]) {
      const t = this.tallies.get(key);
      if (t && --t.failures <= 0) this.tallies.delete(key);
    }
  }

  /** Takes back a failure counted for an attempt that could not be checked (the store did not answer). */
  withdraw(username: string, address: string): void {
    for (const key of Object.values(keys(username, address))) {
      const t = this.tallies.get(key);
      if (t && --t.failures <= 0) this.tallies.delete(key);
    }
  }

  private tally(key: string): Tally | undefined {
    const t = this.tallies.get(key);
    if (t && this.clock.now() - t.last >= this.limits.forgetAfterMs) {
      this.tallies.delete(key);
      return undefined;
    }
    return t;
  }

  private wait(key: string, free: number): number {
    const t = this.tally(key);
    if (!t || t.failures < free) return 0;
    const wait = Math.min(this.limits.maxWaitMs, this.limits.firstWaitMs * 2 ** Math.min(t.failures - free, 30));
    return Math.max(0, t.last + wait - this.clock.now());
  }

  private bound(): void {
    if (this.tallies.size <= MAX_KEYS) return;
    for (const key of [...this.tallies.keys()]) this.tally(key);
    for (const key of this.tallies.keys()) {
      if (this.tallies.size <= MAX_KEYS * 0.9) break;
      this.tallies.delete(key);
    }
  }
}

function keys(username: string, address: string) {
  const user = username.toLowerCase();
  const network = throttledNetwork(address);
  return { pair: `p:${user}\n${network}`, address: `a:${network}`, account: `u:${user}` };
}
