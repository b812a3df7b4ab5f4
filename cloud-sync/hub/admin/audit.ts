import type { Logger } from 'pino';
import type { AuditAction, AuditEntry, AuditQuery } from '../../../shared/protocol/api/hub-admin-audit.js';
import { maskUid } from '../../../shared/protocol/badge.js';
import type { HubDb, Sql } from '../db.js';
import type { Account } from '../auth/account.js';

export interface AuditRow {
  id: number;
  at: number;
  actor_id: string;
  actor: string;
  action: AuditAction;
  entity: string;
  entity_id: string;
  before: string | null;
  after: string | null;
}

export const auditEntryOf = (r: AuditRow): AuditEntry => ({
  id: r.id,
  at: new Date(r.at).toISOString(),
  actor: { id: r.actor_id, username: r.actor },
  action: r.action,
  entity: r.entity,
  entityId: r.entity_id,
  before: r.before === null ? null : (JSON.parse(r.before) as unknown),
  after: r.after === null ? null : (JSON.parse(r.after) as unknown),
});

/**
 * Who changed what, when (table `audit_log`). `record` is called inside the transaction of the
 * change it describes, so a change without its row (or a row without its change) cannot exist.
 */
export class AuditLog {
  constructor(
    private readonly db: HubDb,
    private readonly now: () => number,
    /** Each row is also logged at info (a badge by its masked UID): what an operator greps for. */
    private readonly log?: Logger,
  ) {}

  /** Inside the transaction of the change it describes (`tx`). */
  async record(
    tx: Sql,
    actor: Account,
    action: AuditAction,
    entity: string,
    entityId: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    const json = (v: unknown) => (v === undefined || v === null ? null : JSON.stringify(v));
    await this.recordJson(tx, actor, action, entity, entityId, json(before), json(after));
  }

  /** The same with `before` and `after` already JSON: a big import's, written a slice at a time. */
  async recordJson(
    tx: Sql,
    actor: Account,
    action: AuditAction,
    entity: string,
    entityId: string,
    before: string | null,
    after: string | null,
  ): Promise<void> {
    await tx.run(
      'INSERT INTO audit_log (at, actor_id, actor, action, entity, entity_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [this.now(), actor.id, actor.username, action, entity, entityId, before, after],
    );
    this.log?.info(
      { actor: actor.username, action, entity, id: entity === 'badge' ? maskUid(entityId) : entityId },
      'admin change',
    );
  }

  /** Newest first, filtered, one page of it and how many match in all. */
  async query(q: AuditQuery): Promise<{ entries: AuditEntry[]; total: number }> {
    const where: string[] = [];
    const args: Array<string | number> = [];
    const add = (clause: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('entity = ?', q.entity);
    add('entity_id = ?', q.entityId);
    add('lower(actor) = lower(?)', q.actor);
    add('action = ?', q.action);
    add('at >= ?', q.since === undefined ? undefined : Date.parse(q.since));
    add('at < ?', q.until === undefined ? undefined : Date.parse(q.until));
    const filter = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const total = (await this.db.value<number>(`SELECT count(*) AS n FROM audit_log ${filter}`, args)) ?? 0;
    const rows = await this.db.all<AuditRow>(`SELECT * FROM audit_log ${filter} ORDER BY id DESC LIMIT ? OFFSET ?`, [
      ...args,
      q.limit,
      q.offset,
    ]);
    return { entries: rows.map(auditEntryOf), total };
  }
}
