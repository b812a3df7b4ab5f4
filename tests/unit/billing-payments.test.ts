import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Account } from '../../cloud-sync/hub/auth/account.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { syncTerms } from '../../cloud-sync/billing/payments/receivables.js';
import type { ManualClock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import {
  ACME_INVOICE,
  ACME_TOTAL,
  ANA_INVOICE,
  ANA_TOTAL,
  deltaMembers,
  DUE_DATE,
  heldIds,
  paymentsHub,
  sentMembers,
} from './billing-payments-fixtures.js';

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (err) {
    if (err instanceof TesseraError) return err.code;
    throw err;
  }
  return undefined;
};

describe('payments against closed invoices', () => {
  let hub: Hub;
  let operator: Account;
  let on: (date: string) => void;
  beforeEach(async () => {
    ({ hub, operator, on } = await paymentsHub());
  });
  afterEach(async () => hub.stop());

  const pay = (invoice: string, amountCents: number, date = '2026-12-10') =>
    hub.payments.record(operator, { invoice, date, amountCents, method: 'transfer', reference: 'VIR 123' });
  const stateOf = async (number: string) => (await hub.payments.statuses()).invoices.find((s) => s.number === number);

  it('an invoice is open, then partly paid, overdue after its due date, and paid once nothing is due', async () => {
    on('2026-12-05');
    expect(await stateOf(ACME_INVOICE)).toMatchObject({
      status: 'open',
      totalCents: ACME_TOTAL,
      dueCents: ACME_TOTAL,
      issueDate: '2026-12-02',
      dueDate: DUE_DATE,
      name: 'Acme SA',
      daysOverdue: 0,
      lastPaymentDate: null,
    });
    on('2026-12-10');
    await pay(ACME_INVOICE, 10_000);
    expect(await stateOf(ACME_INVOICE)).toMatchObject({ status: 'partly-paid', paidCents: 10_000, dueCents: 26_000 });
    on(DUE_DATE);
    expect((await stateOf(ACME_INVOICE))?.status).toBe('partly-paid'); // due today, not yet late
    on('2027-01-02');
    expect(await stateOf(ACME_INVOICE)).toMatchObject({ status: 'overdue', daysOverdue: 1, dueCents: 26_000 });
    await pay(ACME_INVOICE, 26_000, '2027-01-02');
    expect(await stateOf(ACME_INVOICE)).toMatchObject({
      status: 'paid',
      dueCents: 0,
      daysOverdue: 0,
      lastPaymentDate: '2027-01-02',
    });
    await pay(ACME_INVOICE, 500, '2027-01-02');
    expect(await stateOf(ACME_INVOICE)).toMatchObject({ status: 'paid', dueCents: -500 });
    expect((await hub.payments.statuses({ status: 'overdue' })).invoices.map((s) => s.number)).toEqual([ANA_INVOICE]);
    expect((await hub.payments.statuses({ account: 'member:ana' })).invoices.map((s) => s.number)).toEqual([
      ANA_INVOICE,
    ]);
  });

  it('a credit note that corrects an invoice lowers what is due, whichever sign its total has', async () => {
    on('2026-12-20');
    await hub.payments.statuses(); // reads the frozen invoices' terms
    const creditNote = (number: string, totalCents: number) =>
      hub.store.db.run(
        `INSERT INTO billing_invoice_terms (number, type, account, name, email, total_cents, issue_date, due_date, corrects)
         VALUES (?, 'credit-note', 'employer:acme', 'Acme SA', NULL, ?, '2026-12-15', '2026-12-15', ?)`,
        [number, totalCents, ACME_INVOICE],
      );
    await creditNote('AV-2026-000001', -4_000);
    await creditNote('AV-2026-000002', 2_000);
    expect(await stateOf(ACME_INVOICE)).toMatchObject({ creditedCents: 6_000, dueCents: ACME_TOTAL - 6_000 });
    await pay(ACME_INVOICE, ACME_TOTAL - 6_000, '2026-12-20');
    expect(await stateOf(ACME_INVOICE)).toMatchObject({ status: 'paid', dueCents: 0 });
    // Credit notes are not invoices of their own in the list.
    expect((await hub.payments.statuses()).invoices.map((s) => s.number)).toEqual([ACME_INVOICE, ANA_INVOICE]);
  });

  it("an operator's credit note cancelling an invoice leaves nothing due on it, and is no receivable of its own", async () => {
    on('2026-12-20');
    expect(await stateOf(ACME_INVOICE)).toMatchObject({ status: 'open', dueCents: ACME_TOTAL });
    const note = await hub.billing.creditInvoice(operator, ACME_INVOICE, 'billed twice');
    expect(note.totalCents).toBe(ACME_TOTAL);
    expect(await stateOf(ACME_INVOICE)).toMatchObject({ status: 'paid', creditedCents: ACME_TOTAL, dueCents: 0 });
    expect((await hub.payments.statuses()).invoices.map((s) => s.number)).toEqual([ACME_INVOICE, ANA_INVOICE]);
  });

  it('reads every frozen invoice once, however many, leaving out one whose body does not read', async () => {
    const db = hub.store.db;
    await db.transaction(async (tx) => {
      for (let seq = 1; seq <= 300; seq++)
        await tx.run(
          'INSERT INTO billing_invoices (number, year, seq, period, account, total_cents, body) VALUES (?, 2027, ?, ?, ?, 100, ?)',
          [
            `2027-${String(seq).padStart(6, '0')}`,
            seq,
            '2027-01',
            `employer:e${seq}`,
            seq === 300
              ? '{"totalCents": 100, "closedAt": '
              : JSON.stringify({ totalCents: 100, closedAt: '2027-02-02T09:00:00Z', account: { name: `E${seq}` } }),
          ],
        );
    });
    const log = { warned: [] as unknown[] };
    const logger = { warn: (o: unknown) => void log.warned.push(o) } as unknown as Parameters<typeof syncTerms>[1];
    expect(await syncTerms(db, logger)).toBe(302);
    expect(log.warned).toEqual([{ invoice: '2027-000300' }]);
    expect(await syncTerms(db, logger)).toBe(0);
    const { invoices } = await hub.payments.statuses();
    expect(invoices).toHaveLength(301);
    expect(invoices.at(-1)).toMatchObject({ number: '2027-000299', name: 'E299', dueDate: '2027-03-04' });
  });

  it('refuses a payment to no closed invoice, dated after today, or of no amount, each with its path', async () => {
    on('2026-12-10');
    expect(await codeOf(pay('2026-000099', 100))).toBe('not_found');
    const invalid = async (body: Record<string, unknown>) => {
      try {
        await hub.payments.record(operator, body);
      } catch (err) {
        return (err as TesseraError).details.map((d) => d.path).sort();
      }
      return [];
    };
    const ok = { invoice: ACME_INVOICE, date: '2026-12-10', amountCents: 100, method: 'cash' };
    expect(await invalid({ ...ok, date: '2026-12-11' })).toEqual(['date']);
    expect(await invalid({ ...ok, date: '2026-02-30' })).toEqual(['date']);
    expect(await invalid({ ...ok, amountCents: 0 })).toEqual(['amountCents']);
    expect(await invalid({ ...ok, amountCents: 12.5 })).toEqual(['amountCents']);
    expect(await invalid({ ...ok, method: 'bitcoin' })).toEqual(['method']);
    expect(await invalid({ ...ok, invoice: 'AV-2026-000001' })).toEqual(['invoice']);
    expect(await invalid({ ...ok, note: 'line\nbreak' })).toEqual(['note']);
    expect(await invalid({ ...ok, extra: 1 })).toEqual(['extra']);
    expect(await hub.payments.list({ limit: 10 })).toEqual([]);
  });

  it('lists payments by invoice or account, and a deleted one no longer counts, both in the audit log', async () => {
    on('2026-12-10');
    const first = await pay(ACME_INVOICE, 1_000);
    const second = await pay(ANA_INVOICE, 2_000);
    expect(first).toMatchObject({
      invoice: ACME_INVOICE,
      account: 'employer:acme',
      method: 'transfer',
      reference: 'VIR 123',
      note: '',
      source: 'manual',
      createdBy: 'admin',
    });
    expect((await hub.payments.list({ invoice: ACME_INVOICE, limit: 10 })).map((p) => p.id)).toEqual([first.id]);
    expect((await hub.payments.list({ account: 'member:ana', limit: 10 })).map((p) => p.id)).toEqual([second.id]);
    expect(await hub.payments.remove(operator, first.id)).toEqual(first);
    expect(await codeOf(hub.payments.remove(operator, first.id))).toBe('not_found');
    expect(await hub.payments.list({ limit: 10 })).toEqual([second]);
    expect((await stateOf(ACME_INVOICE))?.paidCents).toBe(0);
    const audit = await hub.store.db.all<{ action: string; entity_id: string }>(
      "SELECT action, entity_id FROM audit_log WHERE entity = 'payment' ORDER BY id",
    );
    expect(audit).toEqual([
      { action: 'create', entity_id: first.id },
      { action: 'create', entity_id: second.id },
      { action: 'delete', entity_id: first.id },
    ]);
  });

  it('lists the accounts that owe, with their balance, and the reminder each overdue invoice has reached', async () => {
    on('2026-12-10');
    await pay(ACME_INVOICE, 4_000);
    expect((await hub.payments.reminders()).reminders).toEqual([]);
    on('2027-01-02');
    const first = await hub.payments.reminders();
    expect(first).toMatchObject({ today: '2027-01-02' });
    expect(first.reminders).toEqual([
      {
        invoice: ACME_INVOICE,
        account: 'employer:acme',
        name: 'Acme SA',
        email: null,
        dueDate: DUE_DATE,
        daysOverdue: 1,
        dueCents: 32_000,
        stage: 'first',
        stageReachedOn: '2027-01-02',
        held: false,
      },
      expect.objectContaining({ invoice: ANA_INVOICE, stage: 'first', dueCents: ANA_TOTAL }),
    ]);
    await pay(ANA_INVOICE, ANA_TOTAL, '2027-01-02');
    on('2027-01-16');
    expect((await hub.payments.reminders()).reminders).toMatchObject([
      { invoice: ACME_INVOICE, daysOverdue: 15, stage: 'second', stageReachedOn: '2027-01-16' },
    ]);
    on('2027-02-10');
    expect((await hub.payments.reminders('formal-notice')).reminders).toMatchObject([
      { invoice: ACME_INVOICE, daysOverdue: 40, stage: 'formal-notice', stageReachedOn: '2027-01-31' },
    ]);
    expect((await hub.payments.reminders('first')).reminders).toEqual([]);
    expect(await hub.payments.receivables()).toEqual({
      today: '2027-02-10',
      accounts: [
        {
          account: 'employer:acme',
          name: 'Acme SA',
          unpaidInvoices: 1,
          balanceCents: 32_000,
          creditCents: 0,
          overdueCents: 32_000,
          maxDaysOverdue: 40,
          held: false,
        },
      ],
    });
  });

  it("lists a customer's credit (paid beyond an invoice) in receivables, even beside an invoice still owed", async () => {
    on('2026-12-10');
    await pay(ACME_INVOICE, ACME_TOTAL + 5_000); // paid 50 EUR too much
    await pay(ANA_INVOICE, ANA_TOTAL);
    expect((await hub.payments.receivables()).accounts).toEqual([
      {
        account: 'employer:acme',
        name: 'Acme SA',
        unpaidInvoices: 0,
        balanceCents: -5_000,
        creditCents: 5_000,
        overdueCents: 0,
        maxDaysOverdue: 0,
        held: false,
      },
    ]);
    // December's close invoices Acme again: its balance nets the credit, which stays listed.
    on('2027-01-02');
    await hub.billing.close('2026-12');
    const december = (await hub.payments.statuses({ account: 'employer:acme' })).invoices.find(
      (s) => s.number !== ACME_INVOICE,
    );
    expect(december?.dueCents).toBeGreaterThan(5_000);
    expect((await hub.payments.receivables()).accounts).toMatchObject([
      {
        account: 'employer:acme',
        unpaidInvoices: 1,
        balanceCents: (december?.dueCents ?? 0) - 5_000,
        creditCents: 5_000,
      },
      { account: 'member:ana', unpaidInvoices: 1, creditCents: 0 },
    ]);
  });
});

describe('the overdue policy at the doors', () => {
  let hub: Hub;
  let clock: ManualClock;
  let operator: Account;
  let on: (date: string) => void;
  beforeEach(async () => {
    ({ hub, clock, operator, on } = await paymentsHub());
    on('2026-12-10');
    // Ana pays hers: only Acme runs late.
    await hub.payments.record(operator, {
      invoice: ANA_INVOICE,
      date: '2026-12-10',
      amountCents: ANA_TOTAL,
      method: 'card',
    });
  });
  afterEach(async () => hub.stop());

  const revision = () => hub.directory.revision(hub.store.db);

  it('holds nobody while the policy is off (the default), however late', async () => {
    on('2027-06-01');
    expect(await hub.payments.policy()).toEqual({ suspendAfterDaysOverdue: null });
    expect(await hub.payments.checkHolds()).toBeUndefined();
    expect(heldIds(await sentMembers(hub))).toEqual([]);
  });

  it('holds the billed members of an account overdue past the limit, and lifts the hold when it is paid', async () => {
    on('2027-01-06'); // 5 days overdue
    await hub.payments.setPolicy(operator, { suspendAfterDaysOverdue: 5 });
    expect(heldIds(await sentMembers(hub))).toEqual([]);
    const before = await revision();
    on('2027-01-07'); // 6 days: more than 5
    const change = await hub.payments.checkHolds();
    expect(change).toEqual({ revision: before + 1, added: ['employer:acme'], removed: [] });
    // Acme's member and visitor are held; its staff is never billed, never held; Ana paid.
    expect(heldIds(await sentMembers(hub))).toEqual(['chloe', 'dan', 'eve']);
    const delta = await deltaMembers(hub, before);
    expect(heldIds(delta)).toEqual(['chloe', 'dan', 'eve']);
    expect(delta.get('sam')?.billingHold).toBeUndefined();
    expect(await hub.payments.checkHolds()).toBeUndefined(); // nothing new: no new revision
    expect(await revision()).toBe(before + 1);
    expect(await hub.payments.holds()).toMatchObject({
      policy: { suspendAfterDaysOverdue: 5 },
      holds: [
        { account: 'employer:acme', held: true, overdueInvoices: [ACME_INVOICE], maxDaysOverdue: 6, override: null },
      ],
    });
    expect((await hub.payments.receivables()).accounts).toMatchObject([{ account: 'employer:acme', held: true }]);

    // A member who joins Acme while it is held is sent held.
    await hub.directory.upsert(hub.store.db, 'member', {
      id: 'fay',
      name: 'Fay',
      plan: 'murat-2-days',
      employer: 'acme',
    });
    expect(heldIds(await deltaMembers(hub, before + 1))).toEqual(['fay']);

    const paidAt = await revision();
    await hub.payments.record(operator, {
      invoice: ACME_INVOICE,
      date: '2027-01-07',
      amountCents: ACME_TOTAL,
      method: 'transfer',
    });
    expect(await revision()).toBe(paidAt + 1);
    const lifted = await deltaMembers(hub, paidAt);
    expect([...lifted.keys()].sort()).toEqual(['chloe', 'dan', 'eve', 'fay', 'sam']);
    expect(heldIds(lifted)).toEqual([]);
    expect((await hub.payments.holds()).holds).toEqual([]);
  });

  it('the hourly check holds an account once it is late enough, without any change to set it off', async () => {
    on('2027-01-06');
    await hub.payments.setPolicy(operator, { suspendAfterDaysOverdue: 5 });
    hub.payments.start();
    clock.advance(24 * 60 * 60 * 1000); // the hourly checks of a day: 7 January, 6 days overdue
    await hub.payments.stop(); // waits for the check under way
    expect(heldIds(await sentMembers(hub))).toEqual(['chloe', 'dan', 'eve']);
  });

  it('holds a member billed on their own, and a deleted payment brings the hold back', async () => {
    await hub.payments.setPolicy(operator, { suspendAfterDaysOverdue: 0 });
    const [payment] = await hub.payments.list({ invoice: ANA_INVOICE, limit: 1 });
    on('2027-01-02');
    await hub.payments.record(operator, {
      invoice: ACME_INVOICE,
      date: '2027-01-02',
      amountCents: ACME_TOTAL,
      method: 'transfer',
    });
    expect(heldIds(await sentMembers(hub))).toEqual([]);
    await hub.payments.remove(operator, payment?.id ?? '');
    expect(heldIds(await sentMembers(hub))).toEqual(['ana']);
  });

  it("an operator's override lets the account in, until its last day, and ending it holds again", async () => {
    on('2027-01-20');
    await hub.payments.setPolicy(operator, { suspendAfterDaysOverdue: 10 });
    expect(heldIds(await sentMembers(hub))).toEqual(['chloe', 'dan', 'eve']);
    const view = await hub.payments.setOverride(operator, 'employer:acme', {
      override: 'lift',
      until: '2027-01-25',
      reason: 'pays on the 25th, agreed by phone',
    });
    expect(view).toMatchObject({
      account: 'employer:acme',
      held: false,
      overdueInvoices: [ACME_INVOICE],
      override: { override: 'lift', until: '2027-01-25', reason: 'pays on the 25th, agreed by phone', setBy: 'admin' },
    });
    expect(heldIds(await sentMembers(hub))).toEqual([]);
    on('2027-01-25');
    expect(await hub.payments.checkHolds()).toBeUndefined(); // its last day
    on('2027-01-26');
    expect(await hub.payments.checkHolds()).toMatchObject({ added: ['employer:acme'] });
    await hub.payments.setOverride(operator, 'employer:acme', { override: 'lift', reason: 'until further notice' });
    expect(heldIds(await sentMembers(hub))).toEqual([]);
    await hub.payments.setOverride(operator, 'employer:acme', { override: null, reason: 'no payment came' });
    expect(heldIds(await sentMembers(hub))).toEqual(['chloe', 'dan', 'eve']);
    expect(await codeOf(hub.payments.setOverride(operator, 'employer:nobody', { override: 'lift', reason: 'x' }))).toBe(
      'not_found',
    );
    expect(
      await codeOf(
        hub.payments.setOverride(operator, 'employer:acme', { override: null, until: '2027-02-01', reason: 'x' }),
      ),
    ).toBe('request.invalid');
    expect(
      await hub.store.db.column<string>("SELECT action FROM audit_log WHERE entity = 'hold_override' ORDER BY id"),
    ).toEqual(['create', 'update', 'delete']);
  });

  it('the hold is not the directory’s to set: a member written with billingHold is refused', async () => {
    expect(
      await codeOf(
        hub.directory.upsert(hub.store.db, 'member', {
          id: 'gus',
          name: 'Gus',
          plan: 'murat-2-days',
          billingHold: true,
        }),
      ),
    ).toBe('request.invalid');
  });
});
