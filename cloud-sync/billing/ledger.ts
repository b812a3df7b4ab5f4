import type { Logger } from 'pino';
import { TesseraError } from '../../shared/platform/errors.js';
import { describeIssues } from '../../shared/platform/validation.js';
import type { HubDb, Sql, Tx } from '../hub/db.js';
import { sqlDialect } from '../hub/storage/dialect.js';
import type { HubDirectory } from '../hub/directory.js';
import type { HubSites } from '../hub/sites.js';
import type { ReadProgress } from './event-source.js';
import { doorContradictions } from './door-consistency.js';
import type { Invoice } from './invoice.js';
import { invoiceBytes } from './invoice.js';
import { freezer, renumbered, type FrozenInvoice } from './frozen.js';
import type { PeriodId } from './period.js';
import { closableFrom, PeriodId as PeriodSchema, previousPeriod } from './period.js';
import type { LedgerState, PeriodStatement, RatingContext, StatementRun } from './period-rating.js';
import { statementOf } from './period-rating.js';
import { rulesOf, type RatingRules } from './rate.js';
import { PriceList, unpricedRefusals } from './prices.js';
import type {
  Buyer,
  InvoiceLanguage,
  MissingParties,
  PeriodSummary,
  Seller,
} from '../../shared/protocol/api/hub-billing.js';
import type { Account } from '../hub/auth/account.js';
import { CorrectionRoutes, originsOf, type Origin } from './corrections.js';
import {
  cancellationDraft,
  creditNote,
  creditNotesCorrecting,
  creditNotesIssuedIn,
  creditNoteNumber,
  creditedByHand,
  creditNotesOf,
  invoiceIn,
  lastCreditNote,
  lockLedger,
  parseCreditMark,
  storeCreditNotes,
} from './credit-notes.js';
import { issueDateOf, lateCorrectionReason, lawfulCreditNote, lawfulInvoice, type LineNames } from './lawful.js';
import { BillingParties, type AuditChange, type Parties } from './parties.js';
import { parseStoredUnbilled, storedUnbilled } from './unpriced.js';
import type { Resource } from '../../shared/protocol/bookings.js';
import { currentResources, frozenResources } from './booking-source.js';
import { checkUntrusted } from '../../shared/platform/check-untrusted.js';

/**
 * How far behind the close its cutoff lies. An ingest stamps `received_at` and then commits
 * within its busy timeout (5 s); with a minute of grace every event stamped before the cutoff is
 * already visible when the close reads, so none falls between the close and the next period.
 */
export const CUTOFF_GRACE_MS = 60_000;

export interface BillingDeps {
  db: HubDb;
  directory: HubDirectory;
  sites: HubSites;
  now: () => number;
  log: Logger;
  /** Records the seller, buyer and credit note changes an operator makes (the hub's audit log). */
  audit?: AuditChange;
  /**
   * After credit notes were issued (an operator's, or a close's): what accounts owe changed, so
   * the overdue holds are checked again before the answer (Payments.receivablesChanged).
   */
  onCreditNotes?: () => Promise<void>;
  /** Rows of the events table a rating reads at a time (event-source.ts `PAGE_ROWS` unless given: tests use small pages). */
  pageRows?: number;
}

// A month's summary is the billing API's wire shape (shared/protocol/api/hub-billing.ts).
export type { PeriodSummary };

interface PeriodRow {
  period: string;
  cutoff: number;
  closed_at: number;
  prices: string;
  unbilled: string;
  invoices: number;
  subtotal_cents: number;
  vat_cents: number;
  total_cents: number;
}

const iso = (ms: number) => new Date(ms).toISOString();
const summaryOf = (r: PeriodRow): PeriodSummary => ({
  period: r.period,
  status: 'closed',
  closedAt: iso(r.closed_at),
  cutoff: iso(r.cutoff),
  currency: PriceList.shape.currency.parse((JSON.parse(r.prices) as { currency?: unknown }).currency),
  invoices: r.invoices,
  subtotalCents: r.subtotal_cents,
  vatCents: r.vat_cents,
  totalCents: r.total_cents,
  ...parseStoredUnbilled(r.unbilled),
});

/** The billing ledger (the shell around the pure rating): prices, closes, frozen invoices. */
export class BillingLedger {
  private readonly log: Logger;
  /** The seller setting and the buyers' identities (`GET/PUT /billing/seller`, `/billing/buyers`). */
  readonly parties: BillingParties;

  constructor(private readonly deps: BillingDeps) {
    this.log = deps.log.child({ module: 'billing' });
    this.parties = new BillingParties(deps.db, deps.now, deps.audit);
  }

  async prices(): Promise<PriceList | undefined> {
    const value = await this.deps.db.value<string>('SELECT value FROM billing_prices WHERE id = 1');
    return value === undefined ? undefined : PriceList.parse(JSON.parse(value));
  }

  /**
   * Replaces the price list; closed periods keep the prices they were closed with. A list whose
   * subscriptions say otherwise than the doors about a day beyond the quota is refused, naming each plan.
   */
  async setPrices(input: unknown): Promise<PriceList> {
    const parsed = checkUntrusted(PriceList, input);
    if (!parsed.success)
      throw new TesseraError('request.invalid', 'invalid price list', describeIssues(parsed.error, input));
    const unpriced = unpricedRefusals(parsed.data);
    if (unpriced.length > 0) throw new TesseraError('request.invalid', 'invalid price list', unpriced);
    const contradictions = doorContradictions(parsed.data, await this.deps.directory.list(this.deps.db, 'plan'));
    if (contradictions.length > 0)
      throw new TesseraError(
        'billing.contradicts_directory',
        `${contradictions.length} tariff(s) contradict what the door does under the directory's plan`,
        contradictions,
      );
    await this.deps.db.run(
      'INSERT INTO billing_prices (id, value, updated_at) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      [JSON.stringify(parsed.data), this.deps.now()],
    );
    this.log.info(
      { plans: Object.keys(parsed.data.plans).length, consumables: Object.keys(parsed.data.consumables).length },
      'price list updated',
    );
    return parsed.data;
  }

  async periods(): Promise<PeriodSummary[]> {
    return (await this.deps.db.all<PeriodRow>('SELECT * FROM billing_periods ORDER BY period')).map(summaryOf);
  }

  closed(period: PeriodId): Promise<PeriodSummary | undefined> {
    return closedIn(this.deps.db, period);
  }

  /** The frozen invoices of a closed period, by number. */
  async invoices(period: PeriodId): Promise<Invoice[]> {
    const bodies = await this.deps.db.column<string>(
      'SELECT body FROM billing_invoices WHERE period = ? ORDER BY year, seq',
      [period],
    );
    return bodies.map((body) => JSON.parse(body) as Invoice);
  }

  /** The closed invoices of one employer, oldest first (an employer's manager's, `GET /employer/invoices`). */
  async employerInvoices(employer: string): Promise<Invoice[]> {
    const bodies = await this.deps.db.column<string>(
      'SELECT body FROM billing_invoices WHERE account = ? ORDER BY year, seq',
      [`employer:${employer}`],
    );
    return bodies.map((body) => JSON.parse(body) as Invoice);
  }

  /** The credit notes issued to an employer, by number. */
  async employerCreditNotes(employer: string): Promise<Invoice[]> {
    const bodies = await this.deps.db.column<string>(
      'SELECT body FROM billing_credit_notes WHERE account = ? ORDER BY year, seq',
      [`employer:${employer}`],
    );
    return bodies.map((body) => JSON.parse(body) as Invoice);
  }

  /** An invoice, or a credit note (`AV-…`), by its number. */
  async invoice(number: string): Promise<Invoice | undefined> {
    if (number.startsWith('AV-')) return creditNote(this.deps.db, number);
    const body = await this.deps.db.value<string>('SELECT body FROM billing_invoices WHERE number = ?', [number]);
    return body === undefined ? undefined : (JSON.parse(body) as Invoice);
  }

  /** The credit notes a month's close issued, by number. */
  creditNotesIssuedIn(period: PeriodId): Promise<Invoice[]> {
    return creditNotesIssuedIn(this.deps.db, this.checkPeriod(period));
  }

  /** The credit notes crediting a month's charges, whenever issued (at a later close, or by an operator). */
  creditNotesOf(period: PeriodId): Promise<Invoice[]> {
    return creditNotesOf(this.deps.db, this.checkPeriod(period));
  }

  /** What the period's invoices and credit notes would be if it closed now: not stored, not numbered. */
  async preview(
    period: PeriodId,
    progress?: ReadProgress,
  ): Promise<{ summary: PeriodSummary; invoices: Invoice[]; creditNotes: Invoice[] }> {
    const checked = this.checkPeriod(period);
    const cutoff = this.deps.now();
    const ctx = await this.context(progress);
    const run = await statementOf(ctx, checked, cutoff, await this.stateOf(await closedPeriods(this.deps.db)));
    const parties = currentParties(await this.parties.all());
    const invoices: Invoice[] = [];
    const { statement, creditNotes } = await this.issueEach(ctx, run, checked, cutoff, parties, (i) =>
      invoices.push(i),
    );
    const all = { invoices, creditNotes };
    const issued = withoutHandCredited(all, await creditedByHand(this.deps.db, correctedBy(all.creditNotes)), parties);
    return {
      summary: {
        ...totals(statement, issued.invoices),
        period: checked,
        status: 'open',
        closedAt: null,
        cutoff: iso(cutoff),
        currency: ctx.prices.currency,
        creditNotes: issued.creditNotes.length,
        missing: issued.missing,
      },
      invoices: issued.invoices,
      creditNotes: issued.creditNotes,
    };
  }

  /**
   * A statement's documents as they are made, one account at a time: each invoice, its late
   * corrections routed (adjustment lines or credit notes, corrections.ts), issued at `at` with
   * its parties (lawful.ts) and handed to `each` in account order; then the credit notes issued,
   * and what the rating lists besides. Neither numbered nor stored.
   */
  private async issueEach(
    ctx: RatingContext,
    run: StatementRun,
    period: PeriodId,
    at: number,
    parties: PartiesAt,
    each: (invoice: Invoice) => void,
  ): Promise<{ statement: PeriodStatement; creditNotes: Invoice[] }> {
    const origins = await originsOf(this.deps.db, new Set(run.adjusted), period);
    const issue = { at, seller: parties.seller, names: lineNames(ctx) };
    const routes = new CorrectionRoutes(period, ctx.prices.currency, run.adjusting, origins, (draft) =>
      each(lawfulInvoice(draft, parties.buyerOf(accountKey(draft.account)), issue)),
    );
    const creditNotes = routes.credits.map((c) => {
      const { buyer, language } = parties.creditTo(c.origin, c.period);
      return lawfulCreditNote(c.note, c.origin, language, buyer, lateCorrectionReason(language, c.period), issue, true);
    });
    const statement = await run.rate((invoice) => routes.invoice(invoice));
    routes.end();
    return { statement, creditNotes };
  }

  /**
   * An operator's credit note cancelling what is left of an invoice (its amount less the credit
   * notes that corrected it already), with the reason printed on it; numbered in the credit
   * notes' series in its own transaction, which locks the ledger as a close does.
   */
  async creditInvoice(actor: Account | undefined, number: string, reason: string): Promise<Invoice> {
    const at = this.deps.now();
    const parties = await this.parties.all();
    const [note] = await this.deps.db.transaction(async (tx) => {
      await lockLedger(tx);
      const invoice = await invoiceIn(tx, number);
      const draft = cancellationDraft(invoice, await creditNotesCorrecting(tx, number));
      const buyer = parties.buyers.get(accountKey(invoice.account)) ?? invoice.buyer;
      const issued = lawfulCreditNote(
        draft,
        { number, issueDate: invoice.issueDate ?? issueDateOf(Date.parse(invoice.closedAt ?? '')) },
        invoice.language ?? buyer?.language ?? 'fr',
        buyer,
        reason,
        { at, seller: parties.seller, names: { item: (id) => id, resource: (id) => id, tariff: () => undefined } },
        false,
      );
      const stored = await storeCreditNotes(tx, [issued], at, null);
      if (actor && this.deps.audit)
        await this.deps.audit(tx, actor, 'create', 'credit-note', stored[0]?.number ?? '', null, {
          corrects: number,
          reason,
          totalCents: issued.totalCents,
        });
      return stored;
    });
    if (!note) throw new Error('a credit note was stored and not returned');
    this.log.info({ creditNote: note.number, corrects: number, totalCents: note.totalCents }, 'invoice credited');
    await this.deps.onCreditNotes?.();
    return note;
  }

  /**
   * Closes a month: rates it as of the cutoff, adds adjustments for late events of closed
   * periods, numbers the invoices and stores them, frozen, in one transaction. Months close in
   * order, each once, once over everywhere: closes running at once (two requests, two hub
   * instances on one PostgreSQL database, the CLI beside the hub) store one after the other, and
   * all but the first are refused.
   */
  async close(period: PeriodId, progress?: ReadProgress): Promise<PeriodSummary> {
    const checked = this.checkPeriod(period);
    const closedAt = this.deps.now();
    if (closedAt < closableFrom(checked))
      throw new TesseraError(
        'billing.out_of_order',
        `${checked} is not over in every time zone until ${iso(closableFrom(checked))}`,
      );
    // One read of the closed months: a close storing meanwhile is either wholly in it or not at all.
    const closed = await closedPeriods(this.deps.db);
    checkOrder(closed, checked);
    const state = await this.stateOf(closed);
    const cutoff = closedAt - CUTOFF_GRACE_MS;
    if (state && cutoff < state.lastCutoff)
      throw new TesseraError('billing.out_of_order', `the clock is behind the last close (${iso(state.lastCutoff)})`);
    const ctx = await this.context(progress);
    const run = await statementOf(ctx, checked, cutoff, state);
    const parties = currentParties(await this.parties.all());
    // Numbered after the year's last invoice as it is now: the transaction stores them as they
    // are when no close stored in between (else it numbers them again). Each is frozen into its
    // bytes as it is issued: what stays of a month's invoices is their bytes (tens of MB).
    const year = Number(checked.slice(0, 4));
    const after = await lastSeq(this.deps.db, year);
    const freeze = freezer({ year, after, closedAt: iso(closedAt) });
    const invoices: FrozenInvoice[] = [];
    const { statement, creditNotes } = await this.issueEach(ctx, run, checked, closedAt, parties, (i) =>
      invoices.push(freeze(i)),
    );
    const issued = { invoices, creditNotes };
    progress?.('writing invoices', 0, issued.invoices.length);
    const resources = [...ctx.resources.values()];
    const summary = await this.deps.db.transaction((tx) =>
      store(tx, checked, { cutoff, closedAt, prices: ctx.prices, resources }, statement, issued, parties, state, after),
    );
    progress?.('writing invoices', issued.invoices.length, issued.invoices.length);
    this.log.info(
      {
        period: checked,
        invoices: summary.invoices,
        creditNotes: summary.creditNotes,
        totalCents: summary.totalCents,
        adjusted: statement.adjusted,
        unbilled: summary.unbilled.length,
      },
      'period closed',
    );
    // Listed in the close's answer (`missing`); at info, as a close before any seller setting is lawful to run.
    const missing = summary.missing ?? { seller: false, buyers: [] };
    if (missing.seller || missing.buyers.length > 0)
      this.log.info(
        { period: checked, seller: missing.seller, buyers: missing.buyers.slice(0, 20) },
        'invoices closed without their seller or buyer: no lawful document can be made of them',
      );
    if (statement.unreadable > 0)
      this.log.warn(
        { period: checked, unreadable: statement.unreadable },
        'stored events that no longer parse were left out of the close',
      );
    if (statement.unrated.length > 0)
      this.log.warn(
        { period: checked, months: statement.unrated },
        'late events of months whose events the retention pruned: not re-rated, not billed',
      );
    if (statement.admittedBeyondQuota.length > 0)
      this.log.warn(
        { period: checked, days: statement.admittedBeyondQuota.slice(0, 20) },
        "days let in beyond a quota the plan refuses (a site cut off from the hub): charged at the plan's price for them",
      );
    if (summary.unpriced.length > 0)
      this.log.warn(
        { period: checked, unpricedItems: summary.unpriced.length, unpriced: summary.unpriced.slice(0, 20) },
        'consumable uses without a price were left out of the close',
      );
    if (summary.unbilled.length > 0)
      this.log.warn(
        { period: checked, members: summary.unbilled.map((u) => u.member).slice(0, 20) },
        'usage of members not in the directory is not billed',
      );
    if ((summary.creditNotes ?? 0) > 0) await this.deps.onCreditNotes?.();
    return summary;
  }

  /**
   * Rates a closed period again from the stored events, as of its cutoff, with the prices it was
   * closed with, and compares the bytes with the frozen invoices. Differences can only come from
   * a directory changed since (members, employers: the current directory is used).
   */
  async verify(
    period: PeriodId,
    progress?: ReadProgress,
  ): Promise<{ period: PeriodId; identical: boolean; differing: string[] }> {
    const checked = this.checkPeriod(period);
    const db = this.deps.db;
    const row = await db.get<{
      cutoff: number;
      closed_at: number;
      prices: string;
      resources: string | null;
      credit_mark: string | null;
    }>('SELECT cutoff, closed_at, prices, resources, credit_mark FROM billing_periods WHERE period = ?', [checked]);
    if (!row) throw new TesseraError('not_found', `${checked} is not closed`);
    const pruned = await this.prunedPeriods();
    if (pruned.has(checked))
      throw new TesseraError(
        'billing.pruned',
        `${checked}'s access and presence events are past their retention and pruned: its frozen invoices stand, it cannot be re-rated`,
      );
    const earlier = await db.all<{ period: string; cutoff: number }>(
      'SELECT period, cutoff FROM billing_periods WHERE period < ? ORDER BY period',
      [checked],
    );
    const last = earlier.at(-1);
    const state = last ? { lastCutoff: last.cutoff, closed: new Set(earlier.map((r) => r.period)), pruned } : undefined;
    const stored = await this.invoices(checked);
    const frozen = {
      prices: PriceList.parse(JSON.parse(row.prices)),
      resources: frozenResources(row.resources),
      rules: rulesOf(stored),
    };
    const ctx = await this.context(progress, frozen);
    const run = await statementOf(ctx, checked, row.cutoff, state);
    const storedCredits = await creditNotesIssuedIn(db, checked);
    // A month closed before invoices were issued with their legal fields re-rates as it was: every
    // correction on the invoices, no credit note.
    const legacy = stored.some((i) => i.type === undefined);
    const parties = frozenParties(stored, storedCredits);
    const invoices: Invoice[] = [];
    const keep = (invoice: Invoice) => void invoices.push(invoice);
    const creditNotes = legacy
      ? (await run.rate(keep), [])
      : (await this.issueEach(ctx, run, checked, row.closed_at, parties, keep)).creditNotes;
    const all = { invoices, creditNotes };
    // The invoices credited by hand before the close stored (up to its mark) got no credit note from it.
    const upTo = parseCreditMark(row.credit_mark);
    const issued = withoutHandCredited(all, await creditedByHand(db, correctedBy(all.creditNotes), upTo), parties);
    const closedAt = iso(row.closed_at);
    const again = issued.invoices.map((invoice, i) =>
      invoiceBytes({ ...invoice, number: stored[i]?.number ?? null, closedAt }),
    );
    const creditsAgain = issued.creditNotes.map((note, i) =>
      invoiceBytes({ ...note, number: storedCredits[i]?.number ?? null, closedAt }),
    );
    const differing = [
      ...stored.filter((f, i) => invoiceBytes(f) !== again[i]).map((f) => f.number ?? ''),
      ...storedCredits.filter((f, i) => invoiceBytes(f) !== creditsAgain[i]).map((f) => f.number ?? ''),
    ];
    const identical =
      differing.length === 0 && again.length === stored.length && creditsAgain.length === storedCredits.length;
    if (!identical)
      this.log.warn(
        { period: checked, differing: differing.length, frozen: stored.length, rerated: again.length },
        're-rating differs from the frozen invoices',
      );
    return { period: checked, identical, differing };
  }

  private checkPeriod(period: string): PeriodId {
    const parsed = checkUntrusted(PeriodSchema, period);
    if (!parsed.success)
      throw new TesseraError(
        'request.invalid',
        `invalid period ${JSON.stringify(period)}`,
        describeIssues(parsed.error, period).map((d) => ({ ...d, path: 'period' })),
      );
    return parsed.data;
  }

  private async stateOf(rows: readonly ClosedPeriod[]): Promise<LedgerState | undefined> {
    const last = rows.at(-1);
    return last
      ? { lastCutoff: last.cutoff, closed: new Set(rows.map((r) => r.period)), pruned: await this.prunedPeriods() }
      : undefined;
  }

  /** The closed months billed before the retention watermark (cloud-sync/hub/retention.ts). */
  private async prunedPeriods(): Promise<Set<string>> {
    const periods = await this.deps.db.column<string>(
      'SELECT period FROM billing_periods WHERE cutoff <= (SELECT pruned_through FROM retention WHERE id = 1)',
    );
    return new Set(periods);
  }

  /** What a rating reads besides the events: now, or as a closed month was closed (`frozen`: prices and resources). */
  private async context(
    progress: ReadProgress | undefined,
    frozen?: { prices: PriceList; resources: Resource[]; rules: RatingRules },
  ): Promise<RatingContext> {
    const frozenPrices = frozen?.prices;
    const prices = frozenPrices ?? (await this.prices());
    if (!prices)
      throw new TesseraError('billing.unpriced', 'no price list yet: PUT /billing/prices first (docs/billing.md)');
    // A closed month re-rates with the list it was closed with, as it was; a new rating needs the price of every day.
    const unpriced = frozenPrices ? [] : unpricedRefusals(prices);
    if (unpriced.length > 0)
      throw new TesseraError('billing.unpriced', `${unpriced.length} price(s) missing from the price list`, unpriced);
    const zones = new Map((await this.deps.sites.list(this.deps.db)).map((s) => [s.id, s.timeZone]));
    return {
      db: this.deps.db,
      prices,
      members: await this.deps.directory.list(this.deps.db, 'member'),
      employers: await this.deps.directory.list(this.deps.db, 'employer'),
      plans: await this.deps.directory.list(this.deps.db, 'plan'),
      ...(frozen ? { rules: frozen.rules } : {}),
      zones,
      resources: new Map((frozen?.resources ?? (await currentResources(this.deps.db))).map((r) => [r.id, r])),
      ...(progress ? { progress } : {}),
      ...(this.deps.pageRows === undefined ? {} : { pageRows: this.deps.pageRows }),
    };
  }
}

async function closedIn(q: Sql, period: PeriodId): Promise<PeriodSummary | undefined> {
  const row = await q.get<PeriodRow>('SELECT * FROM billing_periods WHERE period = ?', [period]);
  return row ? summaryOf(row) : undefined;
}

interface ClosedPeriod {
  period: string;
  cutoff: number;
}

/**
 * The closed months, oldest first, in one statement: the checks below read them together, so a
 * close storing between two reads cannot make a month look both open and followed by itself.
 */
const closedPeriods = (q: Sql) => q.all<ClosedPeriod>('SELECT period, cutoff FROM billing_periods ORDER BY period');

function checkOrder(closed: readonly ClosedPeriod[], period: PeriodId): void {
  if (closed.some((c) => c.period === period))
    throw new TesseraError('billing.period_closed', `${period} is already closed`);
  const last = closed.at(-1)?.period;
  if (last !== undefined && last > period)
    throw new TesseraError(
      'billing.out_of_order',
      `${period} comes before ${last}, which is closed: its late events go on the next invoice`,
    );
  if (last !== undefined && last !== previousPeriod(period))
    throw new TesseraError(
      'billing.out_of_order',
      `close ${previousPeriod(period)} first (the last closed period is ${last})`,
    );
}

/**
 * Stores a close, numbering its invoices after the year's last: the close's one transaction.
 * It first locks the price list's row (PostgreSQL: until the commit; SQLite has one writer at a
 * time anyway), which every close reads: a close running at the same time, in this process or
 * another hub instance, waits there, then finds this one's period and is refused. So the
 * numbers read and written here are never read by another close meanwhile: no gap, no
 * duplicate, no period billed twice.
 */
async function store(
  tx: Tx,
  period: PeriodId,
  {
    cutoff,
    closedAt,
    prices,
    resources,
  }: { cutoff: number; closedAt: number; prices: PriceList; resources: Resource[] },
  statement: PeriodStatement,
  documents: Documents<FrozenInvoice>,
  parties: PartiesAt,
  rated: LedgerState | undefined,
  frozenAfter: number,
): Promise<PeriodSummary> {
  await lockLedger(tx);
  const closed = await closedPeriods(tx);
  checkOrder(closed, period); // again, now that no other close can store: one may have stored meanwhile
  // The statement adjusts the closed months as of the last close it saw: it must still be the last.
  if (closed.at(-1)?.cutoff !== rated?.lastCutoff)
    throw new TesseraError(
      'billing.out_of_order',
      `another close of ${previousPeriod(period)} ran meanwhile: close ${period} again`,
    );
  // An invoice credited by hand, before this transaction took the lock, gets no credit note from the close.
  const mark = await lastCreditNote(tx);
  const issued = withoutHandCredited(
    documents,
    await creditedByHand(tx, correctedBy(documents.creditNotes), mark),
    parties,
  );
  const year = Number(period.slice(0, 4));
  const after = await lastSeq(tx, year);
  const frozen = after === frozenAfter ? issued.invoices : renumbered(issued.invoices, year, after);
  const t = totals(statement, issued.invoices);
  await tx.run(
    'INSERT INTO billing_periods (period, cutoff, closed_at, prices, resources, unbilled, invoices, subtotal_cents, vat_cents, total_cents, credit_mark) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [
      period,
      cutoff,
      closedAt,
      JSON.stringify(prices),
      JSON.stringify(resources),
      storedUnbilled(t.unbilled, t.unpriced),
      t.invoices,
      t.subtotalCents,
      t.vatCents,
      t.totalCents,
      mark === null ? null : creditNoteNumber(mark.year, mark.seq),
    ],
  );
  // The bytes as they are: an employer's invoice as a JS string would be a large object of the old generation.
  const insert = `INSERT INTO billing_invoices (number, year, seq, period, account, total_cents, body) VALUES (?, ?, ?, ?, ?, ?, ${sqlDialect(tx).utf8Text('?')})`;
  for (const f of frozen) await tx.run(insert, [f.number, year, f.seq, period, f.account, f.totalCents, f.body]);
  const credits = await storeCreditNotes(tx, issued.creditNotes, closedAt, period);
  return {
    ...t,
    period,
    status: 'closed',
    closedAt: iso(closedAt),
    cutoff: iso(cutoff),
    currency: prices.currency,
    creditNotes: credits.length,
    missing: issued.missing,
  };
}

/** The year's last invoice seq (0 before its first). */
const lastSeq = async (q: Sql, year: number): Promise<number> =>
  (await q.value<number | null>('SELECT MAX(seq) FROM billing_invoices WHERE year = ?', [year])) ?? 0;

/** The month's totals are its invoices' (issued: what late corrections credited is on credit notes instead). */
function totals(s: PeriodStatement, invoices: ReadonlyArray<Invoice | FrozenInvoice>) {
  const sum = (f: (i: Invoice | FrozenInvoice) => number) => invoices.reduce((t, i) => t + f(i), 0);
  return {
    invoices: invoices.length,
    subtotalCents: sum((i) => i.subtotalCents),
    vatCents: sum((i) => i.vatCents),
    totalCents: sum((i) => i.totalCents),
    unbilled: s.unbilled,
    admittedBeyondQuota: s.admittedBeyondQuota,
    unpriced: s.unpriced,
  };
}

/** A close's documents before they are stored: its invoices issued (or frozen, numbered), its credit notes. */
interface Documents<T extends Invoice | FrozenInvoice = Invoice> {
  invoices: T[];
  creditNotes: Invoice[];
}

/** A close's documents as it issues them, and what they lack to be lawful. */
interface Issued<T extends Invoice | FrozenInvoice = Invoice> extends Documents<T> {
  missing: MissingParties;
}

/** The invoices the credit notes correct. */
const correctedBy = (notes: readonly Invoice[]): string[] => notes.map((n) => n.corrects?.number ?? '');

/**
 * Leaves out the credit notes correcting an invoice an operator credited by hand (what was left
 * of it is credited already: a late correction cannot credit it again; what adds is still billed),
 * and lists what the documents lack.
 */
function withoutHandCredited<T extends Invoice | FrozenInvoice>(
  docs: Documents<T>,
  byHand: ReadonlySet<string>,
  parties: PartiesAt,
): Issued<T> {
  const creditNotes = docs.creditNotes.filter((n) => !byHand.has(n.corrects?.number ?? ''));
  const unknown = [...docs.invoices, ...creditNotes].flatMap((d) => {
    if ('body' in d) return d.buyerless ? [d.account] : [];
    return d.buyer === undefined ? [accountKey(d.account)] : [];
  });
  return {
    invoices: docs.invoices,
    creditNotes,
    missing: { seller: parties.seller === undefined, buyers: [...new Set(unknown)].sort() },
  };
}

/** Whom a close's documents are from and to: the settings now, or (verify) as the stored documents froze them. */
interface PartiesAt {
  seller: Seller | undefined;
  buyerOf(account: string): Buyer | undefined;
  /** A credit note's buyer and language: the corrected invoice's customer, in that invoice's language. */
  creditTo(origin: Origin, period: PeriodId): { buyer: Buyer | undefined; language: InvoiceLanguage };
}

const accountKey = (a: Invoice['account']) => `${a.kind}:${a.id}`;

/** The settings as they are now: a credit note goes to the customer's identity today, else the one its invoice froze. */
function currentParties(p: Parties): PartiesAt {
  return {
    seller: p.seller,
    buyerOf: (account) => p.buyers.get(account),
    creditTo: (origin) => {
      const buyer = p.buyers.get(accountKey(origin.account)) ?? origin.buyer;
      return { buyer, language: origin.language ?? buyer?.language ?? 'fr' };
    },
  };
}

/** The parties as a closed month's documents froze them, to issue them again byte for byte (verify). */
function frozenParties(invoices: readonly Invoice[], credits: readonly Invoice[]): PartiesAt {
  const byAccount = new Map(invoices.map((i) => [accountKey(i.account), i]));
  const byCorrection = new Map(credits.map((c) => [`${c.corrects?.number ?? ''}\u0000${c.period}`, c]));
  return {
    seller: invoices.find((i) => i.seller)?.seller ?? credits.find((c) => c.seller)?.seller,
    buyerOf: (account) => byAccount.get(account)?.buyer,
    creditTo: (origin, period) => {
      const note = byCorrection.get(`${origin.number}\u0000${period}`);
      return { buyer: note?.buyer, language: note?.language ?? 'fr' };
    },
  };
}

/** The names a line's words use: a consumable's from the price list, a resource's from the rated resources. */
function lineNames(ctx: RatingContext): LineNames {
  const plans = new Map(ctx.members.map((m) => [m.id, m.plan]));
  const own = <T>(record: Record<string, T>, key: string | undefined) =>
    key !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
  return {
    item: (id) => own(ctx.prices.consumables, id)?.name ?? id,
    resource: (id) => ctx.resources.get(id)?.name ?? id,
    tariff: (member) => own(ctx.prices.plans, plans.get(member)),
  };
}
