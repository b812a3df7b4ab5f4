import type { SiteEvent } from '../../../shared/protocol/events.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { SiteStatus } from '../../../shared/protocol/sync.js';
import type { HubDb, Sql } from '../db.js';
import { type AlarmEffect, type AlarmKind, type ClearRule, alarmEffect } from './alarm-rules.js';
import { sqlDialect } from '../storage/dialect.js';
import { rowChunks, valueColumns, valuesOf } from './rows.js';
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
/** The active alarm of a site, kind and subject, if any. */
const ACTIVE_CONDITION =
  'SELECT * FROM alarms WHERE site = ? AND kind = ? AND subject = ? AND cleared_at IS NULL ORDER BY id DESC LIMIT 1';
const COLUMNS = 'site, kind, subject, detail, raised_at, raised_seq, last_seq, count, cleared_at, cleared_by';
/** One row of COLUMNS in a VALUES list. */
const ROW = '?, ?, ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), ?, ?';

type Effect = NonNullable<AlarmEffect>;
/** A raising event whose alarm a later event may clear. */
interface Wanted {
  e: SiteEvent;
  rule: ClearRule;
}
/** The first clearing event stored past a raising one. */
interface Clear {
  seq: number;
  at: string;
  by: string;
}

/** An alarm as the events of a group leave it: read from the table, or raised by them (no id until inserted). */
interface Held extends Omit<Row, 'id'> {
  id: number | undefined;
  /** Newer alarms have higher ranks: the id, or above every id for those raised by the group, in their order. */
  rank: number;
}

const FIRST_NEW_RANK = 2 ** 52;
const subjectKey = (site: string, kind: string, subject: string) => `${site}\u0000${kind}\u0000${subject}`;
const eventKey = (site: string, seq: number) => `${site}\u0000${seq}`;
/**
 * The condition of the partial index `events_clearing` (the hub's migrations), word for word: a
 * query must state it for SQLite and PostgreSQL to use that index.
 */
const CLEARING = "e.type IN ('door.secured', 'device.fault')";

/**
 * The alarms of the network, kept in the hub database: raised and cleared by the rules of
 * alarm-rules.ts (events) and by site status (offline), acknowledged by people. Applying an
 * event twice, or out of order after a gap, gives the same alarms: an alarm remembers the seqs
 * that raised it, and one raised after its clearing event arrived is stored already cleared.
 *
 * A group of events is applied in a few statements whatever its size, and in none when no
 * event of it concerns an alarm: the alarms of the subjects concerned read at once, with the
 * clearing events stored past each raising one, the rules applied in memory in event order,
 * then one multi-row upsert of the alarms changed and one insert of those raised.
 */
export class AlarmBook {
  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
  ) {}

  /** Applies newly stored events through `q` (each site's in seq order); returns the alarms raised or changed. */
  async apply(q: Sql, events: readonly SiteEvent[]): Promise<Alarm[]> {
    const effects = events.flatMap((e) => {
      const effect = alarmEffect(e);
      return effect === null ? [] : [{ e, effect }];
    });
    if (effects.length === 0) return [];
    const book = new GroupBook(await this.concerned(q, effects), await this.laterClears(q, effects));
    for (const { e, effect } of effects) book.apply(e, effect);
    await this.save(q, book);
    return book.changed().map((h) => toAlarm(h as Row));
  }

  /**
   * A site's status: offline, or online but silent for `silentSeconds` (past its heartbeat's
   * bound), raises one site.offline alarm; online and on time clears it. A log behind the hub's
   * ack (a deleted database: the site sends nothing until renumbered) raises sync.log_behind
   * until the site reports it no more. Returns what changed.
   */
  async onStatus(status: SiteStatus, silentSeconds?: number): Promise<Alarm[]> {
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
      ...(await this.condition(status.site, 'sync.log_behind', behind, 'renumbered')),
      ...(await this.condition(status.site, 'site.offline', detail, 'site.online')),
    ];
  }

  /**
   * A site's directory nearing the age at which its doors refuse a role (`warning`: what the
   * alarm says; null once the hub has confirmed it again). Returns what changed.
   */
  onDirectoryAge(site: string, warning: string | null): Promise<Alarm[]> {
    return this.condition(site, 'directory.stale_soon', warning, 'directory.confirmed');
  }

  /**
   * A condition the hub judges itself about a whole site: one alarm while `detail` is set,
   * cleared when it is not. Most statuses change nothing (a site online and on time, with no
   * alarm): the alarm is read first, and the transaction that may change it is opened only then.
   */
  private async condition(site: string, kind: AlarmKind, detail: string | null, clearedBy: string): Promise<Alarm[]> {
    const current = await this.db.get<Row>(ACTIVE_CONDITION, [site, kind, site]);
    if ((detail === null) === (current === undefined)) return [];
    return this.db.transaction(async (tx) => {
      const active = await tx.get<Row>(`${ACTIVE_CONDITION}${sqlDialect(tx).forUpdate}`, [site, kind, site]);
      const at = new Date(this.now()).toISOString();
      if (detail !== null && !active) {
        const row = await tx.get<Row>(
          `INSERT INTO alarms (${COLUMNS}) VALUES (?, ?, ?, ?, ?, NULL, NULL, 1, NULL, NULL) RETURNING *`,
          [site, kind, site, detail, at],
        );
        return [toAlarm(row as Row)];
      }
      if (detail === null && active) {
        const rows = await tx.all<Row>(
          'UPDATE alarms SET cleared_at = ?, cleared_by = ? WHERE site = ? AND kind = ? AND subject = ? AND cleared_at IS NULL RETURNING *',
          [at, clearedBy, site, kind, site],
        );
        return rows.sort((a, b) => a.id - b.id).map(toAlarm);
      }
      return [];
    });
  }

  /** Newest first; `sites` (a site manager's) limits the list to those sites, in SQL, before the limit. */
  async list(
    filter: { open?: boolean; site?: string; sites?: readonly string[]; limit?: number } = {},
  ): Promise<Alarm[]> {
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
    const rows = await this.db.all<Row>(`SELECT * FROM alarms WHERE ${where} ORDER BY id DESC LIMIT @limit`, params);
    return rows.map(toAlarm);
  }

  async get(id: number): Promise<Alarm | undefined> {
    const row = await this.db.get<Row>('SELECT * FROM alarms WHERE id = ?', [id]);
    return row ? toAlarm(row) : undefined;
  }

  /** Records who saw it and when; acknowledging again keeps the first acknowledgement. */
  async acknowledge(id: number, by: string): Promise<Alarm> {
    await this.db.run('UPDATE alarms SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL', [
      this.now(),
      by,
      id,
    ]);
    const alarm = await this.get(id);
    if (!alarm) throw new TesseraError('not_found', `no alarm ${id}`);
    return alarm;
  }

  /** Open alarms per site. */
  async openCounts(): Promise<Map<string, number>> {
    const rows = await this.db.all<{ site: string; n: number }>(
      `SELECT site, COUNT(*) AS n FROM alarms WHERE ${OPEN} GROUP BY site`,
    );
    return new Map(rows.map((r) => [r.site, r.n]));
  }

  /** Open alarms of one site. */
  async openCount(site: string): Promise<number> {
    const row = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM alarms WHERE site = ? AND ${OPEN}`, [site]);
    return row?.n ?? 0;
  }

  /**
   * The alarms the effects may touch, in one statement: the active ones of their sites, kinds
   * and subjects (raised again, or cleared), and those whose seqs span the group's (an event
   * already counted). Locked until the commit on PostgreSQL (several hub instances).
   */
  private async concerned(q: Sql, effects: ReadonlyArray<{ e: SiteEvent; effect: Effect }>): Promise<Row[]> {
    const d = sqlDialect(q);
    const kinds = effects.flatMap(({ effect }) => ('clear' in effect ? effect.clear.kinds : [effect.raise.kind]));
    const subjects = effects.map(({ effect }) => ('clear' in effect ? effect.clear.subject : effect.raise.subject));
    const seqs = effects.map(({ e }) => e.seq);
    return q.all<Row>(
      `SELECT * FROM alarms WHERE site IN ${d.jsonArrayValues('@sites')} AND kind IN ${d.jsonArrayValues('@kinds')}
      AND subject IN ${d.jsonArrayValues('@subjects')}
      AND (cleared_at IS NULL OR (raised_seq <= @last AND last_seq >= @first))${d.forUpdate}`,
      {
        sites: JSON.stringify([...new Set(effects.map(({ e }) => e.site))]),
        kinds: JSON.stringify([...new Set(kinds)]),
        subjects: JSON.stringify([...new Set(subjects)]),
        first: Math.min(...seqs),
        last: Math.max(...seqs),
      },
    );
  }

  /**
   * For each raising event with a clearing rule: the first clearing event stored with a higher
   * seq (it arrived first, across a gap), if any. That event can only move up with the seq, so
   * when a subject's first and last raising events of the group find the same one (or none), so
   * do all those between: the ends are looked up first, the others only where the ends differ.
   * Each lookup is a seek in the index of clearing events (`CLEARING`), one statement per kind
   * of clearing event and chunk.
   */
  private async laterClears(
    q: Sql,
    effects: ReadonlyArray<{ e: SiteEvent; effect: Effect }>,
  ): Promise<Map<string, Clear>> {
    const bySubject = new Map<string, Wanted[]>();
    for (const { e, effect } of effects) {
      if (!('raise' in effect) || effect.raise.clears === null) continue;
      const rule = effect.raise.clears;
      let key = `${e.site}\u0000${rule.type}`;
      for (const path in rule.match) key += `\u0000${path}\u0000${rule.match[path]}`;
      const wanted = bySubject.get(key);
      if (wanted) wanted.push({ e, rule });
      else bySubject.set(key, [{ e, rule }]);
    }
    const found = new Map<string, Clear>();
    const subjects = [...bySubject.values()].map((w) => w.sort((a, b) => a.e.seq - b.e.seq));
    await this.lookUpClears(
      q,
      subjects.flatMap((w) => (w.length === 1 ? w : [w[0] as Wanted, w.at(-1) as Wanted])),
      found,
    );
    const between: Wanted[] = [];
    for (const w of subjects) {
      if (w.length <= 2) continue;
      const [first, last] = [w[0] as Wanted, w.at(-1) as Wanted].map(({ e }) => found.get(eventKey(e.site, e.seq)));
      const middle = w.slice(1, -1);
      if (first?.seq !== last?.seq) between.push(...middle);
      else if (first) for (const { e } of middle) found.set(eventKey(e.site, e.seq), first);
    }
    await this.lookUpClears(q, between, found);
    return found;
  }

  /** Looks up the first clearing event stored past each of `wanted`, into `found` (by the raising event). */
  private async lookUpClears(q: Sql, wanted: readonly Wanted[], found: Map<string, Clear>): Promise<void> {
    const byRule = new Map<string, Wanted[]>();
    for (const w of wanted) {
      const shape = `${w.rule.type}|${Object.keys(w.rule.match).join('|')}`;
      const same = byRule.get(shape);
      if (same) same.push(w);
      else byRule.set(shape, [w]);
    }
    const d = sqlDialect(q);
    for (const same of byRule.values()) {
      const first = same[0] as Wanted;
      const paths = Object.keys(first.rule.match);
      const by = first.rule.type === 'door.secured' ? 'door.secured' : 'reader.found';
      const matches = paths.map((p, i) => `AND ${d.jsonText('e.body', p)} = v.column${i + 3}`).join(' ');
      const row = `(?, CAST(? AS BIGINT)${', ?'.repeat(paths.length)})`;
      const values = ({ e, rule }: Wanted) => [e.site, e.seq, ...paths.map((p) => rule.match[p])];
      for (const chunk of rowChunks(same, 2 + paths.length, values)) {
        // Padding rows (a NULL site) find no event. The clearing event's seq, then its time.
        const rows = await q.all<{ site: string; seq: number; clear: string | null }>(
          `SELECT v.column1 AS site, v.column2 AS seq, (SELECT CAST(e.seq AS TEXT) || ' ' || e.at FROM events e ${d.indexedBy('events_clearing')}
          WHERE e.site = v.column1 AND e.seq > v.column2 AND ${CLEARING} AND e.type = ? ${matches} ORDER BY e.seq LIMIT 1) AS clear
          FROM ${valuesOf(chunk.size, row)}`,
          [first.rule.type, ...chunk.params],
        );
        for (const r of rows) {
          if (r.clear === null) continue;
          const space = r.clear.indexOf(' ');
          found.set(eventKey(r.site, Number(r.seq)), {
            seq: Number(r.clear.slice(0, space)),
            at: r.clear.slice(space + 1),
            by,
          });
        }
      }
    }
  }

  /** Writes what the group changed: the alarms read and changed in one upsert, those raised in one insert. */
  private async save(q: Sql, book: GroupBook): Promise<void> {
    const changed = book.changed();
    const updated = changed.filter((h) => h.id !== undefined);
    for (const chunk of rowChunks(updated, 11, (h) => [h.id, ...columnValues(h)]))
      await q.run(
        `INSERT INTO alarms (id, ${COLUMNS}) SELECT ${valueColumns(11)} FROM ${valuesOf(chunk.size, `(CAST(? AS BIGINT), ${ROW})`)}
        WHERE v.column1 IS NOT NULL ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq, count = excluded.count,
        cleared_at = excluded.cleared_at, cleared_by = excluded.cleared_by`,
        chunk.params,
      );
    // In the order they were raised: their ids follow it, as they did one insert at a time.
    const raised = changed.filter((h) => h.id === undefined).sort((a, b) => a.rank - b.rank);
    // An event raises at most one alarm: its site and seq name the row.
    const byEvent = new Map(raised.map((h) => [eventKey(h.site, h.raised_seq as number), h]));
    for (const chunk of rowChunks(raised, 10, columnValues)) {
      const ids = await q.all<{ id: number; site: string; raised_seq: number }>(
        `INSERT INTO alarms (${COLUMNS}) SELECT ${valueColumns(10)} FROM ${valuesOf(chunk.size, `(${ROW})`)}
        WHERE v.column1 IS NOT NULL RETURNING id, site, raised_seq`,
        chunk.params,
      );
      for (const r of ids) (byEvent.get(eventKey(r.site, r.raised_seq)) as Held).id = r.id;
    }
  }
}

const columnValues = (h: Held): unknown[] => [
  h.site,
  h.kind,
  h.subject,
  h.detail,
  h.raised_at,
  h.raised_seq,
  h.last_seq,
  h.count,
  h.cleared_at,
  h.cleared_by,
];

/** The alarms a group of events concerns, changed in memory by the rules, event by event. */
class GroupBook {
  private readonly bySubject = new Map<string, Held[]>();
  /** In the order of their first change. */
  private readonly touched = new Set<Held>();
  private raisedCount = 0;

  constructor(
    rows: readonly Row[],
    private readonly later: ReadonlyMap<string, { at: string; by: string }>,
  ) {
    for (const r of rows) this.add({ ...r, rank: r.id });
  }

  changed(): Held[] {
    return [...this.touched];
  }

  apply(e: SiteEvent, effect: Effect): void {
    if ('clear' in effect) {
      const { kinds, subject, by } = effect.clear;
      // Clears the active alarms of the subject raised before this event.
      const cleared = kinds
        .flatMap((kind) => this.of(e.site, kind, subject))
        .filter((h) => h.cleared_at === null && (h.last_seq ?? 0) < e.seq)
        .sort((a, b) => a.rank - b.rank);
      for (const h of cleared) {
        h.cleared_at = e.at;
        h.cleared_by = by;
        this.touched.add(h);
      }
      return;
    }
    const { kind, subject, detail, clears } = effect.raise;
    const held = this.of(e.site, kind, subject);
    const seen = held.some(
      (h) => h.raised_seq !== null && h.last_seq !== null && h.raised_seq <= e.seq && e.seq <= h.last_seq,
    );
    if (seen) return;
    const active = held
      .filter((h) => h.cleared_at === null)
      .reduce<Held | undefined>((a, h) => (a && a.rank > h.rank ? a : h), undefined);
    if (active) {
      // Raised again while still active: counted, once per seq above the last one counted.
      if ((active.last_seq ?? 0) >= e.seq) return;
      active.count += 1;
      active.last_seq = e.seq;
      this.touched.add(active);
      return;
    }
    const cleared = clears === null ? { at: e.at, by: 'one-off' } : this.later.get(eventKey(e.site, e.seq));
    const raised: Held = {
      id: undefined,
      rank: FIRST_NEW_RANK + this.raisedCount++,
      site: e.site,
      kind,
      subject,
      detail,
      raised_at: e.at,
      raised_seq: e.seq,
      last_seq: e.seq,
      count: 1,
      cleared_at: cleared?.at ?? null,
      cleared_by: cleared?.by ?? null,
      acked_at: null,
      acked_by: null,
    };
    this.add(raised);
    this.touched.add(raised);
  }

  private of(site: string, kind: string, subject: string): Held[] {
    return this.bySubject.get(subjectKey(site, kind, subject)) ?? [];
  }

  private add(h: Held): void {
    const key = subjectKey(h.site, h.kind, h.subject);
    this.bySubject.set(key, [...this.of(h.site, h.kind, h.subject), h]);
  }
}
