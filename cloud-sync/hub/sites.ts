import { SiteRecord } from '../../shared/protocol/api/hub-admin-sites.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { describeIssues } from '../../shared/platform/validation.js';
import type { HubDb, Sql } from './db.js';
import type { DeclaredSite } from './occupancy/projection.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

interface Row {
  id: string;
  name: string;
  time_zone: string;
  capacity: number;
}

const SQL = {
  list: 'SELECT id, name, time_zone, capacity FROM sites ORDER BY id',
  get: 'SELECT id, name, time_zone, capacity FROM sites WHERE id = ?',
  upsert: `INSERT INTO sites (id, name, time_zone, capacity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, capacity = excluded.capacity, updated_at = excluded.updated_at`,
  remove: 'DELETE FROM sites WHERE id = ?',
};

/** A site declared without a capacity is stored with 0 (the column predates the site reporting its own). */
const toRecord = (r: Row): SiteRecord => ({
  id: r.id,
  name: r.name,
  timeZone: r.time_zone,
  ...(r.capacity > 0 ? { capacity: r.capacity } : {}),
});

/** Whether the first argument is a handle to run SQL with, not the value that follows it. */
const isSql = (v: unknown): v is Sql =>
  typeof v === 'object' && v !== null && typeof (v as Partial<Sql>).transaction === 'function';

/**
 * The sites the operator has declared. Ingest does not depend on it. Each method runs on the
 * database, or in the caller's transaction when given its handle first.
 */
export class HubSites {
  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
  ) {}

  async list(q: Sql = this.db): Promise<SiteRecord[]> {
    return (await q.all<Row>(SQL.list)).map(toRecord);
  }

  /** What the live occupancy needs of each declared site (HubLive's `declaredSites`). */
  declared(q: Sql = this.db): Promise<readonly DeclaredSite[]> {
    return this.list(q);
  }

  get(id: string): Promise<SiteRecord | undefined>;
  get(q: Sql, id: string): Promise<SiteRecord | undefined>;
  async get(a: Sql | string, b?: string): Promise<SiteRecord | undefined> {
    const [q, id] = isSql(a) ? [a, b as string] : [this.db, a];
    const row = await q.get<Row>(SQL.get, [id]);
    return row ? toRecord(row) : undefined;
  }

  /**
   * Creates or replaces a site (in a transaction of its own, or in the caller's); returns it as
   * stored and what it was before (undefined when new).
   */
  upsert(input: unknown): Promise<{ value: SiteRecord; before: SiteRecord | undefined }>;
  upsert(q: Sql, input: unknown): Promise<{ value: SiteRecord; before: SiteRecord | undefined }>;
  async upsert(a: unknown, b?: unknown): Promise<{ value: SiteRecord; before: SiteRecord | undefined }> {
    const [q, input] = isSql(a) ? [a, b] : [undefined, a];
    const parsed = checkUntrusted(SiteRecord, input);
    if (!parsed.success) throw new TesseraError('request.invalid', 'invalid site', describeIssues(parsed.error, input));
    const value = parsed.data;
    const at = this.now();
    const save = async (tx: Sql) => {
      const before = await this.get(tx, value.id);
      await tx.run(SQL.upsert, [value.id, value.name, value.timeZone, value.capacity ?? 0, at, at]);
      return { value, before };
    };
    return q ? save(q) : this.db.transaction(save);
  }

  /** Forgets a declared site (its events stay). Returns what it was. */
  remove(id: string): Promise<SiteRecord>;
  remove(q: Sql, id: string): Promise<SiteRecord>;
  async remove(a: Sql | string, b?: string): Promise<SiteRecord> {
    const [q, id] = isSql(a) ? [a, b as string] : [this.db, a];
    const before = await this.get(q, id);
    if (!before) throw new TesseraError('not_found', `no site ${JSON.stringify(id)}`);
    await q.run(SQL.remove, [id]);
    return before;
  }
}
