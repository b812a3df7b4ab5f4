import { lineVat } from '../../cloud-sync/billing/invoice.js';
import type { Buyer, Invoice, InvoiceLine, Seller } from '../../shared/protocol/api/hub-billing.js';

/** A French SAS operating the network: the seller of every test invoice. */
export const SELLER: Seller = {
  name: 'Tessera Coworking SAS',
  legalForm: 'SAS',
  shareCapital: '10 000 €',
  siren: '732829320',
  siret: '73282932000074',
  vatNumber: 'FR44732829320',
  rcs: 'RCS Clermont-Ferrand 732 829 320',
  address: { lines: ['12 rue des Gras', 'Bâtiment B'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  email: 'factures@tessera.example',
  phone: '+33 4 73 00 00 00',
  iban: 'FR76 3000 6000 0112 3456 7890 189',
  bic: 'AGRIFRPP',
  paymentTermsDays: 30,
  latePenaltyPercent: 12.5,
};

/** An employer whose members use the network. */
export const BUYER: Buyer = {
  kind: 'business',
  name: 'Atelier Volcan & Fils SARL',
  siren: '552100554',
  siret: '55210055400013',
  vatNumber: 'FR66552100554',
  address: { lines: ['3 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  email: 'compta@atelier-volcan.example',
  language: 'fr',
  reference: 'BC-2026-117',
};

export const MENTIONS_FR = [
  'Paiement à 30 jours. Pas d’escompte pour paiement anticipé.',
  'Pénalités de retard : 12,5 % par an. Indemnité forfaitaire pour frais de recouvrement : 40 €.',
];

const MEMBERS = ['Alice Martin', 'Bruno Roche', 'Chloé Durand', 'Dimitri Vasseur'];

function line(i: number, over: Partial<InvoiceLine> = {}): InvoiceLine {
  const kinds = [
    {
      kind: 'subscription',
      description: 'Abonnement 2 jours / semaine',
      quantity: 1,
      unitCents: 18000,
      from: '2026-10-01',
      to: '2026-10-31',
    },
    { kind: 'day', description: 'Journée à Murat', quantity: 3, unitCents: 2500, from: '2026-10-05', to: '2026-10-21' },
    {
      kind: 'room-hours',
      description: 'Salle Puy de Dôme : heures réservées',
      quantity: 1.5,
      unitCents: 2000,
      from: '2026-10-14',
      to: '2026-10-14',
    },
    {
      kind: 'consumable',
      description: 'Impressions couleur au-delà de 1000 incluses',
      quantity: 42,
      unitCents: 15,
      from: undefined,
      to: undefined,
    },
  ] as const;
  const k = kinds[i % kinds.length] ?? kinds[0];
  const amountCents = Math.round(k.quantity * k.unitCents);
  const vatPercent = over.vatPercent ?? 20;
  const base: InvoiceLine = {
    member: `m-${i % MEMBERS.length}`,
    memberName: MEMBERS[i % MEMBERS.length] ?? null,
    site: 'murat',
    kind: k.kind,
    item: null,
    description: k.description,
    adjusts: null,
    quantity: k.quantity,
    unitCents: k.unitCents,
    amountCents,
    vatPercent,
    vatCents: lineVat(amountCents, Math.round(vatPercent * 100)),
    dates: k.from ? [k.from] : [],
    ...(k.from ? { from: k.from, to: k.to } : {}),
  };
  return { ...base, ...over };
}

/** Totals and the VAT breakdown of a set of lines, as the ledger computes them (VAT line by line). */
export function withTotals(inv: Omit<Invoice, 'vat' | 'subtotalCents' | 'vatCents' | 'totalCents'>): Invoice {
  const rates = new Map<number, { baseCents: number; vatCents: number }>();
  for (const l of inv.lines) {
    const r = rates.get(l.vatPercent) ?? { baseCents: 0, vatCents: 0 };
    r.baseCents += l.amountCents;
    r.vatCents += l.vatCents;
    rates.set(l.vatPercent, r);
  }
  const subtotalCents = inv.lines.reduce((s, l) => s + l.amountCents, 0);
  const vatCents = inv.lines.reduce((s, l) => s + l.vatCents, 0);
  return {
    ...inv,
    vat: [...rates].sort(([a], [b]) => a - b).map(([vatPercent, r]) => ({ vatPercent, ...r })),
    subtotalCents,
    vatCents,
    totalCents: subtotalCents + vatCents,
  };
}

/** An invoice of October 2026 to the employer, lines at 20 % VAT; `lines` sets how many. */
export function sampleInvoice(opts: { lines?: number; language?: 'fr' | 'en'; number?: string } = {}): Invoice {
  const n = opts.lines ?? 6;
  return withTotals({
    type: 'invoice',
    number: opts.number ?? '2026-000042',
    issueDate: '2026-11-02',
    dueDate: '2026-12-02',
    servicePeriod: { from: '2026-10-01', to: '2026-10-31' },
    language: opts.language ?? 'fr',
    seller: SELLER,
    buyer: { ...BUYER, language: opts.language ?? 'fr' },
    mentions: MENTIONS_FR,
    period: '2026-10',
    closedAt: '2026-11-02T08:00:00.000Z',
    account: { kind: 'employer', id: 'volcan', name: BUYER.name },
    currency: 'EUR',
    lines: Array.from({ length: n }, (_, i) => line(i)),
    bySite: [],
    byMember: [],
  });
}

/**
 * The credit note that cancels part of an invoice: two of its lines, with the amounts negated
 * as the ledger may hand them (the documents print them positive).
 */
export function sampleCreditNote(): Invoice {
  const inv = sampleInvoice();
  const lines = inv.lines.slice(0, 2).map((l) => ({
    ...l,
    quantity: -l.quantity,
    amountCents: -l.amountCents,
    vatCents: -l.vatCents,
  }));
  return withTotals({
    ...inv,
    type: 'credit-note',
    number: 'AV-2026-000003',
    corrects: { number: '2026-000042', issueDate: '2026-11-02' },
    issueDate: '2026-11-20',
    dueDate: undefined,
    lines,
  });
}

export { line as sampleLine };
