import { ErasedMembers, pseudonymiseEvent, pseudonymOf } from '../../shared/protocol/erasure.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import type { DirectoryChange, EventBatch } from '../../shared/protocol/sync.js';
import type { Sql, Tx } from './db.js';
import { sqlDialect } from './storage/dialect.js';

type EraseChange = Extract<DirectoryChange, { op: 'erase' }>;

/**
 * The members erased at this hub (table `member_erasures`), known by their pseudonyms only, and
 * the salt that gives each id its pseudonym. What the directory sends sites (every erasure since
 * their revision, all of them in a snapshot) and what ingest checks each event against: an
 * event naming an erased id, from a site that had not heard of the erasure yet, is stored under
 * the pseudonym.
 */
export class HubErasures {
  private known: ErasedMembers | undefined;
  /** Every pseudonym remembered by this hub: added to what a read under way when it committed returns. */
  private readonly remembered = new Set<string>();
  /** The transactions that took the lock and read the count (`current`). */
  private readonly checked = new WeakSet<Tx>();

  /** Read at first use, through the caller's handle: a hub that never erased anyone pays nothing at start. */
  private async members(q: Sql): Promise<ErasedMembers> {
    if (this.known) return this.known;
    const salt = await q.value<string>('SELECT salt FROM erasure_salt WHERE id = 1');
    if (salt === undefined) throw new Error('the hub database has no erasure salt');
    const pseudonyms = await q.column<string>('SELECT pseudonym FROM member_erasures');
    if (!this.known) {
      this.known = new ErasedMembers(salt, pseudonyms);
      for (const p of this.remembered) this.known.add(p);
    }
    return this.known;
  }

  /**
   * The erasures as `tx` sees them: read again when the table holds another count than what is
   * known (an erasure committed by another hub instance, or by this one a moment before it was
   * remembered). What ingest checks a batch against.
   */
  private async current(tx: Tx): Promise<ErasedMembers> {
    const known = await this.members(tx);
    // Once per transaction (an ingest group): its batches share the lock and the count.
    if (this.checked.has(tx)) return known;
    this.checked.add(tx);
    const lock = sqlDialect(tx).lockEvents('ingest');
    if (lock !== undefined) await tx.run(lock);
    const count = Number(await tx.value<number>('SELECT COUNT(*) FROM member_erasures'));
    if (count === known.size) return known;
    const fresh = new ErasedMembers(known.salt, await tx.column<string>('SELECT pseudonym FROM member_erasures'));
    for (const p of this.remembered) fresh.add(p);
    return (this.known = fresh);
  }

  async pseudonymOf(q: Sql, memberId: string): Promise<string> {
    return pseudonymOf((await this.members(q)).salt, memberId);
  }

  /** The pseudonym of `memberId` if that member was erased. */
  async match(q: Sql, memberId: string): Promise<string | undefined> {
    return (await this.members(q)).match(memberId);
  }

  async isRecorded(q: Sql, pseudonym: string): Promise<boolean> {
    return (await this.members(q)).has(pseudonym);
  }

  /** Inside the transaction of the erasure; call `remember` once it committed. */
  async record(tx: Tx, pseudonym: string, revision: number, atMs: number): Promise<void> {
    await tx.run(
      'INSERT INTO member_erasures (pseudonym, revision, at) VALUES (?, ?, ?) ON CONFLICT (pseudonym) DO NOTHING',
      [pseudonym, revision, atMs],
    );
  }

  /** After the erasure committed: from now on ingest rewrites events naming the erased id. */
  remember(pseudonym: string): void {
    this.remembered.add(pseudonym);
    this.known?.add(pseudonym);
  }

  /** The erasures of revisions after `revision`, as directory changes; all of them from 0. */
  async changesSince(q: Sql, revision: number): Promise<EraseChange[]> {
    const { salt } = await this.members(q);
    const pseudonyms = await q.column<string>(
      'SELECT pseudonym FROM member_erasures WHERE revision > ? ORDER BY revision, pseudonym',
      [revision],
    );
    return pseudonyms.map((pseudonym) => ({ entity: 'member', op: 'erase', pseudonym, salt }));
  }

  /**
   * The batch with every event about an erased member pseudonymised (the same batch when none
   * is): ingest's `pseudonymise`, inside its transaction.
   */
  async pseudonymise(tx: Tx, batch: EventBatch): Promise<EventBatch> {
    const members = await this.current(tx);
    if (members.size === 0) return batch;
    const match = (id: string) => members.match(id);
    let changed = false;
    const events = batch.events.map((e) => {
      const out = pseudonymiseEvent(e, match) as SiteEvent;
      changed ||= out !== e;
      return out;
    });
    return changed ? { ...batch, events } : batch;
  }
}
