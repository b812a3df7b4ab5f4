import { Badge, Member } from '../../../shared/protocol/directory.js';
import type { Account } from '../auth/account.js';
import type { Sql } from '../db.js';
import type { Entity, EntityOf, HubDirectory } from '../directory.js';
import type { DirectoryImport } from '../directory-import.js';
import { SLICE, type Slices } from '../slices.js';
import { unstorableText } from '../storage/unstorable.js';
import type { AuditLog } from './audit.js';
import { entitiesOf, type CsvRow, type RowError } from './members-csv.js';
import { DirectoryScope } from './scope.js';
import { checkUntrusted } from '../../../shared/platform/check-untrusted.js';

const COLUMN_OF: Record<string, string> = {
  id: 'member_id',
  validFrom: 'valid_from',
  validUntil: 'valid_until',
  uid: 'badges',
  type: 'badge_type',
};

export interface ImportPlan {
  items: Array<{ entity: Entity; value: unknown }>;
  errors: RowError[];
  created: string[];
  updated: string[];
  /** The updated members as they were: the audit row's `before`. */
  replaced: Member[];
  badges: number;
  rows: number;
}

/**
 * The member a row makes: the existing one (what the CSV cannot say, like an assigned locker,
 * stays) with the row's columns over it; an empty optional cell clears that field.
 */
function memberOf(existing: Member | undefined, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...existing };
  for (const [key, value] of Object.entries(row)) {
    if (value === null) delete out[key];
    else out[key] = value;
  }
  return out;
}

/**
 * The directory as an import reads it, each entity once, a slice's members and badges in one
 * statement each: the directory does not change while an import holds it (DirectoryImport.begin),
 * and one row's checks are many lookups.
 */
class ImportReads {
  private readonly known = new Map<string, unknown>();

  constructor(
    private readonly q: Sql,
    private readonly directory: HubDirectory,
  ) {}

  /** Reads the entities of `ids` not read yet, in one statement. */
  async load(entity: Entity, ids: Iterable<string>): Promise<void> {
    const missing = [...new Set(ids)].filter((id) => !this.known.has(`${entity}:${id}`));
    if (missing.length === 0) return;
    const found = await this.directory.getMany(this.q, entity, missing);
    for (const id of missing) this.known.set(`${entity}:${id}`, found.get(id));
  }

  async get<E extends Entity>(entity: E, id: string): Promise<EntityOf<E> | undefined> {
    await this.load(entity, [id]);
    return this.known.get(`${entity}:${id}`) as EntityOf<E> | undefined;
  }

  /** Forgets the members and badges read (each is a row's own), keeping the plans and employers every row shares. */
  forgetRows(): void {
    for (const key of this.known.keys())
      if (key.startsWith('member:') || key.startsWith('badge:')) this.known.delete(key);
  }
}

/**
 * A badge already known keeps its status, so that an old file never revives a revoked badge (the
 * API reinstates one), and its type (an NTAG 424 stays one) unless the row names a type.
 */
async function badgeOf(reads: ImportReads, given: Record<string, unknown>, parsed: Badge): Promise<Badge> {
  const prior = await reads.get('badge', parsed.uid);
  if (!prior) return parsed;
  return { ...parsed, status: prior.status, type: given.type === undefined ? prior.type : parsed.type };
}

type Fail = (column: string, message: string) => void;

/**
 * The row's plan and employer. To a site manager a plan or employer they may not give, and a
 * badge that is someone else's, get one answer whether it exists elsewhere or not at all: an
 * import never tells them what lies outside their sites.
 */
async function checkReferences(m: Member, reads: ImportReads, scope: DirectoryScope, fail: Fail): Promise<void> {
  if (scope.everything) {
    if (!(await reads.get('plan', m.plan))) fail('plan', `no plan ${JSON.stringify(m.plan)}`);
    if (m.employer !== undefined && !(await reads.get('employer', m.employer)))
      fail('employer', `no employer ${JSON.stringify(m.employer)}`);
    return;
  }
  if (!(await scope.planGiven(m.plan)))
    fail('plan', `plan ${JSON.stringify(m.plan)} is not one of your sites' own plans`);
  if (!(await scope.bills(m.employer)))
    fail('employer', `employer ${JSON.stringify(m.employer)} is not one your sites bill`);
}

async function checkBadges(
  badges: Array<Record<string, unknown>>,
  id: string,
  ctx: { reads: ImportReads; scope: DirectoryScope; uids: Set<string> },
  fail: Fail,
): Promise<Badge[]> {
  const parsed = badges.map((b) => checkUntrusted(Badge, b));
  for (const [i, b] of parsed.entries()) {
    if (!b.success) {
      b.error.issues.forEach((issue) =>
        fail(COLUMN_OF[String(issue.path[0])] ?? 'badges', `${String(badges[i]?.uid)}: ${issue.message}`),
      );
      continue;
    }
    const owner = (await ctx.reads.get('badge', b.data.uid))?.member;
    if (owner !== undefined && owner !== id)
      fail(
        'badges',
        `badge …${b.data.uid.slice(-4)} ${ctx.scope.everything ? `belongs to another member (${owner})` : 'is not free to give'}`,
      );
    if (ctx.uids.has(b.data.uid)) fail('badges', `badge …${b.data.uid.slice(-4)} is already on an earlier line`);
    ctx.uids.add(b.data.uid);
  }
  const out: Badge[] = [];
  for (const [i, b] of parsed.entries()) if (b.success) out.push(await badgeOf(ctx.reads, badges[i] ?? {}, b.data));
  return out;
}

/** What is wrong with one row, against the directory, the rows above it, and the account's scope. */
async function checkRow(
  row: CsvRow,
  reads: ImportReads,
  scope: DirectoryScope,
  seen: { members: Set<string>; uids: Set<string> },
) {
  const { member, badges } = entitiesOf(row);
  const errors: RowError[] = [];
  const fail: Fail = (column, message) => errors.push({ line: row.line, column, message });
  const id = String(member.id ?? '');
  const existing = await reads.get('member', id);
  const m = checkUntrusted(Member, memberOf(existing, member));
  if (!m.success)
    for (const i of m.error.issues) fail(COLUMN_OF[String(i.path[0])] ?? String(i.path[0] ?? 'row'), i.message);
  // The directory refuses it on both stores alike (PostgreSQL's jsonb cannot hold it): said on its line.
  const unstorable = m.success ? unstorableText(m.data) : undefined;
  if (unstorable !== undefined) {
    const key = /^\$\.([^.[ ]+)/.exec(unstorable)?.[1] ?? 'row';
    fail(COLUMN_OF[key] ?? key, 'a text holding a NUL character or half a surrogate pair cannot be stored');
  }
  if (seen.members.has(id)) fail('member_id', `member ${id} is already on an earlier line`);
  seen.members.add(id);
  // One answer for a member of another site and one whose plan also opens another site.
  if (existing && !(await scope.changes(existing)))
    fail('member_id', `member ${id} is not one of your sites' own members`);
  if (m.success) await checkReferences(m.data, reads, scope, fail);
  const values = await checkBadges(badges, id, { reads, scope, uids: seen.uids }, fail);
  return { errors, member: m.success ? m.data : undefined, badges: values, existing };
}

/**
 * Checks every row (all errors, each with its line) and lists what the valid ones would write:
 * against the directory and the rows before them, `SLICE` rows at a time (their members and
 * badges read at once), `tick` between rows. Call it while holding the directory (DirectoryImport.begin).
 */
async function planRows(
  q: Sql,
  rows: CsvRow[],
  directory: HubDirectory,
  account: Account,
  tick: () => Promise<void>,
): Promise<ImportPlan> {
  const scope = new DirectoryScope(account, directory, q);
  const reads = new ImportReads(q, directory);
  const seen = { members: new Set<string>(), uids: new Set<string>() };
  const plan: ImportPlan = {
    items: [],
    errors: [],
    created: [],
    updated: [],
    replaced: [],
    badges: 0,
    rows: rows.length,
  };
  for (let at = 0; at < rows.length; at += SLICE) {
    const slice = rows.slice(at, at + SLICE);
    reads.forgetRows();
    const entities = slice.map(entitiesOf);
    await reads.load(
      'member',
      entities.map((e) => String(e.member.id ?? '')),
    );
    await reads.load(
      'badge',
      entities.flatMap((e) => e.badges.flatMap((b) => (typeof b.uid === 'string' ? [b.uid] : []))),
    );
    for (const row of slice) {
      const r = await checkRow(row, reads, scope, seen);
      if (r.errors.length > 0 || !r.member) plan.errors.push(...r.errors);
      else {
        plan.items.push(
          { entity: 'member', value: r.member },
          ...r.badges.map((value) => ({ entity: 'badge' as const, value })),
        );
        (r.existing ? plan.updated : plan.created).push(r.member.id);
        if (r.existing) plan.replaced.push(r.existing);
        plan.badges += r.badges.length;
      }
      await tick();
    }
  }
  return plan;
}

/** Checks every row (all errors, each with its line) and lists what the valid ones would write. */
export function planImport(q: Sql, rows: CsvRow[], directory: HubDirectory, account: Account): Promise<ImportPlan> {
  return planRows(q, rows, directory, account, async () => undefined);
}

/** The same, with a turn of the event loop every slice of rows: call it while holding the directory (DirectoryImport.begin). */
export function planImportInSlices(
  q: Sql,
  rows: CsvRow[],
  directory: HubDirectory,
  account: Account,
  slices: Slices,
): Promise<ImportPlan> {
  return planRows(q, rows, directory, account, () => slices.tick());
}

/**
 * Writes a plan's items a slice at a time as one directory revision, with one audit row, all or
 * nothing (DirectoryImport): the revision and the audit row are committed together at the end.
 */
export async function applyImportInSlices(
  batch: DirectoryImport,
  audit: AuditLog,
  account: Account,
  plan: ImportPlan,
  slices: Slices,
): Promise<number> {
  for (let at = 0; at < plan.items.length;) {
    at = await batch.writeSlice(plan.items, at);
    await slices.tick();
  }
  const badges = plan.items.filter((i) => i.entity === 'badge').map((i) => i.value);
  // The audit row of 200,000 members is 16 MB of JSON: written a slice at a time, not in the commit.
  const before = `{"members":${await jsonInSlices(plan.replaced, slices)}}`;
  const after = `{"created":${JSON.stringify(plan.created)},"updated":${JSON.stringify(plan.updated)},"badges":${await jsonInSlices(badges, slices)}}`;
  const revision = await batch.commit((tx) => audit.recordJson(tx, account, 'import', 'member', '*', before, after));
  await batch.forget(slices);
  return revision;
}

/** JSON.stringify of an array, SLICE elements at a time. */
async function jsonInSlices(values: readonly unknown[], slices: Slices): Promise<string> {
  const parts: string[] = [];
  for (let at = 0; at < values.length; at += SLICE) {
    parts.push(JSON.stringify(values.slice(at, at + SLICE)).slice(1, -1));
    await slices.tick();
  }
  return `[${parts.filter((p) => p !== '').join(',')}]`;
}
