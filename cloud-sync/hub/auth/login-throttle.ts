import type { Clock } from '../../../shared/clock.js';

/** 5 failed logins for one username, or 20 from one address, within 15 minutes: further tries wait. */
export const THROTTLE = { windowMs: 15 * 60 * 1000, perUsername: 5, perAddress: 20 } as const;

/**
 * Counts failed logins per username and per client address on the injected clock. While either
 * is over its limit every attempt is refused, a right password included, until the oldest
 * failure in the window ages out. In memory: a hub restart forgets it, which costs an attacker a
 * restart they cannot cause. An address limit higher than the username one keeps one office
 * behind a NAT from locking itself out over a few typos.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: { windowMs: number; perUsername: number; perAddress: number } = THROTTLE,
  ) {}

  /** Milliseconds to wait before trying again, or 0 when an attempt may go ahead. */
  retryAfterMs(username: string, address: string): number {
    return Math.max(this.wait(`u:${username.toLowerCase()}`, this.limits.perUsername), this.wait(`a:${address}`, this.limits.perAddress));
  }

  /** Counts one failure; returns its time, which `succeeded` takes back if it turns out right. */
  failed(username: string, address: string): number {
    const at = this.clock.now();
    if (this.failures.size > 10_000) for (const key of [...this.failures.keys()]) this.recent(key);
    for (const key of [`u:${username.toLowerCase()}`, `a:${address}`]) this.failures.set(key, [...this.recent(key), at]);
    return at;
  }

  /** A successful attempt: clears its username's failures, and takes back its own count at its address. */
  succeeded(username: string, attempt: number, address?: string): void {
    this.failures.delete(`u:${username.toLowerCase()}`);
    if (address === undefined) return;
    const list = this.failures.get(`a:${address}`) ?? [];
    const i = list.lastIndexOf(attempt);
    if (i >= 0) list.splice(i, 1);
  }

  private recent(key: string): number[] {
    const since = this.clock.now() - this.limits.windowMs;
    const kept = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (kept.length === 0) this.failures.delete(key);
    else this.failures.set(key, kept);
    return kept;
  }

  private wait(key: string, limit: number): number {
    const recent = this.recent(key);
    if (recent.length < limit) return 0;
    const oldestThatCounts = recent[recent.length - limit] ?? this.clock.now();
    return oldestThatCounts + this.limits.windowMs - this.clock.now();
  }
}
