import { describe, expect, it } from 'vitest';
import {
  invoiceNumbersIn,
  lineKeys,
  matchLines,
  methodOf,
  nameInLabel,
  type Payable,
} from '../../cloud-sync/billing/payments/matching.js';
import {
  decodeStatement,
  MAX_STATEMENT_LINES,
  parseAmountCents,
  parseStatement,
  parseStatementDate,
  type StatementLine,
} from '../../cloud-sync/billing/payments/statement.js';
import { accountsToHold, reminderStage, statusOf, type Receivable } from '../../cloud-sync/billing/payments/status.js';
import { termsOf } from '../../cloud-sync/billing/payments/receivables.js';
import { TesseraError } from '../../shared/platform/errors.js';

const refusal = (fn: () => unknown): { code: string; message: string; paths: string[] } | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TesseraError)
      return { code: err.code, message: err.message, paths: err.details.map((d) => d.path) };
    throw err;
  }
  return undefined;
};

describe('amounts and dates as banks write them', () => {
  it.each<[string, number]>([
    ['1 234,56', 123_456],
    ['1\u00a0234,56', 123_456],
    ['1\u202f234,56 €', 123_456],
    ['1.234,56', 123_456],
    ['1,234.56', 123_456],
    ['1234.5', 123_450],
    ['-12,00', -1_200],
    ['+5,5', 550],
    ['12-', -1_200],
    ['240', 24_000],
    ['1.234.567', 123_456_700],
    ['EUR 99,90', 9_990],
    ["1'234.50", 123_450],
  ])('%s is %i cents', (text, cents) => {
    expect(parseAmountCents(text)).toBe(cents);
  });

  it.each(['1,234', '1.234', '12,345', '1,2345', '', 'abc', '1,234,56', '1.234.56,7', '12..5', '--5', ',50', '5,'])(
    '%j is refused, not guessed',
    (text) => {
      expect(parseAmountCents(text)).toBeUndefined();
    },
  );

  it.each<[string, string | undefined]>([
    ['2026-12-02', '2026-12-02'],
    ['02/12/2026', '2026-12-02'],
    ['2/12/2026', '2026-12-02'],
    ['02.12.2026', '2026-12-02'],
    ['02-12-2026', '2026-12-02'],
    ['02/12/26', '2026-12-02'],
    ['02/12/2026 14:05', '2026-12-02'],
    ['31/02/2026', undefined],
    ['12/31/2026', undefined],
    ['2026/12/02', undefined],
    ['hier', undefined],
  ])('the date %j is %j', (text, iso) => {
    expect(parseStatementDate(text)).toBe(iso);
  });
});

describe('a bank statement file', () => {
  it('reads a French export: semicolons, decimal commas, a preamble, a BOM, credit and debit columns', () => {
    const text = decodeStatement(
      Buffer.from(
        '\ufeffCompte courant n° 12345;;;\r\nPériode du 01/12/2026 au 31/12/2026;;;\r\n\r\n' +
          'Date opération;Date valeur;Libellé;Débit euros;Crédit euros\r\n' +
          '05/12/2026;05/12/2026;VIR SEPA ACME SA FACT 2026-000001;;360,00\r\n' +
          '06/12/2026;06/12/2026;PRLV EDF;-84,20;\r\n' +
          '"07/12/2026";"07/12/2026";"VIR M. PETIT; facture ""décembre""";;"1 234,50"\r\n',
        'utf8',
      ),
    );
    expect(parseStatement(text)).toEqual({
      lines: [
        { line: 5, date: '2026-12-05', amountCents: 36_000, label: 'VIR SEPA ACME SA FACT 2026-000001' },
        { line: 6, date: '2026-12-06', amountCents: -8_420, label: 'PRLV EDF' },
        { line: 7, date: '2026-12-07', amountCents: 123_450, label: 'VIR M. PETIT; facture "décembre"' },
      ],
      problems: [],
    });
  });

  it('reads an English export: commas, decimal points, an amount column, label and reference joined', () => {
    const { lines } = parseStatement(
      'Booking date,Amount,Description,Reference\n2026-12-05,"1,234.56",Transfer ACME,INV 2026-000001\n2026-12-06,-10.00,Card fee,\n',
    );
    expect(lines).toEqual([
      { line: 2, date: '2026-12-05', amountCents: 123_456, label: 'Transfer ACME / INV 2026-000001' },
      { line: 3, date: '2026-12-06', amountCents: -1_000, label: 'Card fee' },
    ]);
  });

  it('reports each unreadable line with its number and reads the others', () => {
    const { lines, problems } = parseStatement(
      'date;montant;libelle\n31/02/2026;10,00;A\n01/12/2026;1,234;B\n01/12/2026;;C\n\n02/12/2026;5,00;D\n',
    );
    expect(lines.map((l) => l.label)).toEqual(['D']);
    expect(problems).toEqual([
      { line: 2, column: 'date', message: 'not a date: "31/02/2026"' },
      { line: 3, column: 'amount', message: expect.stringContaining('read two ways') },
      { line: 4, column: 'amount', message: 'no amount' },
    ]);
  });

  it('counts lines from the file, a quoted label over two lines included', () => {
    const { lines } = parseStatement('date;montant;libelle\n01/12/2026;1,00;"two\nlines"\n02/12/2026;2,00;next\n');
    expect(lines.map((l) => [l.line, l.label])).toEqual([
      [2, 'two lines'],
      [4, 'next'],
    ]);
  });

  it('refuses a file without the columns it needs, naming what it read', () => {
    expect(refusal(() => parseStatement('date;amount\n01/12/2026;10,00\n'))).toMatchObject({
      code: 'import.invalid',
      message: expect.stringContaining('no header line naming a date'),
      paths: ['line 1'],
    });
    expect(refusal(() => parseStatement('when,how much,what\n'))?.code).toBe('import.invalid');
    expect(refusal(() => parseStatement(''))?.code).toBe('import.invalid');
    // A header further down than a preamble can be is not looked for.
    expect(refusal(() => parseStatement(`${'x\n'.repeat(25)}date;montant;libelle\n`))?.code).toBe('import.invalid');
  });

  it('refuses bytes that are not UTF-8, saying which line, and UTF-16', () => {
    const latin1 = Buffer.concat([
      Buffer.from('date;montant;libelle\n01/12/2026;10,00;VIR SOCI'),
      Buffer.from([0xc9]), // É in Latin-1
      Buffer.from('TE\n'),
    ]);
    expect(refusal(() => decodeStatement(latin1))).toEqual({
      code: 'import.invalid',
      message: expect.stringContaining('not UTF-8 (line 2)'),
      paths: ['line 2'],
    });
    expect(refusal(() => decodeStatement('date;montant;libelle\n01/12/2026;1,00;SOCI\ufffdT\n'))?.paths).toEqual([
      'line 2',
    ]);
    expect(refusal(() => decodeStatement(Buffer.from('\ufffedate', 'utf16le')))?.message).toContain('UTF-16');
    expect(refusal(() => decodeStatement(Buffer.from([0x64, 0x00, 0x61])))?.message).toContain('NUL');
    expect(decodeStatement(Buffer.from('\ufeffdate', 'utf8'))).toBe('date');
  });

  it('refuses a statement of more lines than it reads at once', () => {
    const body = '01/12/2026;1,00;x\n'.repeat(MAX_STATEMENT_LINES + 1);
    expect(refusal(() => parseStatement(`date;montant;libelle\n${body}`))?.message).toContain(
      `more than ${MAX_STATEMENT_LINES} lines`,
    );
  });
});

describe('matching a line to an invoice, never by guess', () => {
  const invoices = new Map<string, Payable>(
    [
      { number: '2026-000001', account: 'employer:acme', name: 'Acme SA', dueCents: 36_000 },
      { number: '2026-000002', account: 'member:ana', name: 'Ana López', dueCents: 12_000 },
      { number: '2026-000003', account: 'employer:bolt', name: 'Bolt SARL', dueCents: 12_000 },
      { number: '2026-000004', account: 'employer:bolt', name: 'Bolt SARL', dueCents: 12_000 },
      { number: '2026-000005', account: 'employer:cyan', name: 'Cyan', dueCents: 0 },
    ].map((p) => [p.number, p]),
  );
  let n = 0;
  const line = (label: string, amountCents: number): StatementLine => ({
    line: ++n,
    date: '2026-12-10',
    amountCents,
    label,
  });
  const match = (lines: StatementLine[], imported: string[] = []) =>
    matchLines(lines, lineKeys(lines), new Set(imported), invoices).map((o) =>
      o.kind === 'matched'
        ? { kind: o.kind, by: o.by, payments: o.payments }
        : o.kind === 'unmatched'
          ? { kind: o.kind, reason: o.reason, candidates: o.candidates }
          : { kind: o.kind, reason: o.reason },
    );

  it('finds invoice numbers written with or without their dash, not inside longer numbers or credit notes', () => {
    expect(invoiceNumbersIn('VIR ACME FACT 2026-000001 ET 2026000002')).toEqual(['2026-000001', '2026-000002']);
    expect(invoiceNumbersIn('REF 120260000011 / AV-2026-000001 / 2026-0000012')).toEqual([]);
  });

  it('an invoice number in the label pays that invoice the line’s amount, a part or too much', () => {
    expect(match([line('VIR ACME FACTURE 2026-000001 ACOMPTE', 10_000)])).toEqual([
      { kind: 'matched', by: 'number', payments: [{ invoice: '2026-000001', amountCents: 10_000 }] },
    ]);
    expect(match([line('VIR 2026000002', 99_999)])).toEqual([
      { kind: 'matched', by: 'number', payments: [{ invoice: '2026-000002', amountCents: 99_999 }] },
    ]);
  });

  it('a label naming several invoices pays them only when the amount is exactly what they owe together', () => {
    expect(match([line('VIR BOLT 2026-000003 2026-000004', 24_000)])).toEqual([
      {
        kind: 'matched',
        by: 'number',
        payments: [
          { invoice: '2026-000003', amountCents: 12_000 },
          { invoice: '2026-000004', amountCents: 12_000 },
        ],
      },
    ]);
    expect(match([line('VIR BOLT 2026-000003 2026-000004', 20_000)])).toEqual([
      { kind: 'unmatched', reason: 'several_invoices', candidates: ['2026-000003', '2026-000004'] },
    ]);
  });

  it('without a number: the one invoice whose amount due and buyer’s name fit, else returned', () => {
    expect(match([line('VIR SEPA MME LOPEZ ANA', 12_000)])).toEqual([
      { kind: 'matched', by: 'amount-and-name', payments: [{ invoice: '2026-000002', amountCents: 12_000 }] },
    ]);
    // The name without its legal form, in capitals: Acme; but not at another amount.
    expect(match([line('VIR ACME', 36_000), line('VIR ACME', 36_000)])).toEqual([
      { kind: 'matched', by: 'amount-and-name', payments: [{ invoice: '2026-000001', amountCents: 36_000 }] },
      // The first paid it: nothing of that amount is due any more.
      { kind: 'unmatched', reason: 'no_match', candidates: [] },
    ]);
    expect(match([line('VIR BOLT', 12_000)])).toEqual([
      { kind: 'unmatched', reason: 'ambiguous', candidates: ['2026-000003', '2026-000004'] },
    ]);
    expect(match([line('VIR ANA', 12_000)])).toEqual([{ kind: 'unmatched', reason: 'no_match', candidates: [] }]);
    expect(match([line('VIR 2026-000099 ACME', 1_000)])).toEqual([
      { kind: 'unmatched', reason: 'no_match', candidates: [] },
    ]);
  });

  it('leaves debits and lines imported before aside', () => {
    const lines = [line('PRLV EDF', -8_420), line('VIR ACME 2026-000001', 36_000)];
    const [, key] = lineKeys(lines);
    expect(match(lines, [key ?? ''])).toEqual([
      { kind: 'ignored', reason: 'debit' },
      { kind: 'ignored', reason: 'already_imported' },
    ]);
  });

  it('gives identical lines of one file different keys, and the same keys to the same file again', () => {
    const a = [line('VIR X', 100), line('VIR X', 100), line('VIR  x ', 100)];
    const keys = lineKeys(a);
    expect(new Set(keys).size).toBe(3);
    expect(lineKeys(a.map((l) => ({ ...l, line: l.line + 10 })))).toEqual(keys);
  });

  it('names match on whole words, accents and case aside, legal forms and small words left out', () => {
    expect(nameInLabel('Ana López', 'VIR MME LOPEZ ANA')).toBe(true);
    expect(nameInLabel('Ana López', 'VIR ANAIS LOPEZ')).toBe(false);
    expect(nameInLabel('SARL', 'VIR SARL')).toBe(false);
    expect(nameInLabel('Les Ateliers du Lac SAS', 'VIREMENT ATELIERS LAC')).toBe(true);
  });

  it('tells the method from the prefixes French banks write', () => {
    expect(
      ['VIR SEPA ACME', 'PRLV SEPA X', 'REM CHQ 123', 'CB ACME 05/12', 'VERSEMENT ESPECES', 'AVOIR'].map(methodOf),
    ).toEqual(['transfer', 'direct-debit', 'cheque', 'card', 'cash', 'other']);
  });
});

describe('states, reminders and holds (pure)', () => {
  const r = (over: Partial<Receivable> = {}): Receivable => ({
    number: '2026-000001',
    account: 'employer:acme',
    name: 'Acme SA',
    email: null,
    totalCents: 10_000,
    creditedCents: 0,
    paidCents: 0,
    issueDate: '2026-12-02',
    dueDate: '2027-01-01',
    lastPaymentDate: null,
    ...over,
  });

  it('counts days overdue across the turn of the year and a leap day', () => {
    expect(statusOf(r(), '2027-03-02').daysOverdue).toBe(60);
    expect(statusOf(r({ dueDate: '2028-02-28' }), '2028-03-01').daysOverdue).toBe(2);
    expect(statusOf(r({ totalCents: -500 }), '2027-03-02').status).toBe('paid');
  });

  it('reaches the first reminder the day after the due date, the second 15 days after, the formal notice 30', () => {
    expect([0, 1, 14, 15, 29, 30, 365].map((d) => reminderStage(d, '2027-01-01')?.stage ?? null)).toEqual([
      null,
      'first',
      'first',
      'second',
      'second',
      'formal-notice',
      'formal-notice',
    ]);
  });

  it('holds after more than the limit, never with the policy off, not while an override lasts', () => {
    const late = [statusOf(r(), '2027-01-11')]; // 10 days
    expect([...accountsToHold(late, 9, new Map(), '2027-01-11').keys()]).toEqual(['employer:acme']);
    expect([...accountsToHold(late, 10, new Map(), '2027-01-11').keys()]).toEqual([]);
    expect([...accountsToHold(late, null, new Map(), '2027-01-11').keys()]).toEqual([]);
    const lift = (until: string | null) => new Map([['employer:acme', { override: 'lift' as const, until }]]);
    expect(accountsToHold(late, 0, lift(null), '2027-01-11').size).toBe(0);
    expect(accountsToHold(late, 0, lift('2027-01-11'), '2027-01-11').size).toBe(0);
    expect(accountsToHold(late, 0, lift('2027-01-10'), '2027-01-11').size).toBe(1);
  });

  it('takes a frozen invoice’s due date, or 30 days after its close (Paris) without one; a credit note’s correction', () => {
    const body = (over: Record<string, unknown>) =>
      JSON.stringify({ totalCents: 100, account: { kind: 'employer', id: 'acme', name: 'Acme SA' }, ...over });
    expect(
      termsOf({
        number: 'n',
        account: 'employer:acme',
        closed_at: null,
        body: body({ closedAt: '2026-12-01T23:30:00Z' }),
      }),
    ).toMatchObject({ type: 'invoice', issueDate: '2026-12-02', dueDate: '2027-01-01', name: 'Acme SA' });
    expect(
      termsOf({
        number: 'n',
        account: 'employer:acme',
        closed_at: null,
        body: body({
          closedAt: '2026-12-02T09:00:00Z',
          issueDate: '2026-12-02',
          dueDate: '2026-12-17',
          buyer: { name: 'ACME Société Anonyme', email: 'compta@acme.example' },
        }),
      }),
    ).toMatchObject({ dueDate: '2026-12-17', name: 'ACME Société Anonyme', email: 'compta@acme.example' });
    expect(
      termsOf({
        number: 'AV-2026-000001',
        account: 'employer:acme',
        closed_at: Date.parse('2026-12-20T10:00:00Z'),
        body: body({ type: 'credit-note', totalCents: -100, corrects: { number: '2026-000001' } }),
      }),
    ).toMatchObject({ type: 'credit-note', corrects: '2026-000001', totalCents: -100, issueDate: '2026-12-20' });
    expect(termsOf({ number: 'n', account: 'a', closed_at: null, body: '{' })).toBeUndefined();
  });
});
