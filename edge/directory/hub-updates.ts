import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { Directory } from '../../shared/protocol/directory.js';
import { SignedDirectoryUpdate, type DirectoryChange, type DirectoryUpdate } from '../../shared/protocol/sync.js';
import { describeIssues, formatDetails } from '../../shared/platform/validation.js';
import type { Db } from '../../shared/platform/sqlite.js';
import type { DirectoryEdit, DirectoryRepo } from '../store/directory-repo.js';
import { applyErasures, type Erasure } from '../store/erasure.js';
import { openSigned } from './signed-message.js';

/** What the hub's directory updates need of the site (edge/site/edge.ts passes itself). */
export interface DirectorySite {
  readonly store: {
    readonly db: Db;
    readonly directory: Pick<DirectoryRepo, 'describe'>;
    transaction<T>(fn: () => T): T;
  };
  /** Replaces the whole directory (a snapshot), in one transaction with the lockers it assigns. */
  applyDirectory(dir: Directory, source: string, issuedAt: number | null): void;
  /** Applies a delta; returns the references it would leave dangling (then nothing changed). */
  applyDirectoryChanges(edits: readonly DirectoryEdit[], revision: number, source: string, issuedAt: number): string[];
  /** Records a refused update as a fault the hub sees. */
  rejectDirectory(source: string, detail: string): void;
}

export type Refusal = 'malformed' | 'forged' | 'foreign' | 'replayed' | 'out_of_order' | 'inconsistent';

export type UpdateOutcome =
  | { applied: true; revision: number }
  | { applied: false; pending: true }
  | { applied: false; duplicate: true }
  | { applied: false; refused: Refusal; detail: string };

type Snapshot = Extract<DirectoryUpdate, { kind: 'snapshot' }>;
type EraseChange = Extract<DirectoryChange, { op: 'erase' }>;
const isErase = (c: DirectoryChange): c is EraseChange => c.op === 'erase';

/** Rolls back the erasures of an update refused as inconsistent. */
class Inconsistent extends Error {}

/**
 * The site's end of the hub's directory (docs/security.md): every update must
 * carry the pinned hub key's signature, name this site, be newer than the one in force, and
 * follow on from this site's revision. Anything else is refused, counted and recorded, and the
 * directory in force stays as it was.
 */
export class HubDirectoryUpdates {
  readonly refused = new Map<Refusal, number>();
  /** Updates received again once in force: counted apart, never a fault. */
  duplicates = 0;
  private snapshot: { key: string; parts: Map<number, DirectoryChange[]>; body: Snapshot } | undefined;
  /** The newest revision of a delta refused as out of order (the site missed the one before), until one applies. */
  private missedTo: number | undefined;

  constructor(private readonly deps: { site: string; publicKey: KeyObject; edge: DirectorySite; log: Logger }) {}

  receive(payload: Buffer | string): UpdateOutcome {
    const opened = openSigned(payload, SignedDirectoryUpdate, { ...this.deps, what: 'an update' });
    if ('refused' in opened) return this.refuse(opened.refused, opened.detail);
    const { body } = opened;
    const current = this.deps.edge.store.directory.describe();
    const issuedAt = Date.parse(body.issuedAt);
    // The update in force received again (a QoS 1 redelivery, a re-sent snapshot chunk): harmless, not a fault.
    if (current?.issuedAt === issuedAt && current.revision === body.to) return this.duplicate(body);
    if (current?.issuedAt != null && issuedAt <= current.issuedAt)
      return this.refuse('replayed', `issued ${body.issuedAt}, not after the update in force`);
    const revision = current?.revision ?? 0;
    const outcome =
      body.kind === 'delta' ? this.delta(body, revision, issuedAt) : this.snapshotChunk(body, revision, issuedAt);
    // Following on again: whatever was missed before is behind.
    if (outcome.applied) this.missedTo = undefined;
    return outcome;
  }

  private delta(body: Extract<DirectoryUpdate, { kind: 'delta' }>, revision: number, issuedAt: number): UpdateOutcome {
    if (body.to < body.from) return this.refuse('malformed', `revision ${body.from} → ${body.to} goes backwards`);
    if (body.from !== revision) {
      if (body.to <= revision) return this.refuse('replayed', `revision ${body.to} is not newer than ${revision}`);
      this.missedTo = Math.max(this.missedTo ?? 0, body.to);
      return this.refuse('out_of_order', `a delta from revision ${body.from}, this site is at ${revision}`);
    }
    const edits = body.changes.flatMap((c) => (isErase(c) ? [] : [toEdit(c)]));
    const dangling = this.withErasures(body.changes.filter(isErase), () =>
      this.deps.edge.applyDirectoryChanges(edits, body.to, 'hub', issuedAt),
    );
    if (dangling.length > 0) return this.refuse('inconsistent', dangling.slice(0, 5).join('; '));
    return { applied: true, revision: body.to };
  }

  /** Chunks are kept until all have arrived, then the whole directory is replaced at once. */
  private snapshotChunk(body: Snapshot, revision: number, issuedAt: number): UpdateOutcome {
    if (body.to < revision)
      return this.refuse('replayed', `snapshot of revision ${body.to}, this site is at ${revision}`);
    if (body.chunk >= body.chunks) return this.refuse('malformed', `chunk ${body.chunk} of ${body.chunks}`);
    const key = `${body.to}@${body.issuedAt}#${body.chunks}`;
    if (this.snapshot?.key !== key) this.snapshot = { key, parts: new Map(), body };
    this.snapshot.parts.set(body.chunk, body.changes);
    if (this.snapshot.parts.size < body.chunks) return { applied: false, pending: true };
    const changes = [...this.snapshot.parts.entries()].sort(([a], [b]) => a - b).flatMap(([, c]) => c);
    this.snapshot = undefined;
    const pick = <E extends DirectoryChange['entity']>(entity: E) =>
      changes.flatMap((c) => (c.op === 'upsert' && c.entity === entity ? [c.value] : []));
    const dir = Directory.safeParse({
      revision: body.to,
      plans: pick('plan'),
      employers: pick('employer'),
      members: pick('member'),
      badges: pick('badge'),
      resources: pick('resource'),
      bookings: pick('booking'),
    });
    if (!dir.success)
      return this.refuse('inconsistent', formatDetails(describeIssues(dir.error, undefined)).slice(0, 400));
    this.withErasures(changes.filter(isErase), () => {
      this.deps.edge.applyDirectory(dir.data, 'hub', issuedAt);
      return [];
    });
    return { applied: true, revision: body.to };
  }

  /**
   * Applies the update's erasures, then the update, in one transaction: first, because an
   * erasure deletes the badges of the member it finds, which the update deletes too. An update
   * refused as inconsistent (what `apply` returns) takes its erasures with it.
   */
  private withErasures(erasures: readonly Erasure[], apply: () => string[]): string[] {
    if (erasures.length === 0) return apply();
    const { store } = this.deps.edge;
    let dangling: string[] = [];
    try {
      const counts = store.transaction(() => {
        const erased = applyErasures(store.db, erasures);
        dangling = apply();
        if (dangling.length > 0) throw new Inconsistent();
        return erased;
      });
      if (counts.members > 0)
        this.deps.log.info(counts, 'members erased by the hub: their events pseudonymised, their badges deleted');
    } catch (err) {
      if (!(err instanceof Inconsistent)) throw err;
    }
    return dangling;
  }

  /** The newest revision refused for a missed update, until an update applies again. */
  missed(): number | undefined {
    return this.missedTo;
  }

  private duplicate(body: DirectoryUpdate): UpdateOutcome {
    this.duplicates++;
    this.deps.log.debug({ revision: body.to, kind: body.kind }, 'directory update already in force: ignored');
    return { applied: false, duplicate: true };
  }

  private refuse(reason: Refusal, detail: string): UpdateOutcome {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
    this.deps.log.warn({ reason, detail }, 'directory update refused: the directory in force stays');
    // Out of order is routine after a missed message (the status asks again); the rest is recorded.
    if (reason !== 'out_of_order') this.deps.edge.rejectDirectory('hub', `${reason}: ${detail}`);
    return { applied: false, refused: reason, detail };
  }
}

function toEdit(change: Exclude<DirectoryChange, EraseChange>): DirectoryEdit {
  return change.op === 'delete' ? { entity: change.entity, id: change.id } : (change as DirectoryEdit);
}
