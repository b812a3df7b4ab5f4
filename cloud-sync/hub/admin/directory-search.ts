import type { Sql } from '../db.js';
import type { Entity } from '../directory.js';
import { sqlDialect } from '../storage/dialect.js';

export interface SearchFilter {
  q?: string | undefined;
  /** Members, or the badges of members, whose plan is one of these; undefined = no restriction. */
  plans?: string[] | undefined;
  plan?: string | undefined;
  employer?: string | undefined;
  member?: string | undefined;
  status?: string | undefined;
  offset: number;
  limit: number;
}

const like = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * Searches the directory table (`directory_entities`, owned by HubDirectory) in SQL, so that a
 * page of 50 out of 100,000 members parses 50 JSON values, not 100,000.
 */
export async function searchDirectory(
  q: Sql,
  entity: Entity,
  f: SearchFilter,
): Promise<{ values: unknown[]; total: number }> {
  const where = ['entity = ?', 'deleted = 0'];
  const args: Array<string | number> = [entity];
  const add = (clause: string, ...values: Array<string | number>) => {
    where.push(clause);
    args.push(...values);
  };
  const d = sqlDialect(q);
  const field = (key: string) => d.jsonText('value', key);
  const jsonArray = d.jsonArrayValues('?');
  // lower() on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
  if (f.q)
    add(
      `(lower(id) LIKE lower(?) ESCAPE '\\' OR lower(${field(entity === 'badge' ? 'member' : 'name')}) LIKE lower(?) ESCAPE '\\')`,
      like(f.q),
      like(f.q),
    );
  if (f.plans !== undefined && entity === 'member') add(`${field('plan')} IN ${jsonArray}`, JSON.stringify(f.plans));
  if (f.plans !== undefined && entity === 'badge') {
    add(
      `${field('member')} IN (SELECT id FROM directory_entities WHERE entity = 'member' AND deleted = 0 AND ${field('plan')} IN ${jsonArray})`,
      JSON.stringify(f.plans),
    );
  }
  if (f.plans !== undefined && entity === 'plan') add(`id IN ${jsonArray}`, JSON.stringify(f.plans));
  if (f.plan !== undefined) add(`${field('plan')} = ?`, f.plan);
  if (f.employer !== undefined) add(`${field('employer')} = ?`, f.employer);
  if (f.member !== undefined) add(`${field('member')} = ?`, f.member);
  if (f.status !== undefined) add(`${field('status')} = ?`, f.status);
  const clause = where.join(' AND ');
  const total = (await q.value<number>(`SELECT count(*) AS n FROM directory_entities WHERE ${clause}`, args)) ?? 0;
  const rows = await q.column<string>(
    `SELECT value FROM directory_entities WHERE ${clause} ORDER BY id LIMIT ? OFFSET ?`,
    [...args, f.limit, f.offset],
  );
  return { values: rows.map((value) => JSON.parse(value) as unknown), total };
}
