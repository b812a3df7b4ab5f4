import { toCii, toFacturX, toPdf, toUbl } from '../cloud-sync/billing/documents/index.js';
import { lineVat } from '../cloud-sync/billing/invoice.js';
import { seededRandom } from '../demo/day-plan.js';
import type { Invoice, InvoiceLine, LineKind } from '../shared/protocol/api/hub-billing.js';
import { fmtMs, percentile } from './stats.js';

const INVOICES = Number(process.env.BENCH_INVOICE_DOCUMENTS ?? 2_000);
/** Each format stops after this long and reports how many it made (a liveness bound, not a goal). */
const BUDGET_MS = Number(process.env.BENCH_INVOICE_DOCUMENTS_BUDGET_MS ?? 600_000);

const KINDS: Array<{ kind: LineKind; description: string; unitCents: number; quantity: () => number }> = [
  { kind: 'subscription', description: 'Abonnement 2 jours / semaine', unitCents: 18_000, quantity: () => 1 },
  { kind: 'day', description: 'Journée à Murat', unitCents: 2_500, quantity: () => 1 + Math.floor(rnd() * 12) },
  {
    kind: 'room-hours',
    description: 'Salle Puy de Dôme : heures réservées',
    unitCents: 2_000,
    quantity: () => 0.5 * (1 + Math.floor(rnd() * 8)),
  },
  {
    kind: 'consumable',
    description: 'Impressions couleur au-delà de 1000 incluses',
    unitCents: 15,
    quantity: () => Math.floor(rnd() * 400),
  },
  { kind: 'locker', description: 'Casier individuel', unitCents: 1_500, quantity: () => 1 },
];
const rnd = seededRandom(20261102);

/**
 * An employer's October invoice as the ledger closes it: 2 to 40 lines (most have few), VAT
 * line by line at 20 %, the legal fields filled. Seeded: the same invoices every run.
 */
function invoiceOf(i: number): Invoice {
  const count = 2 + Math.floor(rnd() ** 2 * 39);
  const lines: InvoiceLine[] = Array.from({ length: count }, (_, j) => {
    const k = KINDS[Math.floor(rnd() * KINDS.length)] ?? KINDS[0]!;
    const quantity = k.quantity();
    const amountCents = Math.round(quantity * k.unitCents);
    return {
      member: `m-${i}-${j % 20}`,
      memberName: `Membre ${i}-${j % 20}`,
      site: 'murat',
      kind: k.kind,
      item: null,
      description: k.description,
      adjusts: null,
      quantity,
      unitCents: k.unitCents,
      amountCents,
      vatPercent: 20,
      vatCents: lineVat(amountCents, 2000),
      dates: ['2026-10-05'],
      from: '2026-10-01',
      to: '2026-10-31',
    };
  });
  const subtotalCents = lines.reduce((s, l) => s + l.amountCents, 0);
  const vatCents = lines.reduce((s, l) => s + l.vatCents, 0);
  return {
    type: 'invoice',
    number: `2026-${String(i + 1).padStart(6, '0')}`,
    issueDate: '2026-11-02',
    dueDate: '2026-12-02',
    servicePeriod: { from: '2026-10-01', to: '2026-10-31' },
    language: i % 10 === 0 ? 'en' : 'fr',
    seller: {
      name: 'Tessera Coworking SAS',
      legalForm: 'SAS',
      shareCapital: '10 000 €',
      siren: '732829320',
      siret: '73282932000074',
      vatNumber: 'FR44732829320',
      rcs: 'RCS Clermont-Ferrand 732 829 320',
      address: { lines: ['12 rue des Gras'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
      iban: 'FR7630006000011234567890189',
      bic: 'AGRIFRPP',
      paymentTermsDays: 30,
      latePenaltyPercent: 12.5,
    },
    buyer: {
      kind: 'business',
      name: `Employeur ${i}`,
      siren: '552100554',
      address: { lines: [`${i} place de Jaude`], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
      language: 'fr',
    },
    mentions: [
      'Paiement à 30 jours. Pas d’escompte pour paiement anticipé.',
      'Pénalités de retard : 12,5 % par an. Indemnité forfaitaire pour frais de recouvrement : 40 €.',
    ],
    period: '2026-10',
    closedAt: '2026-11-02T08:00:00.000Z',
    account: { kind: 'employer', id: `e-${i}`, name: `Employeur ${i}` },
    currency: 'EUR',
    lines,
    bySite: [],
    byMember: [],
    vat: [{ vatPercent: 20, baseCents: subtotalCents, vatCents }],
    subtotalCents,
    vatCents,
    totalCents: subtotalCents + vatCents,
  };
}

interface Run {
  done: number;
  totalMs: number;
  p50: number;
  p95: number;
  bytes: number;
}

/** Makes the document of each invoice in turn, until all are made or the budget is spent. */
async function timeFormat(
  invoices: readonly Invoice[],
  make: (inv: Invoice) => string | Uint8Array | Promise<string | Uint8Array>,
): Promise<Run> {
  const samples: number[] = [];
  let bytes = 0;
  const start = performance.now();
  for (const inv of invoices) {
    const t0 = performance.now();
    const out = await make(inv);
    samples.push(performance.now() - t0);
    bytes += typeof out === 'string' ? Buffer.byteLength(out) : out.byteLength;
    if (performance.now() - start > BUDGET_MS) break;
  }
  const totalMs = performance.now() - start;
  samples.sort((a, b) => a - b);
  return { done: samples.length, totalMs, p50: percentile(samples, 50), p95: percentile(samples, 95), bytes };
}

/** PDF and Factur-X (and the CII and UBL XML) of N invoices, against writing them as JSON. */
export async function benchInvoiceDocuments(): Promise<string[]> {
  const invoices = Array.from({ length: INVOICES }, (_, i) => invoiceOf(i));
  const lines = invoices.reduce((s, inv) => s + inv.lines.length, 0);
  // One of each first, so that the font files are read and the code is warm in every row.
  await toFacturX(invoices[0]!);
  const json = await timeFormat(invoices, (inv) => JSON.stringify(inv));
  const cii = await timeFormat(invoices, toCii);
  const ubl = await timeFormat(invoices, toUbl);
  const pdf = await timeFormat(invoices, toPdf);
  const facturX = await timeFormat(invoices, toFacturX);
  const perInvoice = (r: Run) => r.totalMs / r.done;
  const row = (name: string, r: Run) =>
    `| ${name} | ${r.done.toLocaleString('en')} | ${(r.totalMs / 1000).toFixed(2)} s | ${fmtMs(perInvoice(r))} | ${fmtMs(r.p50)} | ${fmtMs(r.p95)} | ${(r.bytes / r.done / 1024).toFixed(1)} KiB | ${(perInvoice(r) / perInvoice(json)).toFixed(0)}× |`;
  const cut = [cii, ubl, pdf, facturX].some((r) => r.done < invoices.length);
  return [
    `## Invoice documents: ${INVOICES.toLocaleString('en')} invoices (${lines.toLocaleString('en')} lines, 2 to 40 each), one after the other`,
    '',
    '| format | invoices | total | per invoice (mean) | p50 | p95 | size per invoice | ratio to JSON (mean) |',
    '|---|---|---|---|---|---|---|---|',
    row('Factur-X: PDF/A-3b with the CII embedded (`toFacturX`)', facturX),
    row('PDF (`toPdf`)', pdf),
    row('CII XML (`toCii`)', cii),
    row('UBL XML (`toUbl`)', ubl),
    row('baseline: `JSON.stringify` of the invoice', json),
    '',
    cut
      ? `Some formats stopped at the budget of ${BUDGET_MS / 1000} s (BENCH_INVOICE_DOCUMENTS_BUDGET_MS): their row counts the invoices made.`
      : 'Every document checks the EN 16931 rules first (`checkEn16931`); the PDFs embed a subset of DejaVu Sans each.',
  ];
}
