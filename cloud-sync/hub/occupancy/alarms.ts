import type { SiteEvent } from '../../../shared/protocol/events.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { SiteStatus } from '../../../shared/protocol/sync.js';
import type { HubDb } from '../db.js';
import { type AlarmKind, type ClearRule, alarmEffect } from './alarm-rules.js';
import { sqlDialect } from '../storage/dialect.js';
import type { Alarm } from '../../../shared/protocol/api/hub-occupancy.js';

// An alarm as the API and the live stream carry it (shared/protocol/api/hub-occupancy.ts).
export type { Alarm };

interface Row {
  id: number;
  site: string;
  kind: AlarmKind;
  subject: string;
  detail: string | null;
  raised_at: string;
  raised_seq: number | null;
  last_seq: number | null;
  count: number;
  cleared_at: string | null;
  cleared_by: string | null;
  acked_at: number | null;
  acked_by: string | null;
}

const toAlarm = (r: Row): Alarm => ({
  id: r.id,
  site: r.site,
  kind: r.kind,
  subject: r.subject,
  detail: r.detail,
  raisedAt: r.raised_at,
  count: r.count,
  clearedAt: r.cleared_at,
  clearedBy: r.cleared_by,
  acknowledgedAt: r.acked_at === null ? null : new Date(r.acked_at).toISOString(),
  acknowledgedBy: r.acked_by,
  open: r.cleared_at === null || r.acked_at === null,
});

const OPEN = '(cleared_at IS NULL OR acked_at IS NULL)';

/**
 * The alarms of the network, kept in SQLite: raised and cleared by the rules of alarm-rules.ts
 * (events) and by site status (offline), acknowledged by people. Applying an event twice, or
 * out of order after a gap, gives the same alarms: an alarm remembers the seqs that raised it,
 * and one raised after its clearing event arrived is stored already cleared.
 */
export class AlarmBook {
  /** Built once: better-sqlite3 wraps a function anew at every `transaction()` call. */
  private readonly applyTx: (events: readonly SiteEvent[]) => Alarm[];

  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
  ) {
    this.applyTx = db.transaction((events: readonly SiteEvent[]) => {
      const changed = new Map<number, Alarm>();
      for (const e of events) for (const a of this.applyOne(e)) changed.set(a.id, a);
      return [...changed.values()];
    });
  }

  /** Applies a site's newly stored events; returns the alarms raised or changed. */
  apply(events: readonly SiteEvent[]): Alarm[] {
    return this.applyTx(events);
  }

  /**
   * A site's status: offline, or online but silent for `silentSeconds` (past its heartbeat's
   * bound), raises one site.offline alarm; online and on time clears it. A log behind the hub's
   * ack (a deleted database: the site sends nothing until renumbered) raises sync.log_behind
   * until the site reports it no more. Returns what changed.
   */
  onStatus(status: SiteStatus, silentSeconds?: number): Alarm[] {
    const detail = !status.online
      ? 'last will or shutdown'
      : silentSeconds !== undefined
        ? `no status for ${silentSeconds} s`
        : null;
    const behind =
      status.logBehindHub === undefined
        ? null
        : `the site's log ends at ${status.lastSeq}, the hub holds up to ${status.logBehindHub}: its database was lost or replaced; its new events are held at the site until \`tessera edge renumber --after ${status.logBehindHub}\` is run there`;
    return [
      ...this.condition(status.site, 'sync.log_behind', behind, 'renumbered'),
      ...this.condition(status.site, 'site.offline', detail, 'site.online'),
    ];
  }

  /**
   * A site's directory nearing the age at which its doors refuse a role (`warning`: what the
   * alarm says; null once the hub has confirmed it again). Returns what changed.
   */
  onDirectoryAge(site: string, warning: string | null): Alarm[] {
    return this.condition(site, 'directory.stale_soon', warning, 'directory.confirmed');
  }

  /** A condition the hub judges itself about a whole site: one alarm while `detail` is set, cleared when it is not. */
  private condition(site: string, kind: AlarmKind, detail: string | null, clearedBy: string): Alarm[] {
    const active = this.active(site, kind, site);
    const at = new Date(this.now()).toISOString();
    if (detail !== null && !active) return [this.get(this.insert(site, kind, site, detail, at, null, null)) as Alarm];
    if (detail === null && active) return this.clear(site, [kind], site, clearedBy, at, Infinity);
    return [];
  }

  /** Newest first; `sites` (a site manager's) limits the list to those sites, in SQL, before the limit. */
  list(filter: { open?: boolean; site?: string; sites?: readonly string[]; limit?: number } = {}): Alarm[] {
    const where = [
      filter.open === undefined ? 'TRUE' : filter.open ? OPEN : `NOT ${OPEN}`,
      filter.site !== undefined ? 'site = @site' : 'TRUE',
      filter.sites !== undefined ? `site IN ${sqlDialect(this.db).jsonArrayValues('@sites')}` : 'TRUE',
    ].join(' AND ');
    const params = {
      ...(filter.site !== undefined ? { site: filter.site } : {}),
      ...(filter.sites !== undefined ? { sites: JSON.stringify(filter.sites) } : {}),
      limit: filter.limit ?? 500,
    };
    return this.db
      .prepare<typeof params, Row>(`SELECT * FROM alarms WHERE ${where} ORDER BY id DESC LIMIT @limit`)
      .all(params)
      .map(toAlarm);
  }

  get(id: number): Alarm | undefined {
    const row = this.db.prepare<[number], Row>('SELECT * FROM alarms WHERE id = ?').get(id);
    return row ? toAlarm(row) : undefined;
  }

  /** Records who saw it and when; acknowledging again keeps the first acknowledgement. */
  acknowledge(id: number, by: string): Alarm {
    if (!this.get(id)) throw new TesseraError('not_found', `no alarm ${id}`);
    this.db
      .prepare('UPDATE alarms SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL')
      .run(this.now(), by, id);
    return this.get(id) as Alarm;
  }

  /** Open alarms per site. */
  openCounts(): Map<string, number> {
    const rows = this.db
      .prepare<[], { site: string; n: number }>(`SELECT site, COUNT(*) AS n FROM alarms WHERE ${OPEN} GROUP BY site`)
      .all();
    return new Map(rows.map((r) => [r.site, r.n]));
  }

  private applyOne(e: SiteEvent): Alarm[] {
    const effect = alarmEffect(e);
    if (effect === null) return [];
    if ('clear' in effect)
      return this.clear(e.site, effect.clear.kinds, effect.clear.subject, effect.clear.by, e.at, e.seq);
    const { kind, subject, detail, clears } = effect.raise;
    const seen = this.db
      .prepare<[string, string, string, number], { id: number }>(
        'SELECT id FROM alarms WHERE site = ? AND kind = ? AND subject = ? AND ? BETWEEN raised_seq AND last_seq',
      )
      .get(e.site, kind, subject, e.seq);
    if (seen) return [];
    const active = this.active(e.site, kind, subject);
    if (active) {
      // Raised again while still active: counted, once per seq above the last one counted.
      if ((active.last_seq ?? 0) >= e.seq) return [];
      this.db.prepare('UPDATE alarms SET count = count + 1, last_seq = ? WHERE id = ?').run(e.seq, active.id);
      return [this.get(active.id) as Alarm];
    }
    const later = clears ? this.laterClear(e.site, e.seq, clears) : undefined;
    const id = this.insert(
      e.site,
      kind,
      subject,
      detail,
      e.at,
      e.seq,
      clears === null ? { at: e.at, by: 'one-off' } : later,
    );
    return [this.get(id) as Alarm];
  }

  private insert(
    site: string,
    kind: AlarmKind,
    subject: string,
    detail: string | null,
    at: string,
    seq: number | null,
    cleared: { at: string; by: string } | undefined | null,
  ): number {
    return this.db
      .prepare<unknown[], number>(
        'INSERT INTO alarms (site, kind, subject, detail, raised_at, raised_seq, last_seq, cleared_at, cleared_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id',
      )
      .pluck()
      .get(site, kind, subject, detail, at, seq, seq, cleared?.at ?? null, cleared?.by ?? null) as number;
  }

  private active(site: string, kind: AlarmKind, subject: string): Row | undefined {
    return this.db
      .prepare<[string, string, string], Row>(
        'SELECT * FROM alarms WHERE site = ? AND kind = ? AND subject = ? AND cleared_at IS NULL ORDER BY id DESC LIMIT 1',
      )
      .get(site, kind, subject);
  }

  /** Clears the active alarms of `subject` raised before seq `beforeSeq`. */
  private clear(site: string, kinds: AlarmKind[], subject: string, by: string, at: string, beforeSeq: number): Alarm[] {
    const rows = this.db
      .prepare<unknown[], { id: number }>(
        `SELECT id FROM alarms WHERE site = ? AND subject = ? AND cleared_at IS NULL AND kind IN (${kinds.map(() => '?').join(', ')}) AND COALESCE(last_seq, 0) < ?`,
      )
      .all(site, subject, ...kinds, Number.isFinite(beforeSeq) ? beforeSeq : Number.MAX_SAFE_INTEGER);
    const update = this.db.prepare('UPDATE alarms SET cleared_at = ?, cleared_by = ? WHERE id = ?');
    return rows.map((r) => {
      update.run(at, by, r.id);
      return this.get(r.id) as Alarm;
    });
  }

  /** A clearing event stored with a higher seq (it arrived first, across a gap). */
  private laterClear(site: string, seq: number, rule: ClearRule): { at: string; by: string } | undefined {
    const paths = Object.keys(rule.match);
    const sql = `SELECT at FROM events WHERE site = ? AND seq > ? AND type = ? ${paths.map(() => 'AND json_extract(body, ?) = ?').join(' ')} ORDER BY seq LIMIT 1`;
    const row = this.db
      .prepare<unknown[], { at: string }>(sql)
      .get(site, seq, rule.type, ...paths.flatMap((p) => [p, rule.match[p]]));
    return row ? { at: row.at, by: rule.type === 'door.secured' ? 'door.secured' : 'reader.found' } : undefined;
  }
}
