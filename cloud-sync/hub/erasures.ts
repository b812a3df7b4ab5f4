import { ErasedMembers, pseudonymiseEvent, pseudonymOf } from '../../shared/protocol/erasure.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import type { DirectoryChange, EventBatch } from '../../shared/protocol/sync.js';
import type { HubDb } from './db.js';

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

  constructor(private readonly db: HubDb) {}

  /** Read at first use: a hub that never erased anyone pays nothing at start. */
  private get members(): ErasedMembers {
    if (!this.known) {
      const salt = this.db.prepare<[], { salt: string }>('SELECT salt FROM erasure_salt WHERE id = 1').get()?.salt;
      if (salt === undefined) throw new Error('the hub database has no erasure salt');
      const pseudonyms = this.db.prepare<[], string>('SELECT pseudonym FROM member_erasures').pluck().all();
      this.known = new ErasedMembers(salt, pseudonyms);
    }
    return this.known;
  }

  pseudonymOf(memberId: string): string {
    return pseudonymOf(this.members.salt, memberId);
  }

  /** The pseudonym of `memberId` if that member was erased. */
  match(memberId: string): string | undefined {
    return this.members.match(memberId);
  }

  isRecorded(pseudonym: string): boolean {
    return this.members.has(pseudonym);
  }

  /** Inside the transaction of the erasure; call `remember` once it committed. */
  record(pseudonym: string, revision: number, atMs: number): void {
    this.db
      .prepare(
        'INSERT INTO member_erasures (pseudonym, revision, at) VALUES (?, ?, ?) ON CONFLICT (pseudonym) DO NOTHING',
      )
      .run(pseudonym, revision, atMs);
  }

  /** After the erasure committed: from now on ingest rewrites events naming the erased id. */
  remember(pseudonym: string): void {
    this.members.add(pseudonym);
  }

  /** The erasures of revisions after `revision`, as directory changes; all of them from 0. */
  changesSince(revision: number): EraseChange[] {
    const salt = this.members.salt;
    return this.db
      .prepare<[number], string>(
        'SELECT pseudonym FROM member_erasures WHERE revision > ? ORDER BY revision, pseudonym',
      )
      .pluck()
      .all(revision)
      .map((pseudonym) => ({ entity: 'member', op: 'erase', pseudonym, salt }));
  }

  /** The batch with every event about an erased member pseudonymised (the same batch when none is). */
  pseudonymise(batch: EventBatch): EventBatch {
    if (this.members.size === 0) return batch;
    const match = (id: string) => this.members.match(id);
    let changed = false;
    const events = batch.events.map((e) => {
      const out = pseudonymiseEvent(e, match) as SiteEvent;
      changed ||= out !== e;
      return out;
    });
    return changed ? { ...batch, events } : batch;
  }
}
