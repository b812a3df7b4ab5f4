import type { Clock, TimerHandle } from '../../shared/platform/clock.js';
import type { Plan } from '../../shared/protocol/directory.js';
import type { DenyReason } from '../../shared/protocol/reasons.js';
import type { Gpio, OutputLine } from '../hardware/types.js';
import type { EdgeStore } from '../store/store.js';

export interface LockerOpening {
  bank: string;
  number: number;
  /** A free-mode locker the member takes now. */
  claim: boolean;
}
export type LockerChoice = { open: LockerOpening } | { denied: DenyReason };

/** One bank as the lockers drive it (edge/site maps the site config's lockers to this). */
export interface LockerBankOptions {
  id: string;
  /** `assigned`: each member's own locker, from the directory; `free`: the first free one, held until check-out. */
  mode: 'assigned' | 'free';
  activeLow: boolean;
  /** How long a locker's relay is energised to open it. */
  pulseMs: number;
  /** One relay line per locker; locker numbers are 1-based in this order. */
  relays: readonly number[];
}

interface BankRuntime {
  config: LockerBankOptions;
  relays: OutputLine[];
  pulses: Map<number, TimerHandle>;
}

/**
 * Locker banks: a reader and one relay per locker. `assigned` banks open the member's own locker
 * (from the directory); `free` banks give the first tap a free locker, open it on later taps, and
 * release it at check-out or on request. Store changes run inside the caller's transaction; the
 * relay pulse happens after commit (`pulse`).
 */
export class LockerBanks {
  private readonly banks = new Map<string, BankRuntime>();

  constructor(
    private readonly deps: { banks: readonly LockerBankOptions[]; gpio: Gpio; clock: Clock; store: EdgeStore },
  ) {
    // Rows exist before start so a directory can assign lockers before the relays are claimed.
    for (const config of deps.banks) {
      this.banks.set(config.id, { config, relays: [], pulses: new Map() });
      deps.store.lockers.ensure(config.id, config.relays.length);
    }
  }

  start(): void {
    for (const bank of this.banks.values()) {
      bank.relays = bank.config.relays.map((line) => this.deps.gpio.output(line, { activeLow: bank.config.activeLow }));
    }
  }

  stop(): void {
    for (const bank of this.banks.values()) {
      for (const p of bank.pulses.values()) p.cancel();
      bank.pulses.clear();
      for (const r of bank.relays) r.write(false);
    }
  }

  /**
   * Which locker a tap at this bank opens, for an already admitted member. Reads only: the caller
   * records the choice with `record` inside its transaction.
   */
  choose(
    bankId: string,
    member: string,
    plan: Plan | undefined,
    lockerOfMember: { bank: string; number: number } | undefined,
  ): LockerChoice {
    const bank = this.banks.get(bankId);
    if (!bank) return { denied: 'no_locker_available' };
    if (bank.config.mode === 'assigned') {
      const own =
        lockerOfMember?.bank === bankId && lockerOfMember.number <= bank.config.relays.length
          ? lockerOfMember.number
          : undefined;
      return own === undefined
        ? { denied: 'locker_not_entitled' }
        : { open: { bank: bankId, number: own, claim: false } };
    }
    const held = this.deps.store.lockers.heldBy(bankId, member);
    if (held) return { open: { bank: bankId, number: held.number, claim: false } };
    if (!plan?.lockers) return { denied: 'locker_not_entitled' };
    const free = this.deps.store.lockers.firstFree(bankId);
    return free ? { open: { bank: bankId, number: free.number, claim: true } } : { denied: 'no_locker_available' };
  }

  /** Records an opening chosen by `choose`. Inside the caller's transaction. */
  record(open: LockerOpening, member: string, atMs: number): void {
    const { store } = this.deps;
    if (open.claim) {
      store.lockers.assign(open.bank, open.number, member, atMs);
      store.events.append(
        { type: 'locker.assigned', data: { bank: open.bank, locker: open.number, memberId: member, mode: 'free' } },
        atMs,
      );
    }
    store.events.append(
      { type: 'locker.opened', data: { bank: open.bank, locker: open.number, memberId: member } },
      atMs,
    );
  }

  /** Releases the member's lockers in free banks (at check-out). Inside the caller's transaction. */
  releaseFreeLockersOf(member: string, atMs: number): void {
    for (const row of this.deps.store.lockers.allHeldBy(member)) {
      if (this.banks.get(row.bank)?.config.mode !== 'free') continue;
      this.releaseRow(row.bank, row.number, member, 'checkout', atMs);
    }
  }

  /** A site manager frees a locker. Returns false if it was not held. Runs its own transaction. */
  release(bankId: string, number: number, atMs: number): boolean {
    const { store } = this.deps;
    return store.transaction(() => {
      const row = store.lockers.get(bankId, number);
      if (!row?.member) return false;
      this.releaseRow(bankId, number, row.member, 'request', atMs);
      return true;
    });
  }

  /**
   * Mirrors the directory's assignments into assigned banks, recording each change as an event.
   * Inside the caller's transaction (the directory replacement).
   */
  syncAssigned(atMs: number): void {
    const { store } = this.deps;
    const wanted = new Map<string, string>();
    for (const a of store.directory.assignedLockers()) wanted.set(`${a.bank}#${a.number}`, a.member);
    for (const bank of this.banks.values()) {
      if (bank.config.mode !== 'assigned') continue;
      for (const row of store.lockers.bank(bank.config.id)) {
        const member = wanted.get(`${row.bank}#${row.number}`);
        if (row.member === (member ?? null)) continue;
        if (row.member) this.releaseRow(row.bank, row.number, row.member, 'request', atMs);
        if (member) {
          store.lockers.assign(row.bank, row.number, member, atMs);
          store.events.append(
            {
              type: 'locker.assigned',
              data: { bank: row.bank, locker: row.number, memberId: member, mode: 'assigned' },
            },
            atMs,
          );
        }
      }
    }
  }

  /** Energises the locker's relay for the bank's pulse. Call after the transaction committed. */
  pulse(bankId: string, number: number): void {
    const bank = this.banks.get(bankId);
    const relay = bank?.relays[number - 1];
    if (!bank || !relay) return;
    bank.pulses.get(number)?.cancel();
    relay.write(true);
    bank.pulses.set(
      number,
      this.deps.clock.setTimeout(() => {
        relay.write(false);
        bank.pulses.delete(number);
      }, bank.config.pulseMs),
    );
  }

  describe(): Array<{
    id: string;
    mode: string;
    lockers: Array<{ number: number; member: string | null; since: number | null }>;
  }> {
    return [...this.banks.values()].map((b) => ({
      id: b.config.id,
      mode: b.config.mode,
      lockers: this.deps.store.lockers
        .bank(b.config.id)
        .map((r) => ({ number: r.number, member: r.member, since: r.since })),
    }));
  }

  private releaseRow(bank: string, number: number, member: string, cause: 'checkout' | 'request', atMs: number): void {
    this.deps.store.lockers.release(bank, number);
    this.deps.store.events.append(
      { type: 'locker.released', data: { bank, locker: number, memberId: member, cause } },
      atMs,
    );
  }
}
