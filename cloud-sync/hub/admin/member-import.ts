import { Badge, Member } from '../../../shared/protocol/directory.js';
import type { Account } from '../auth/account.js';
import type { Entity, HubDirectory } from '../directory.js';
import type { DirectoryImport } from '../directory-import.js';
import { SLICE, type Slices } from '../slices.js';
import type { AuditLog } from './audit.js';
import { entitiesOf, type CsvRow, type RowError } from './members-csv.js';
import { DirectoryScope } from './scope.js';

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
 * A badge already known keeps its status, so that an old file never revives a revoked badge (the
 * API reinstates one), and its type (an NTAG 424 stays one) unless the row names a type.
 */
function badgeOf(directory: HubDirectory, given: Record<string, unknown>, parsed: Badge): Badge {
  const prior = directory.get('badge', parsed.uid);
  if (!prior) return parsed;
  return { ...parsed, status: prior.status, type: given.type === undefined ? prior.type : parsed.type };
}

type Fail = (column: string, message: string) => void;

/**
 * The row's plan and employer. To a site manager a plan or employer they may not give, and a
 * badge that is someone else's, get one answer whether it exists elsewhere or not at all: an
 * import never tells them what lies outside their sites.
 */
function checkReferences(m: Member, directory: HubDirectory, scope: DirectoryScope, fail: Fail): void {
  if (scope.everything) {
    if (!directory.get('plan', m.plan)) fail('plan', `no plan ${JSON.stringify(m.plan)}`);
    if (m.employer !== undefined && !directory.get('employer', m.employer))
      fail('employer', `no employer ${JSON.stringify(m.employer)}`);
    return;
  }
  if (!scope.planGiven(m.plan)) fail('plan', `plan ${JSON.stringify(m.plan)} is not one of your sites' own plans`);
  if (!scope.bills(m.employer)) fail('employer', `employer ${JSON.stringify(m.employer)} is not one your sites bill`);
}

function checkBadges(
  badges: Array<Record<string, unknown>>,
  id: string,
  ctx: { directory: HubDirectory; scope: DirectoryScope; uids: Set<string> },
  fail: Fail,
): Badge[] {
  const parsed = badges.map((b) => Badge.safeParse(b));
  parsed.forEach((b, i) => {
    if (!b.success)
      return void b.error.issues.forEach((issue) =>
        fail(COLUMN_OF[String(issue.path[0])] ?? 'badges', `${String(badges[i]?.uid)}: ${issue.message}`),
      );
    const owner = ctx.directory.get('badge', b.data.uid)?.member;
    if (owner !== undefined && owner !== id)
      fail(
        'badges',
        `badge …${b.data.uid.slice(-4)} ${ctx.scope.everything ? `belongs to another member (${owner})` : 'is not free to give'}`,
      );
    if (ctx.uids.has(b.data.uid)) fail('badges', `badge …${b.data.uid.slice(-4)} is already on an earlier line`);
    ctx.uids.add(b.data.uid);
  });
  return parsed.flatMap((b, i) => (b.success ? [badgeOf(ctx.directory, badges[i] ?? {}, b.data)] : []));
}

/** What is wrong with one row, against the directory, the rows above it, and the account's scope. */
function checkRow(
  row: CsvRow,
  directory: HubDirectory,
  scope: DirectoryScope,
  seen: { members: Set<string>; uids: Set<string> },
) {
  const { member, badges } = entitiesOf(row);
  const errors: RowError[] = [];
  const fail: Fail = (column, message) => errors.push({ line: row.line, column, message });
  const id = String(member.id ?? '');
  const existing = directory.get('member', id);
  const m = Member.safeParse(memberOf(existing, member));
  if (!m.success)
    for (const i of m.error.issues) fail(COLUMN_OF[String(i.path[0])] ?? String(i.path[0] ?? 'row'), i.message);
  if (seen.members.has(id)) fail('member_id', `member ${id} is already on an earlier line`);
  seen.members.add(id);
  // One answer for a member of another site and one whose plan also opens another site.
  if (existing && !scope.changes(existing)) fail('member_id', `member ${id} is not one of your sites' own members`);
  if (m.success) checkReferences(m.data, directory, scope, fail);
  const values = checkBadges(badges, id, { directory, scope, uids: seen.uids }, fail);
  return { errors, member: m.success ? m.data : undefined, badges: values, existed: existing !== undefined };
}

/** Checks rows one after the other, against the directory and the rows before them, gathering the plan. */
function planner(directory: HubDirectory, account: Account, rows: number) {
  const scope = new DirectoryScope(account, directory);
  const seen = { members: new Set<string>(), uids: new Set<string>() };
  const plan: ImportPlan = { items: [], errors: [], created: [], updated: [], replaced: [], badges: 0, rows };
  const take = (row: CsvRow) => {
    const r = checkRow(row, directory, scope, seen);
    if (r.errors.length > 0 || !r.member) {
      plan.errors.push(...r.errors);
      return;
    }
    plan.items.push(
      { entity: 'member', value: r.member },
      ...r.badges.map((value) => ({ entity: 'badge' as const, value })),
    );
    (r.existed ? plan.updated : plan.created).push(r.member.id);
    const was = r.existed ? directory.get('member', r.member.id) : undefined;
    if (was) plan.replaced.push(was);
    plan.badges += r.badges.length;
  };
  return { plan, take };
}

/** Checks every row (all errors, each with its line) and lists what the valid ones would write. */
export function planImport(rows: CsvRow[], directory: HubDirectory, account: Account): ImportPlan {
  const { plan, take } = planner(directory, account, rows.length);
  for (const row of rows) take(row);
  return plan;
}

/** The same, with a turn of the event loop every slice of rows: call it while holding the directory (DirectoryImport.begin). */
export async function planImportInSlices(
  rows: CsvRow[],
  directory: HubDirectory,
  account: Account,
  slices: Slices,
): Promise<ImportPlan> {
  const { plan, take } = planner(directory, account, rows.length);
  for (const row of rows) {
    take(row);
    await slices.tick();
  }
  return plan;
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
    at = batch.writeSlice(plan.items, at, slices.deadline());
    await slices.tick();
  }
  const badges = plan.items.filter((i) => i.entity === 'badge').map((i) => i.value);
  // The audit row of 200,000 members is 16 MB of JSON: written a slice at a time, not in the commit.
  const before = `{"members":${await jsonInSlices(plan.replaced, slices)}}`;
  const after = `{"created":${JSON.stringify(plan.created)},"updated":${JSON.stringify(plan.updated)},"badges":${await jsonInSlices(badges, slices)}}`;
  const revision = batch.commit(() => audit.recordJson(account, 'import', 'member', '*', before, after));
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
