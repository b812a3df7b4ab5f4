import { randomBytes, randomUUID } from 'node:crypto';
import { TesseraError } from '../../../shared/platform/errors.js';
import { MONITOR_TOKEN_PREFIX, type MonitorTokenRecord } from '../../../shared/protocol/api/hub-monitor-tokens.js';
import type { Sql } from '../db.js';
import type { Account } from './account.js';
import { tokenHash } from './sessions.js';

interface Row {
  id: string;
  name: string;
  created_by: string;
  created_at: number | string;
}

const COLUMNS = 'id, name, created_by, created_at';

const toRecord = (r: Row): MonitorTokenRecord => ({
  id: r.id,
  name: r.name,
  createdBy: r.created_by,
  createdAt: new Date(Number(r.created_at)).toISOString(),
});

/** Whether a bearer token is a monitor token rather than a session's, from its form alone. */
export const isMonitorToken = (token: string): boolean => token.startsWith(MONITOR_TOKEN_PREFIX);

/**
 * Monitor tokens (table `monitor_tokens`): the long-lived keys of metrics scrapers. Like a
 * session's, the token is 256 random bits handed out once; the hub keeps only its SHA-256. The
 * account it stands for has the role `monitor`: the auth hook lets it reach `GET /metrics` only.
 * Every method takes the SQL handle first: the database, or the transaction it is part of.
 */
export class MonitorTokenStore {
  constructor(private readonly now: () => number) {}

  /** A new token named `name` (taken: `conflict`); its secret is in the answer, and nowhere else ever. */
  async create(q: Sql, name: string, createdBy: string): Promise<{ token: string; record: MonitorTokenRecord }> {
    const token = `${MONITOR_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const row = await q.get<Row>(
      `INSERT INTO monitor_tokens (id, name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, CAST(? AS BIGINT))
        ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
      [randomUUID(), name, tokenHash(token), createdBy, this.now()],
    );
    if (!row) throw new TesseraError('conflict', `a monitor token named ${JSON.stringify(name)} exists already`);
    return { token, record: toRecord(row) };
  }

  async list(q: Sql): Promise<MonitorTokenRecord[]> {
    return (await q.all<Row>(`SELECT ${COLUMNS} FROM monitor_tokens ORDER BY name`)).map(toRecord);
  }

  /** Deletes the token `id`; what it was, or undefined if there is none. */
  async revoke(q: Sql, id: string): Promise<MonitorTokenRecord | undefined> {
    const row = await q.get<Row>(`DELETE FROM monitor_tokens WHERE id = ? RETURNING ${COLUMNS}`, [id]);
    return row ? toRecord(row) : undefined;
  }

  /** The monitor account `token` stands for, or undefined for a token unknown or revoked. */
  async account(q: Sql, token: string): Promise<Account | undefined> {
    const row = await q.get<Row>(`SELECT ${COLUMNS} FROM monitor_tokens WHERE token_hash = ?`, [tokenHash(token)]);
    return row ? { id: `monitor:${row.id}`, username: row.name, role: 'monitor', sites: [] } : undefined;
  }
}
