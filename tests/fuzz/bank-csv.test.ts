import fc from 'fast-check';
import { describe, it } from 'vitest';
import { lineKeys, matchLines, type Payable } from '../../cloud-sync/billing/payments/matching.js';
import { decodeStatement, parseStatement } from '../../cloud-sync/billing/payments/statement.js';
import { isCalendarDate } from '../../cloud-sync/billing/payments/status.js';
import { TesseraError } from '../../shared/platform/errors.js';
import { byteDamage, damage, garbage, must, weird } from './kit.js';
import { fuzz, inputs } from '../support/fuzz.js';

/** A statement as a French bank exports it: the valid input the damage starts from. */
const STATEMENT = [
  'Compte 12345;;;',
  'Date opération;Libellé;Débit euros;Crédit euros',
  '05/12/2026;VIR SEPA ACME SA FACT 2026-000001;;360,00',
  '06/12/2026;PRLV EDF;-84,20;',
  '"07/12/2026";"VIR M. PETIT; ""décembre""";;"1 234,50"',
  '08/12/2026;VIR MME LOPEZ ANA;;120,00',
  '',
].join('\r\n');

const INVOICES = new Map<string, Payable>(
  [
    { number: '2026-000001', account: 'employer:acme', name: 'Acme SA', dueCents: 36_000 },
    { number: '2026-000002', account: 'member:ana', name: 'Ana Lopez', dueCents: 12_000 },
  ].map((p) => [p.number, p]),
);

const cell = fc.oneof(
  weird.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))),
  fc.constantFrom('', ';', ',', '"', '\n', '\uFFFD', '\uFEFF', '1,234', '31/02/2026', '2026-000002', 'x'.repeat(5000)),
);

/** The statement with a cell of a line replaced, unquoted. */
const edited = fc.tuple(fc.nat(), fc.nat(), cell).map(([row, col, text]) => {
  const lines = STATEMENT.split('\r\n');
  const r = row % lines.length;
  const cells = (lines[r] ?? '').split(';');
  cells[col % cells.length] = text;
  lines[r] = cells.join(';');
  return Buffer.from(lines.join('\r\n'), 'utf8');
});

const statements = fc.oneof(
  { weight: 4, arbitrary: edited },
  { weight: 3, arbitrary: byteDamage.map((d) => damage(STATEMENT, d)) },
  { weight: 1, arbitrary: garbage },
);

describe('bank statements: garbage and damage', () => {
  it('each is read into well-formed lines and problems, or refused import.invalid; matching never throws', () => {
    fuzz(
      fc.property(statements, fc.boolean(), (bytes, asText) => {
        let parsed: ReturnType<typeof parseStatement>;
        try {
          // Through the route the body comes as text (bytes that are not UTF-8 as U+FFFD); through the CLI as bytes.
          parsed = parseStatement(decodeStatement(asText ? bytes.toString('utf8') : bytes));
        } catch (err) {
          must(err instanceof TesseraError && err.code === 'import.invalid', () => `threw ${String(err)}`);
          return;
        }
        for (const l of parsed.lines) {
          must(isCalendarDate(l.date), `a date ${l.date}`);
          must(Number.isSafeInteger(l.amountCents), `an amount ${l.amountCents}`);
          // eslint-disable-next-line no-control-regex
          must(l.label.length <= 500 && !/[\u0000-\u001f\u007f]/.test(l.label), 'a label of text');
          must(Number.isInteger(l.line) && l.line >= 1, 'a line number');
        }
        for (const p of parsed.problems) must(p.line >= 1 && p.message.length > 0, 'a located problem');
        const outcomes = matchLines(parsed.lines, lineKeys(parsed.lines), new Set(), INVOICES);
        must(outcomes.length === parsed.lines.length, 'an outcome per line');
        for (const o of outcomes)
          if (o.kind === 'matched')
            must(
              o.payments.every((p) => INVOICES.has(p.invoice) && p.amountCents > 0) &&
                o.payments.reduce((t, p) => t + p.amountCents, 0) === o.line.amountCents,
              'a match pays known invoices the line’s amount',
            );
      }),
      inputs(3_000),
    );
  });
});
