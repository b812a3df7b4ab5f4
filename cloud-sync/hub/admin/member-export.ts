import type { MemberExport } from '../../../shared/protocol/api/hub-admin-privacy.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Account } from '../auth/account.js';
import type { Sql } from '../db.js';
import { auditEntryOf } from './audit.js';
import {
  auditNaming,
  deadLettersNaming,
  eventsNaming,
  invoicesNaming,
  presenceOf,
  type InvoiceRow,
} from './member-records.js';
import { DirectoryScope } from './scope.js';
import type { AdminDeps } from './deps.js';

/** What the export reads of a closed invoice's stored body, as billing wrote it. */
interface StoredInvoice {
  account: { kind: 'employer' | 'member'; id: string; name: string };
  currency: string;
  lines: Array<{ member: string } & Record<string, unknown>>;
  byMember: Array<{ member: string; name: string | null; days: number; amountCents: number }>;
}

export type MemberExportDeps = Pick<AdminDeps, 'db' | 'directory' | 'audit' | 'now' | 'memberBookings'>;

/** Builds the export in one read transaction, and records in the audit log who took it. */
export function exportMember(deps: MemberExportDeps, account: Account, memberId: string): Promise<MemberExport> {
  const { db, directory } = deps;
  return db.transaction(async (tx) => {
    const member = await directory.get(tx, 'member', memberId);
    if (!(await new DirectoryScope(account, directory, tx).reachesMember(member)))
      throw new TesseraError('not_found', `no member ${JSON.stringify(memberId)}`);
    const events = (await eventsNaming(tx, memberId)).map((r) => JSON.parse(r.body) as unknown);
    if (member === undefined && events.length === 0)
      throw new TesseraError('not_found', `no member ${JSON.stringify(memberId)}, and no event names one`);
    const badges = await directory.badgesOf(tx, memberId);
    const invoices = (await invoicesNaming(tx, memberId)).map((r) => invoicePart(r, memberId));
    await deps.audit.record(tx, account, 'export', 'member', memberId, null, {
      events: events.length,
      invoices: invoices.length,
    });
    return {
      memberId,
      exportedAt: new Date(deps.now()).toISOString(),
      member: member ?? null,
      plan: (member && (await directory.get(tx, 'plan', member.plan))) ?? null,
      employer:
        (member?.employer !== undefined ? await directory.get(tx, 'employer', member.employer) : undefined) ?? null,
      badges,
      presence: (await presenceOf(tx, memberId)).map((p) => ({
        site: p.site,
        present: p.present === 1,
        since: p.since,
      })),
      events,
      audit: (
        await auditNaming(
          tx,
          memberId,
          badges.map((b) => b.uid),
        )
      ).map(auditEntryOf),
      invoices,
      billingIdentity: await billingIdentityOf(tx, memberId),
      bookings: await deps.memberBookings(tx, memberId),
      deadLetters: (await deadLettersNaming(tx, memberId)).map((d) => ({
        id: d.id,
        topic: d.topic,
        reason: d.reason,
        at: new Date(d.at).toISOString(),
      })),
    };
  });
}

function invoicePart(row: InvoiceRow, memberId: string): MemberExport['invoices'][number] {
  const invoice = JSON.parse(row.body) as StoredInvoice;
  return {
    number: row.number,
    period: row.period,
    account: invoice.account,
    currency: invoice.currency,
    lines: invoice.lines.filter((l) => l.member === memberId),
    byMember: invoice.byMember.filter((m) => m.member === memberId),
  };
}

/** The member's buyer identity (billing/parties.ts, table `billing_buyers`) as stored, or null. */
async function billingIdentityOf(tx: Sql, memberId: string): Promise<MemberExport['billingIdentity']> {
  const value = await tx.value<string>('SELECT value FROM billing_buyers WHERE account = ?', [`member:${memberId}`]);
  return value === undefined ? null : (JSON.parse(value) as MemberExport['billingIdentity']);
}
