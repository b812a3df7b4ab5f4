import { ERASED_BADGE, pseudonymiseBody } from '../../../shared/protocol/erasure.js';
import type { ErasureResult } from '../../../shared/protocol/api/hub-admin-privacy.js';
import type { Member } from '../../../shared/protocol/directory.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account } from '../auth/account.js';
import type { HubDb, Tx } from '../db.js';
import type { HubDirectory } from '../directory.js';
import type { AuditLog } from './audit.js';
import { auditNaming, deadLettersNaming, eventsNaming, replaceStrings } from './member-records.js';
import { forbidden } from './deps.js';
import { DirectoryScope } from './scope.js';
import { sqlDialect } from '../storage/dialect.js';

export interface MemberErasureDeps {
  db: HubDb;
  directory: HubDirectory;
  audit: AuditLog;
  now: () => number;
}

/**
 * Erasure of a member at the hub (docs/hub.md "Members' personal data"), in one transaction:
 * the directory record moves to the pseudonym and the badges go (HubDirectory.erase: the sites
 * are told), every stored event, the live presence, earlier audit rows and dead letters name the
 * pseudonym instead, and one audit row says who erased whom by pseudonym. Their self-service
 * account, its sessions, their invitations, calendar feeds and buyer identity go; their bookings stay for billing
 * under the pseudonym, those still to come cancelled (at no charge) and gone from every door.
 * Frozen invoices stay as they were issued. Running it again changes nothing.
 */
export class MemberErasure {
  constructor(private readonly deps: MemberErasureDeps) {}

  async erase(account: Account, memberId: string): Promise<ErasureResult> {
    const { db, directory } = this.deps;
    const result = await db.transaction(async (tx) => {
      // Ingests under way commit first, and their events are rewritten below; later ones wait.
      const lock = sqlDialect(tx).lockEvents('erasure');
      if (lock !== undefined) await tx.run(lock);
      const member = await directory.get(tx, 'member', memberId);
      const scope = new DirectoryScope(account, directory, tx);
      if (!(await scope.reachesMember(member)))
        throw new TesseraError('not_found', `no member ${JSON.stringify(memberId)}`);
      // Erasing takes the member away from every site their plan opens: a site manager's only if those are all theirs.
      if (member !== undefined && !(await scope.changes(member)))
        throw forbidden(
          `member ${memberId}'s plan opens sites you do not manage: only a network operator may erase them`,
        );
      const pseudonym = await directory.erasures.pseudonymOf(tx, memberId);
      const already = member === undefined && (await directory.erasures.isRecorded(tx, pseudonym));
      const events = await this.rewriteStoredRows(tx, memberId, pseudonym);
      if (already)
        return {
          pseudonym,
          alreadyErased: true,
          revision: await directory.revision(tx),
          events,
          badges: 0,
          auditRows: 0,
        };
      if (member === undefined && events === 0)
        throw new TesseraError('not_found', `no member ${JSON.stringify(memberId)}, and no event names one`);
      return this.eraseRecorded(tx, account, memberId, member, pseudonym, events);
    });
    directory.erasures.remember(result.pseudonym);
    return result;
  }

  private async eraseRecorded(
    tx: Tx,
    account: Account,
    memberId: string,
    member: Member | undefined,
    pseudonym: string,
    events: number,
  ): Promise<ErasureResult> {
    const { directory, audit, now } = this.deps;
    const badgeUids = (await directory.badgesOf(tx, memberId)).map((b) => b.uid);
    const auditRows = await this.scrubAudit(tx, memberId, member?.name, badgeUids, pseudonym);
    const { revision, badges } = await directory.erase(tx, memberId, pseudonym, now());
    await eraseSelfService(tx, memberId, pseudonym, revision, now());
    const summary = { pseudonym, revision, events, badges: badges.length, auditRows };
    await audit.record(tx, account, 'erase', 'member', pseudonym, null, summary);
    return { ...summary, alreadyErased: false };
  }

  /** Events, presence and dead letters naming `memberId` are rewritten under the pseudonym; returns the events. */
  private async rewriteStoredRows(tx: Tx, memberId: string, pseudonym: string): Promise<number> {
    const pseudonymFor = (id: string) => (id === memberId ? pseudonym : undefined);
    let events = 0;
    for (const row of await eventsNaming(tx, memberId)) {
      const body = pseudonymiseBody(row.body, pseudonymFor);
      if (body === undefined) continue;
      await tx.run('UPDATE events SET body = ? WHERE site = ? AND seq = ?', [body, row.site, row.seq]);
      events++;
    }
    // Where the pseudonym already has a row (an erasure re-run), the member's row replaces it.
    await tx.run(
      'DELETE FROM presence_state WHERE member_id = ? AND site IN (SELECT site FROM presence_state WHERE member_id = ?)',
      [pseudonym, memberId],
    );
    await tx.run('UPDATE presence_state SET member_id = ? WHERE member_id = ?', [pseudonym, memberId]);
    for (const row of await deadLettersNaming(tx, memberId))
      await tx.run('UPDATE dead_letters SET payload = ? WHERE id = ?', [
        row.payload.split(JSON.stringify(memberId)).join(JSON.stringify(pseudonym)),
        row.id,
      ]);
    return events;
  }

  /** Earlier audit rows keep who did what when; the member's id and name become the pseudonym, their badges `…`. */
  private async scrubAudit(
    tx: Tx,
    memberId: string,
    name: string | undefined,
    badgeUids: readonly string[],
    pseudonym: string,
  ): Promise<number> {
    const replace = new Map<string, string>([
      [memberId, pseudonym],
      ...badgeUids.map((uid): [string, string] => [uid, ERASED_BADGE]),
    ]);
    if (name !== undefined) replace.set(name, pseudonym);
    const rows = await auditNaming(tx, memberId, badgeUids);
    const rewrite = (json: string | null) =>
      json === null ? null : JSON.stringify(replaceStrings(JSON.parse(json), replace));
    for (const r of rows)
      await tx.run('UPDATE audit_log SET entity_id = ?, before = ?, after = ? WHERE id = ?', [
        replace.get(r.entity_id) ?? r.entity_id,
        rewrite(r.before),
        rewrite(r.after),
        r.id,
      ]);
    return rows.length;
  }
}

/** What an audit row of an erased member's buyer identity says of it. */
const ERASED_BUYER = JSON.stringify({ erased: true });

/**
 * What the member's self-service left: the account (its sessions follow it), invitations (they
 * hold an email address), calendar feeds; bookings are kept for billing under the pseudonym, those
 * still to come cancelled free of charge, and every booking of theirs leaves the sites' directories
 * at the erasure's revision.
 */
async function eraseSelfService(tx: Tx, memberId: string, pseudonym: string, revision: number, nowMs: number) {
  await tx.run('DELETE FROM accounts WHERE member = ?', [memberId]);
  // Their buyer identity for invoices billed to them (name, address, email: billing/parties.ts) goes;
  // the invoices issued keep the copy frozen in them. Its audit rows keep who changed it when, not what it said.
  await tx.run('DELETE FROM billing_buyers WHERE account = ?', [`member:${memberId}`]);
  await tx.run(
    `UPDATE audit_log SET entity_id = ?,
        before = CASE WHEN before IS NULL THEN NULL ELSE ? END,
        after = CASE WHEN after IS NULL THEN NULL ELSE ? END
      WHERE entity = 'buyer' AND entity_id = ?`,
    [`member:${pseudonym}`, ERASED_BUYER, ERASED_BUYER, `member:${memberId}`],
  );
  await tx.run('DELETE FROM invitations WHERE member = ?', [memberId]);
  await tx.run("DELETE FROM calendar_feeds WHERE kind = 'member' AND ref = ?", [memberId]);
  await tx.run(
    `UPDATE bookings SET member = ?, updated_at = CAST(? AS BIGINT),
        cancelled_at = CASE WHEN status = 'confirmed' AND start_ms > ? THEN CAST(? AS BIGINT) ELSE cancelled_at END,
        status = CASE WHEN status = 'confirmed' AND start_ms > ? THEN 'cancelled' ELSE status END
      WHERE member = ?`,
    [pseudonym, nowMs, nowMs, nowMs, nowMs, memberId],
  );
  await tx.run(
    `UPDATE directory_entities SET value = NULL, deleted = 1, revision = ? WHERE entity = 'booking' AND deleted = 0 AND ${sqlDialect(tx).jsonText('value', 'member')} = ?`,
    [revision, memberId],
  );
}
