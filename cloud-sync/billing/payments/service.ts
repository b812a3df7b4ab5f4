import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Recurring, type Clock } from '../../../shared/platform/clock.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { describeIssues } from '../../../shared/platform/validation.js';
import {
  HoldOverrideInput,
  OverduePolicy,
  PaymentInput,
  type HoldList,
  type HoldView,
  type InvoiceState,
  type InvoiceStatus,
  type Payment,
  type PaymentMethod,
  type ReminderList,
  type ReminderStage,
  type Receivables,
  type StatementImportResult,
} from '../../../shared/protocol/api/hub-billing-payments.js';
import type { HoldsChange } from '../../hub/access-holds.js';
import type { AuditLog } from '../../hub/admin/audit.js';
import type { Account } from '../../hub/auth/account.js';
import type { HubDb, Sql } from '../../hub/db.js';
import type { HubDirectory } from '../../hub/directory.js';
import { sqlDialect } from '../../hub/storage/dialect.js';
import { lineKeys, matchLines, methodOf, type Payable } from './matching.js';
import { receivables, syncTerms } from './receivables.js';
import { decodeStatement, parseStatement } from './statement.js';
import { accountsToHold, billingDate, reminderStage, statusOf, type HoldOverride } from './status.js';
import { checkUntrusted } from '../../../shared/platform/check-untrusted.js';

/** How often the holds are checked besides after each change: days overdue grow at midnight. */
export const HOLD_CHECK_EVERY_MS = 60 * 60 * 1000;

export interface PaymentsDeps {
  db: HubDb;
  directory: HubDirectory;
  audit: AuditLog;
  clock: Clock;
  log: Logger;
  /** After the held accounts changed: the sites get their members again (DirectoryPublisher.onChange). */
  onDirectoryChange: () => void;
}

interface PaymentRow {
  id: string;
  invoice: string;
  account: string;
  date: string;
  amount_cents: number;
  method: PaymentMethod;
  reference: string;
  note: string;
  import_line: string | null;
  created_by: string;
  created_at: number;
}

const paymentOf = (r: PaymentRow): Payment => ({
  id: r.id,
  invoice: r.invoice,
  account: r.account,
  date: r.date,
  amountCents: Number(r.amount_cents),
  method: r.method,
  reference: r.reference,
  note: r.note,
  source: r.import_line === null ? 'manual' : 'import',
  createdAt: new Date(Number(r.created_at)).toISOString(),
  createdBy: r.created_by,
});

const PAYMENT_COLUMNS =
  'id, invoice, account, date, amount_cents, method, reference, note, import_line, created_by, created_at';

interface OverrideRow {
  account: string;
  until: string | null;
  reason: string;
  set_by: string;
  set_at: number;
}

/**
 * Payments against frozen invoices, what each still owes, reminders, and the overdue policy
 * that closes the doors to an account (docs/billing.md "Payments"). The holds are checked after
 * every change here (a payment recorded or deleted, a statement imported, the policy or an
 * override set) and after credit notes are issued (`receivablesChanged`), at start and every hour: a change of the held accounts is a directory
 * revision, sent to every site.
 */
export class Payments {
  private readonly log: Logger;
  private readonly schedule: Recurring;
  /** Checks run one at a time: the last asked sees every change before it. */
  private checking: Promise<unknown> = Promise.resolve();

  constructor(private readonly deps: PaymentsDeps) {
    this.log = deps.log.child({ module: 'payments' });
    this.schedule = new Recurring(deps.clock, HOLD_CHECK_EVERY_MS, () => void this.checkHolds().catch(() => undefined));
  }

  /** The hourly check (its first at once). */
  start(): void {
    this.schedule.start();
  }

  /** Stops the timer and waits for a check under way. */
  async stop(): Promise<void> {
    this.schedule.stop();
    await this.checking.catch(() => undefined);
  }

  /** Today, in Paris: the day states and days overdue are computed for. */
  today(): string {
    return billingDate(this.deps.clock.now());
  }

  async record(actor: Account, input: unknown): Promise<Payment> {
    const parsed = checkUntrusted(PaymentInput, input);
    if (!parsed.success)
      throw new TesseraError('request.invalid', 'invalid payment', describeIssues(parsed.error, input));
    const p = parsed.data;
    if (p.date > this.today())
      throw new TesseraError('request.invalid', 'invalid payment', [
        { path: 'date', message: 'a payment cannot be received after today' },
      ]);
    const payment = await this.deps.db.transaction(async (tx) => {
      const account = await invoiceAccount(tx, p.invoice);
      if (account === undefined) throw new TesseraError('not_found', `no closed invoice ${p.invoice}`);
      const row: PaymentRow = {
        id: randomUUID(),
        invoice: p.invoice,
        account,
        date: p.date,
        amount_cents: p.amountCents,
        method: p.method,
        reference: p.reference,
        note: p.note,
        import_line: null,
        created_by: actor.username,
        created_at: this.deps.clock.now(),
      };
      await insertPayment(tx, row);
      const payment = paymentOf(row);
      await this.deps.audit.record(tx, actor, 'create', 'payment', payment.id, null, payment);
      return payment;
    });
    this.log.info({ invoice: payment.invoice, amountCents: payment.amountCents }, 'payment recorded');
    await this.afterChange();
    return payment;
  }

  async list(filter: {
    invoice?: string | undefined;
    account?: string | undefined;
    limit: number;
  }): Promise<Payment[]> {
    const where = ['deleted_at IS NULL'];
    const args: Array<string | number> = [];
    if (filter.invoice !== undefined) {
      where.push('invoice = ?');
      args.push(filter.invoice);
    }
    if (filter.account !== undefined) {
      where.push('account = ?');
      args.push(filter.account);
    }
    const rows = await this.deps.db.all<PaymentRow>(
      `SELECT ${PAYMENT_COLUMNS} FROM billing_payments WHERE ${where.join(' AND ')} ORDER BY date DESC, created_at DESC, id LIMIT ?`,
      [...args, filter.limit],
    );
    return rows.map(paymentOf);
  }

  /** Deletes a payment (its row stays, marked: a statement line it came from is not imported again). */
  async remove(actor: Account, id: string): Promise<Payment> {
    const payment = await this.deps.db.transaction(async (tx) => {
      const row = await tx.get<PaymentRow>(
        `SELECT ${PAYMENT_COLUMNS} FROM billing_payments WHERE id = ? AND deleted_at IS NULL`,
        [id],
      );
      if (!row) throw new TesseraError('not_found', `no payment ${JSON.stringify(id)}`);
      await tx.run('UPDATE billing_payments SET deleted_at = ?, deleted_by = ? WHERE id = ?', [
        this.deps.clock.now(),
        actor.username,
        id,
      ]);
      const payment = paymentOf(row);
      await this.deps.audit.record(tx, actor, 'delete', 'payment', id, payment, null);
      return payment;
    });
    this.log.info({ invoice: payment.invoice, amountCents: payment.amountCents }, 'payment deleted');
    await this.afterChange();
    return payment;
  }

  /**
   * Reads a bank statement, matches its credits to invoices (matching.ts) and records a payment
   * for each match, in one transaction with its audit row; a dry run records nothing. Lines
   * recorded by an earlier import are left aside, so importing a statement again (or one that
   * overlaps it) records nothing twice.
   */
  async importStatement(
    actor: Account,
    input: Uint8Array | string,
    opts: { dryRun: boolean; source?: string },
  ): Promise<StatementImportResult> {
    const { lines, problems } = parseStatement(decodeStatement(input));
    const keys = lineKeys(lines);
    const result = await this.deps.db.transaction(async (tx) => {
      await syncTerms(tx, this.log);
      const imported = await importedLines(tx, keys);
      const today = this.today();
      const payable = new Map<string, Payable>(
        (await receivables(tx)).map((r) => {
          const s = statusOf(r, today);
          return [r.number, { number: r.number, account: r.account, name: r.name, dueCents: s.dueCents }];
        }),
      );
      const outcomes = matchLines(lines, keys, imported, payable);
      const out: StatementImportResult = {
        dryRun: opts.dryRun,
        lines: lines.length,
        recorded: [],
        unmatched: [],
        ignored: [],
        problems: problems.map((p) => ({
          path: `line ${p.line}${p.column ? `: ${p.column}` : ''}`,
          message: p.message,
        })),
      };
      const now = this.deps.clock.now();
      for (const o of outcomes) {
        const view = { line: o.line.line, date: o.line.date, amountCents: o.line.amountCents, label: o.line.label };
        if (o.kind === 'ignored') out.ignored.push({ ...view, reason: o.reason });
        else if (o.kind === 'unmatched') out.unmatched.push({ ...view, reason: o.reason, candidates: o.candidates });
        else {
          const payments: Array<{ id: string | null; invoice: string; amountCents: number }> = [];
          for (const p of o.payments) {
            const row: PaymentRow = {
              id: randomUUID(),
              invoice: p.invoice,
              account: payable.get(p.invoice)?.account ?? '',
              date: o.line.date,
              amount_cents: p.amountCents,
              method: methodOf(o.line.label),
              reference: o.line.label.slice(0, 200),
              note: `bank statement${opts.source ? ` ${opts.source}` : ''}, line ${o.line.line}`.slice(0, 500),
              import_line: o.key,
              created_by: actor.username,
              created_at: now,
            };
            // Another import of the same line that committed meanwhile keeps its own: this one records nothing.
            const stored = opts.dryRun ? false : await insertPayment(tx, row);
            payments.push({ id: stored ? row.id : null, invoice: p.invoice, amountCents: p.amountCents });
          }
          out.recorded.push({ ...view, by: o.by, payments });
        }
      }
      if (!opts.dryRun && out.recorded.length > 0)
        await this.deps.audit.record(tx, actor, 'import', 'payment', 'bank-statement', null, {
          lines: out.lines,
          recorded: out.recorded.map((r) => ({ line: r.line, payments: r.payments })),
          unmatched: out.unmatched.length,
        });
      return out;
    });
    this.log.info(
      {
        dryRun: opts.dryRun,
        lines: result.lines,
        recorded: result.recorded.length,
        unmatched: result.unmatched.length,
        problems: result.problems.length,
      },
      'bank statement imported',
    );
    if (!opts.dryRun && result.recorded.length > 0) await this.afterChange();
    return result;
  }

  /** Every closed invoice's state today, oldest first; one state or one account's only if asked. */
  async statuses(filter: { status?: InvoiceState | undefined; account?: string | undefined } = {}): Promise<{
    today: string;
    invoices: InvoiceStatus[];
  }> {
    const today = this.today();
    await syncTerms(this.deps.db, this.log);
    const all = (await receivables(this.deps.db, filter.account)).map((r) => statusOf(r, today));
    return { today, invoices: filter.status === undefined ? all : all.filter((s) => s.status === filter.status) };
  }

  /** What each account owes: those with something due, a credit (paid beyond), or held, by account. */
  async receivables(): Promise<Receivables> {
    const { today, invoices } = await this.statuses();
    const held = await heldSet(this.deps.db);
    const byAccount = new Map<string, Receivables['accounts'][number]>();
    for (const s of invoices) {
      const a = byAccount.get(s.account) ?? {
        account: s.account,
        name: s.name,
        unpaidInvoices: 0,
        balanceCents: 0,
        creditCents: 0,
        overdueCents: 0,
        maxDaysOverdue: 0,
        held: held.has(s.account),
      };
      a.name = s.name; // the newest invoice's
      a.balanceCents += s.dueCents;
      if (s.dueCents > 0) a.unpaidInvoices++;
      else a.creditCents -= s.dueCents;
      if (s.status === 'overdue') {
        a.overdueCents += s.dueCents;
        a.maxDaysOverdue = Math.max(a.maxDaysOverdue, s.daysOverdue);
      }
      byAccount.set(s.account, a);
    }
    const accounts = [...byAccount.values()]
      .filter((a) => a.balanceCents !== 0 || a.unpaidInvoices > 0 || a.creditCents > 0 || a.held)
      .sort((x, y) => y.maxDaysOverdue - x.maxDaysOverdue || x.account.localeCompare(y.account));
    return { today, accounts };
  }

  /** The overdue invoices, most overdue first, with the reminder stage each has reached (status.ts REMINDER_STAGES). */
  async reminders(stage?: ReminderStage): Promise<ReminderList> {
    const today = this.today();
    await syncTerms(this.deps.db, this.log);
    const held = await heldSet(this.deps.db);
    const reminders: ReminderList['reminders'] = [];
    for (const r of await receivables(this.deps.db)) {
      const s = statusOf(r, today);
      const reached = s.status === 'overdue' ? reminderStage(s.daysOverdue, s.dueDate) : undefined;
      if (!reached || (stage !== undefined && reached.stage !== stage)) continue;
      reminders.push({
        invoice: s.number,
        account: s.account,
        name: s.name,
        email: r.email,
        dueDate: s.dueDate,
        daysOverdue: s.daysOverdue,
        dueCents: s.dueCents,
        stage: reached.stage,
        stageReachedOn: reached.reachedOn,
        held: held.has(s.account),
      });
    }
    reminders.sort((a, b) => b.daysOverdue - a.daysOverdue || a.invoice.localeCompare(b.invoice));
    return { today, reminders };
  }

  async policy(q: Sql = this.deps.db): Promise<OverduePolicy> {
    const days = await q.value<number | null>('SELECT suspend_after_days FROM billing_overdue_policy WHERE id = 1');
    return { suspendAfterDaysOverdue: days === undefined || days === null ? null : Number(days) };
  }

  async setPolicy(actor: Account, input: unknown): Promise<OverduePolicy> {
    const parsed = checkUntrusted(OverduePolicy, input);
    if (!parsed.success)
      throw new TesseraError('request.invalid', 'invalid overdue policy', describeIssues(parsed.error, input));
    await this.deps.db.transaction(async (tx) => {
      const before = await this.policy(tx);
      await tx.run(
        'INSERT INTO billing_overdue_policy (id, suspend_after_days, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET suspend_after_days = excluded.suspend_after_days, updated_at = excluded.updated_at',
        [parsed.data.suspendAfterDaysOverdue, this.deps.clock.now()],
      );
      await this.deps.audit.record(tx, actor, 'update', 'overdue_policy', 'network', before, parsed.data);
    });
    this.log.info(parsed.data, 'overdue policy set');
    await this.afterChange();
    return parsed.data;
  }

  /** Accounts held now, overdue, or with an override, most overdue first. */
  async holds(): Promise<HoldList> {
    const { today, invoices } = await this.statuses();
    const policy = await this.policy();
    const held = await heldRows(this.deps.db);
    const overrides = await overrideRows(this.deps.db);
    const accounts = new Set([
      ...held.keys(),
      ...overrides.keys(),
      ...invoices.filter((s) => s.status === 'overdue').map((s) => s.account),
    ]);
    const holds = [...accounts].map((a) => holdView(a, invoices, held, overrides));
    holds.sort((x, y) => y.maxDaysOverdue - x.maxDaysOverdue || x.account.localeCompare(y.account));
    return { today, policy, holds };
  }

  /** Sets or ends an operator's override of an account's hold, then checks the holds at once. */
  async setOverride(actor: Account, account: string, input: unknown): Promise<HoldView> {
    const parsed = checkUntrusted(HoldOverrideInput, input);
    if (!parsed.success)
      throw new TesseraError('request.invalid', 'invalid override', describeIssues(parsed.error, input));
    const o = parsed.data;
    if (o.override === null && o.until !== undefined)
      throw new TesseraError('request.invalid', 'invalid override', [
        { path: 'until', message: 'an end date goes with override "lift" only' },
      ]);
    await this.deps.db.transaction(async (tx) => {
      await syncTerms(tx, this.log);
      if ((await tx.value('SELECT 1 AS one FROM billing_invoice_terms WHERE account = ?', [account])) === undefined)
        throw new TesseraError('not_found', `no invoice to ${account}`);
      const before = (await overrideRows(tx)).get(account);
      if (o.override === null) await tx.run('DELETE FROM billing_hold_overrides WHERE account = ?', [account]);
      else
        await tx.run(
          'INSERT INTO billing_hold_overrides (account, until, reason, set_by, set_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account) DO UPDATE SET until = excluded.until, reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at',
          [account, o.until ?? null, o.reason, actor.username, this.deps.clock.now()],
        );
      await this.deps.audit.record(
        tx,
        actor,
        o.override === null ? 'delete' : before ? 'update' : 'create',
        'hold_override',
        account,
        before ? overrideView(before) : null,
        o.override === null ? { override: null, reason: o.reason } : { ...o, until: o.until ?? null },
      );
    });
    this.log.info({ account, override: o.override, until: o.until ?? null }, 'hold override set');
    await this.afterChange();
    const { invoices } = await this.statuses({ account });
    return holdView(account, invoices, await heldRows(this.deps.db), await overrideRows(this.deps.db));
  }

  /**
   * Makes the held accounts those the policy and overrides say today (status.ts accountsToHold);
   * a change is one directory revision that sends every site the members concerned. Runs one at a
   * time; answers the change, or undefined when there was none.
   */
  checkHolds(): Promise<HoldsChange | undefined> {
    const run = this.checking.catch(() => undefined).then(() => this.checkNow());
    this.checking = run;
    return run;
  }

  private async checkNow(): Promise<HoldsChange | undefined> {
    try {
      const { invoices, today } = await this.statuses();
      const policy = await this.policy();
      const overrides = new Map(
        [...(await overrideRows(this.deps.db))].map(([a, o]) => [
          a,
          { override: 'lift', until: o.until } as HoldOverride,
        ]),
      );
      const wanted = accountsToHold(invoices, policy.suspendAfterDaysOverdue, overrides, today);
      const change = await this.deps.directory.setHolds(this.deps.db, wanted, this.deps.clock.now());
      if (change) {
        this.log.info(change, 'accounts held at the doors for overdue invoices changed');
        this.deps.onDirectoryChange();
      }
      return change;
    } catch (err) {
      this.log.error({ err }, 'overdue holds not checked: the next change or the hourly check tries again');
      throw err;
    }
  }

  /**
   * What accounts owe changed outside this service (credit notes issued): the holds follow at
   * once, as after a payment, instead of at the next hourly check.
   */
  receivablesChanged(): Promise<void> {
    return this.afterChange();
  }

  /** After a change of what is owed or of the policy: the holds follow before the answer. */
  private async afterChange(): Promise<void> {
    // The change is committed: a failure here is logged, and the hourly check catches up.
    await this.checkHolds().catch(() => undefined);
  }
}

/** The account of a closed invoice (not a credit note), or undefined. */
async function invoiceAccount(q: Sql, number: string): Promise<string | undefined> {
  const row = await q.get<{ account: string; number: string }>(
    'SELECT account, number FROM billing_invoices WHERE number = ?',
    [number],
  );
  return row?.account;
}

/** Inserts a payment; false when its statement line and invoice were recorded already. */
async function insertPayment(q: Sql, r: PaymentRow): Promise<boolean> {
  const changes = await q.run(
    `INSERT INTO billing_payments (${PAYMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    [
      r.id,
      r.invoice,
      r.account,
      r.date,
      r.amount_cents,
      r.method,
      r.reference,
      r.note,
      r.import_line,
      r.created_by,
      r.created_at,
    ],
  );
  return changes.changes > 0;
}

/** Which of `keys` earlier imports recorded (deleted payments included: their lines stay imported). */
async function importedLines(q: Sql, keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const found = await q.column<string>(
    `SELECT DISTINCT import_line FROM billing_payments WHERE ${sqlDialect(q).inJsonArray('import_line', '?')}`,
    [JSON.stringify([...new Set(keys)])],
  );
  return new Set(found);
}

const heldRows = async (q: Sql) =>
  new Map(
    (await q.all<{ account: string; since: number }>('SELECT account, since FROM access_holds')).map((r) => [
      r.account,
      Number(r.since),
    ]),
  );
const heldSet = async (q: Sql) => new Set((await heldRows(q)).keys());
const overrideRows = async (q: Sql) =>
  new Map(
    (
      await q.all<OverrideRow>(
        'SELECT account, until, reason, set_by, set_at FROM billing_hold_overrides ORDER BY account',
      )
    ).map((r) => [r.account, r]),
  );

const overrideView = (o: OverrideRow) => ({
  override: 'lift' as const,
  until: o.until,
  reason: o.reason,
  setBy: o.set_by,
  setAt: new Date(Number(o.set_at)).toISOString(),
});

function holdView(
  account: string,
  invoices: readonly InvoiceStatus[],
  held: ReadonlyMap<string, number>,
  overrides: ReadonlyMap<string, OverrideRow>,
): HoldView {
  const own = invoices.filter((s) => s.account === account);
  const overdue = own.filter((s) => s.status === 'overdue');
  const since = held.get(account);
  const o = overrides.get(account);
  return {
    account,
    name: own.at(-1)?.name ?? account,
    held: since !== undefined,
    since: since === undefined ? null : new Date(since).toISOString(),
    overdueInvoices: overdue.map((s) => s.number),
    maxDaysOverdue: Math.max(0, ...overdue.map((s) => s.daysOverdue)),
    override: o ? overrideView(o) : null,
  };
}
