import type { SqlStatement } from './storage/hub-db.js';
import { SiteRecord } from '../../shared/protocol/api/hub-admin-sites.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { describeIssues } from '../../shared/platform/validation.js';
import type { HubDb } from './db.js';

interface Row {
  id: string;
  name: string;
  time_zone: string;
  capacity: number;
}

/** A site declared without a capacity is stored with 0 (the column predates the site reporting its own). */
const toRecord = (r: Row): SiteRecord => ({
  id: r.id,
  name: r.name,
  timeZone: r.time_zone,
  ...(r.capacity > 0 ? { capacity: r.capacity } : {}),
});

/** The sites the operator has declared. Ingest does not depend on it. */
export class HubSites {
  /** Prepared once: the live projection lists the sites for each batch that changes a count. */
  private readonly stmt: { list: SqlStatement<[], Row>; get: SqlStatement<[string], Row> };

  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
  ) {
    this.stmt = {
      list: db.prepare('SELECT id, name, time_zone, capacity FROM sites ORDER BY id'),
      get: db.prepare('SELECT id, name, time_zone, capacity FROM sites WHERE id = ?'),
    };
  }

  list(): SiteRecord[] {
    return this.stmt.list.all().map(toRecord);
  }

  get(id: string): SiteRecord | undefined {
    const row = this.stmt.get.get(id);
    return row ? toRecord(row) : undefined;
  }

  /** Creates or replaces a site; returns it as stored and what it was before (undefined when new). */
  upsert(input: unknown): { value: SiteRecord; before: SiteRecord | undefined } {
    const parsed = SiteRecord.safeParse(input);
    if (!parsed.success) throw new TesseraError('request.invalid', 'invalid site', describeIssues(parsed.error, input));
    const value = parsed.data;
    const at = this.now();
    return this.db.transaction(() => {
      const before = this.get(value.id);
      this.db
        .prepare(
          `INSERT INTO sites (id, name, time_zone, capacity, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, capacity = excluded.capacity, updated_at = excluded.updated_at`,
        )
        .run(value.id, value.name, value.timeZone, value.capacity ?? 0, at, at);
      return { value, before };
    })();
  }

  /** Forgets a declared site (its events stay). Returns what it was. */
  remove(id: string): SiteRecord {
    const before = this.get(id);
    if (!before) throw new TesseraError('not_found', `no site ${JSON.stringify(id)}`);
    this.db.prepare('DELETE FROM sites WHERE id = ?').run(id);
    return before;
  }
}
