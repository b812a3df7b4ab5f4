import { DateTime } from 'luxon';
import type {
  Buyer,
  Invoice,
  InvoiceLanguage,
  InvoiceLine,
  LineKind,
  PlanTariff,
  Seller,
} from '../../shared/protocol/api/hub-billing.js';
import { addDays, firstDay, nextPeriod, type PeriodId } from './period.js';

/**
 * What makes an invoice lawful in France beside its amounts (Code de commerce L441-9 and
 * L441-10, CGI art. 242 nonies A of annex II): its issue and due dates, the service period, the
 * seller and buyer as they are at issue, and the mentions at its foot, in the buyer's language.
 * One catalogue, French and English, words every mention and every line. Pure: the same invoice,
 * parties and instant give the same bytes, which `verify` relies on.
 */

/** The seller's time zone: an issue date is the operator's calendar date. */
export const SELLER_ZONE = 'Europe/Paris';
/** Payment terms when neither the buyer's identity nor the seller setting states any (L441-10: 30 days). */
export const DEFAULT_PAYMENT_TERMS_DAYS = 30;
/** The fixed compensation for recovery costs a late business buyer owes (D441-5), in euros. */
export const RECOVERY_INDEMNITY_EUROS = 40;

/** The last instant `issueDateOf` was asked, and its date: a close issues all its documents at one instant. */
let lastIssued: { ms: number; date: string } | undefined;

/** The calendar date of `ms` in the seller's time zone. */
export function issueDateOf(ms: number): string {
  if (lastIssued?.ms !== ms)
    lastIssued = {
      ms,
      date: DateTime.fromMillis(ms, { zone: SELLER_ZONE }).toISODate() ?? new Date(ms).toISOString().slice(0, 10),
    };
  return lastIssued.date;
}

const MONTHS: Record<InvoiceLanguage, readonly string[]> = {
  fr: [
    'janvier',
    'février',
    'mars',
    'avril',
    'mai',
    'juin',
    'juillet',
    'août',
    'septembre',
    'octobre',
    'novembre',
    'décembre',
  ],
  en: [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ],
};

const monthName = (lang: InvoiceLanguage, yearMonth: string) =>
  `${MONTHS[lang][Number(yearMonth.slice(5, 7)) - 1] ?? yearMonth.slice(5, 7)} ${yearMonth.slice(0, 4)}`;
const dayName = (lang: InvoiceLanguage, day: number) => (lang === 'fr' && day === 1 ? '1er' : String(day));

/** `2026-11-02` as `2 novembre 2026` / `2 November 2026`. */
export const longDate = (lang: InvoiceLanguage, date: string): string =>
  `${dayName(lang, Number(date.slice(8, 10)))} ${monthName(lang, date.slice(0, 7))}`;

/**
 * Dates as a line reads them, by month, runs of three days or more joined:
 * `2 au 4, 9 et 12 novembre 2026` / `2–4, 9 and 12 November 2026`.
 */
export function formatDates(lang: InvoiceLanguage, dates: readonly string[]): string {
  const byMonth = new Map<string, number[]>();
  for (const d of [...new Set(dates)].sort()) {
    const list = byMonth.get(d.slice(0, 7)) ?? [];
    list.push(Number(d.slice(8, 10)));
    byMonth.set(d.slice(0, 7), list);
  }
  const and = lang === 'fr' ? ' et ' : ' and ';
  const groups: string[] = [];
  for (const [month, days] of byMonth) {
    const items: string[] = [];
    for (let i = 0; i < days.length;) {
      let j = i;
      while (j + 1 < days.length && days[j + 1] === (days[j] ?? 0) + 1) j++;
      const first = days[i] ?? 0;
      const last = days[j] ?? 0;
      if (j - i >= 2) items.push(lang === 'fr' ? `${dayName(lang, first)} au ${last}` : `${first}–${last}`);
      else for (let k = i; k <= j; k++) items.push(dayName(lang, days[k] ?? 0));
      i = j + 1;
    }
    const listed = items.length > 1 ? `${items.slice(0, -1).join(', ')}${and}${items.at(-1) ?? ''}` : (items[0] ?? '');
    groups.push(`${listed} ${monthName(lang, month)}`);
  }
  return groups.join(', ');
}

/** The catalogue: each line kind's words, in each language. */
const KIND_WORDS: Record<InvoiceLanguage, Record<LineKind, string>> = {
  fr: {
    subscription: 'Abonnement',
    'extra-day': 'Jours au-delà du forfait hebdomadaire',
    day: 'Journées',
    'half-day': 'Demi-journées',
    week: 'Pass semaine, semaines du',
    locker: 'Location de casier',
    consumable: 'Consommations',
    'room-hours': 'heures',
    'room-half-day': 'demi-journée',
    'desk-booking': 'jours réservés',
    'late-cancellation': 'annulation tardive',
    'no-show': 'réservation non honorée',
    pack: 'Carnet de jours',
    'pack-day': 'Journées prises sur un carnet',
  },
  en: {
    subscription: 'Subscription',
    'extra-day': 'Days beyond the weekly allowance',
    day: 'Days',
    'half-day': 'Half days',
    week: 'Week pass, weeks of',
    locker: 'Locker rental',
    consumable: 'Consumables',
    'room-hours': 'hours',
    'room-half-day': 'half day',
    'desk-booking': 'booked days',
    'late-cancellation': 'late cancellation',
    'no-show': 'no-show',
    pack: 'Pack of days',
    'pack-day': 'Days drawn from a pack',
  },
};

const BOOKING_KINDS: ReadonlySet<LineKind> = new Set([
  'room-hours',
  'room-half-day',
  'desk-booking',
  'late-cancellation',
  'no-show',
]);

/** What a line's words name besides its kind: a consumable item's and a booked resource's names, the member's tariff. */
export interface LineNames {
  item(id: string): string;
  resource(id: string): string;
  /** The tariff the member's lines were rated with (its quotas and thresholds are worded). */
  tariff(member: string): PlanTariff | undefined;
}

/** A kind's words with what the member's tariff says of it: the quota, the half-day's threshold, what is included. */
function wordsOf(lang: InvoiceLanguage, line: Pick<InvoiceLine, 'kind' | 'item' | 'member'>, names: LineNames): string {
  const fr = lang === 'fr';
  const t = names.tariff(line.member);
  switch (line.kind) {
    case 'subscription':
      if (t?.kind !== 'subscription') break;
      if (t.daysPerWeek === undefined) return fr ? 'Abonnement illimité' : 'Unlimited subscription';
      return fr ? `Abonnement ${t.daysPerWeek} jour(s) par semaine` : `Subscription, ${t.daysPerWeek} day(s) a week`;
    case 'extra-day': {
      if (t?.kind !== 'subscription' || t.extraDay === undefined) break;
      const refused = t.extraDay === 'refuse' || t.extraDay.refuse === true;
      const base = fr ? `Jours au-delà de ${t.daysPerWeek} par semaine` : `Days beyond ${t.daysPerWeek} a week`;
      if (!refused) return base;
      return fr ? `${base}, admis bien que le forfait les refuse` : `${base}, let in although the plan refuses them`;
    }
    case 'half-day':
      if (t?.kind !== 'per-day' || !t.halfDay) break;
      return fr
        ? `Demi-journées (moins de ${t.halfDay.underMinutes} min)`
        : `Half days (under ${t.halfDay.underMinutes} min)`;
    case 'consumable': {
      const name = names.item(line.item ?? '');
      const included = t && line.item !== null && Object.hasOwn(t.included, line.item) ? t.included[line.item] : 0;
      if (!included) return name;
      return fr ? `${name} au-delà des ${included} inclus` : `${name} beyond the ${included} included`;
    }
    case 'room-hours': {
      const included = t?.bookings?.includedRoomHoursPerMonth ?? 0;
      if (included === 0) break;
      return fr ? `heures au-delà des ${included} incluses par mois` : `hours beyond the ${included} included a month`;
    }
    case 'day':
    case 'week':
    case 'locker':
    case 'room-half-day':
    case 'desk-booking':
    case 'late-cancellation':
    case 'no-show':
    case 'pack':
    case 'pack-day':
      break;
  }
  return KIND_WORDS[lang][line.kind];
}

/**
 * A line's description in `lang`: its kind's words, the item or resource it is for, and its
 * dates (a subscription or a locker: its month, `month` being the month the line charges).
 */
export function describeLine(
  lang: InvoiceLanguage,
  line: Pick<InvoiceLine, 'kind' | 'item' | 'member' | 'dates'>,
  month: PeriodId,
  names: LineNames,
): string {
  const words = wordsOf(lang, line, names);
  const colon = lang === 'fr' ? ' : ' : ': ';
  const head = BOOKING_KINDS.has(line.kind) && line.item !== null ? `${names.resource(line.item)} — ${words}` : words;
  if (line.dates.length === 0) return `${head}, ${monthName(lang, month)}`;
  return line.kind === 'week'
    ? `${head} ${formatDates(lang, line.dates)}`
    : `${head}${colon}${formatDates(lang, line.dates)}`;
}

const percent = (lang: InvoiceLanguage, value: number) =>
  lang === 'fr' ? `${String(value).replace('.', ',')} %` : `${value}%`;

/** What the mentions of an invoice depend on. */
export interface InvoiceTerms {
  termsDays: number;
  dueDate: string;
  /** Percent a year; unknown without a seller setting (the mention is then left out). */
  latePenaltyPercent: number | undefined;
  /** A business buyer owes the recovery indemnity when late; a consumer does not. */
  business: boolean;
  vatExemption: string | undefined;
}

/** The mentions at the foot of an invoice, in `lang`: terms and due date, discount, penalties, indemnity, VAT exemption. */
export function invoiceMentions(lang: InvoiceLanguage, t: InvoiceTerms): string[] {
  const due = longDate(lang, t.dueDate);
  const out =
    lang === 'fr'
      ? [
          t.termsDays === 0
            ? `Paiement à réception, au plus tard le ${due}.`
            : `Paiement à ${t.termsDays} jours, au plus tard le ${due}.`,
          'Pas d’escompte pour paiement anticipé.',
        ]
      : [
          t.termsDays === 0
            ? `Payment on receipt, at the latest on ${due}.`
            : `Payment within ${t.termsDays} days, at the latest on ${due}.`,
          'No discount for early payment.',
        ];
  if (t.latePenaltyPercent !== undefined)
    out.push(
      lang === 'fr'
        ? `En cas de retard de paiement, pénalités au taux annuel de ${percent(lang, t.latePenaltyPercent)}, exigibles dès le lendemain de l’échéance.`
        : `Late payment bears penalties at ${percent(lang, t.latePenaltyPercent)} a year, due from the day after the due date.`,
    );
  if (t.business)
    out.push(
      lang === 'fr'
        ? `Tout retard de paiement rend exigible une indemnité forfaitaire pour frais de recouvrement de ${RECOVERY_INDEMNITY_EUROS} € (art. L441-10 et D441-5 du Code de commerce).`
        : `Any late payment makes a fixed compensation for recovery costs of EUR ${RECOVERY_INDEMNITY_EUROS} due (French Commercial Code, art. L441-10 and D441-5).`,
    );
  if (t.vatExemption !== undefined) out.push(t.vatExemption);
  return out;
}

/** The mentions of a credit note: the invoice it corrects, why, and the seller's VAT exemption. */
export function creditNoteMentions(
  lang: InvoiceLanguage,
  corrects: { number: string; issueDate: string | undefined },
  reason: string,
  vatExemption: string | undefined,
): string[] {
  const of =
    corrects.issueDate === undefined
      ? ''
      : lang === 'fr'
        ? ` du ${longDate(lang, corrects.issueDate)}`
        : ` of ${longDate(lang, corrects.issueDate)}`;
  const out =
    lang === 'fr'
      ? [`Avoir sur la facture n° ${corrects.number}${of}.`, `Motif : ${reason}`]
      : [`Credit note on invoice ${corrects.number}${of}.`, `Reason: ${reason}`];
  if (vatExemption !== undefined) out.push(vatExemption);
  return out;
}

/** The reason printed on a close's credit note for a month corrected by late events. */
export const lateCorrectionReason = (lang: InvoiceLanguage, month: PeriodId): string =>
  lang === 'fr'
    ? `correction de ${monthName(lang, month)} après la réception d’événements tardifs.`
    : `correction of ${monthName(lang, month)} after late events were received.`;

/** The first and last day of a month. */
export const servicePeriodOf = (period: PeriodId): { from: string; to: string } => ({
  from: firstDay(period),
  to: addDays(firstDay(nextPeriod(period)), -1),
});

/** The buyer of an account without an identity is taken for a business when it is an employer. */
export const isBusiness = (account: Invoice['account'], buyer: Buyer | undefined): boolean =>
  buyer ? buyer.kind === 'business' : account.kind === 'employer';

/** The legal header of an issued document, in the order the wire lists it, before its content. */
function header(
  doc: Invoice,
  fields: Pick<Invoice, 'type' | 'corrects' | 'issueDate' | 'dueDate' | 'servicePeriod' | 'language' | 'mentions'>,
  seller: Seller | undefined,
  buyer: Buyer | undefined,
): Invoice {
  return {
    type: fields.type,
    number: doc.number,
    ...(fields.corrects ? { corrects: fields.corrects } : {}),
    issueDate: fields.issueDate,
    ...(fields.dueDate !== undefined ? { dueDate: fields.dueDate } : {}),
    servicePeriod: fields.servicePeriod,
    language: fields.language,
    ...(seller ? { seller } : {}),
    ...(buyer ? { buyer } : {}),
    mentions: fields.mentions,
    period: doc.period,
    closedAt: doc.closedAt,
    account: doc.account,
    currency: doc.currency,
    lines: doc.lines,
    bySite: doc.bySite,
    byMember: doc.byMember,
    vat: doc.vat,
    subtotalCents: doc.subtotalCents,
    vatCents: doc.vatCents,
    totalCents: doc.totalCents,
  };
}

/** What an issue needs besides the document: when, from whom, and the names its lines use. */
export interface Issue {
  /** The instant of issue (the close's): its date in Paris is the issue date. */
  at: number;
  seller: Seller | undefined;
  names: LineNames;
}

/**
 * An invoice as issued: dated, its seller and buyer frozen in it, its mentions and its lines'
 * descriptions in the buyer's language (French without one).
 */
export function lawfulInvoice(invoice: Invoice, buyer: Buyer | undefined, issue: Issue): Invoice {
  const language = buyer?.language ?? 'fr';
  const issueDate = issueDateOf(issue.at);
  const termsDays = buyer?.paymentTermsDays ?? issue.seller?.paymentTermsDays ?? DEFAULT_PAYMENT_TERMS_DAYS;
  const dueDate = addDays(issueDate, termsDays);
  const mentions = invoiceMentions(language, {
    termsDays,
    dueDate,
    latePenaltyPercent: issue.seller?.latePenaltyPercent,
    business: isBusiness(invoice.account, buyer),
    vatExemption: issue.seller?.vatExemption,
  });
  const lines = describeLines(invoice, language, issue.names);
  return header(
    { ...invoice, lines },
    {
      type: 'invoice',
      issueDate,
      dueDate,
      servicePeriod: servicePeriodOf(invoice.period),
      language,
      mentions,
    },
    issue.seller,
    buyer,
  );
}

/**
 * A credit note as issued: like an invoice, without terms (nothing is due from the buyer), naming
 * the invoice it corrects and why. `describe`: its lines are worded anew in its language (a
 * close's); else they keep the corrected invoice's words (an operator's, copied from it).
 */
export function lawfulCreditNote(
  note: Invoice,
  corrects: { number: string; issueDate: string | undefined },
  language: InvoiceLanguage,
  buyer: Buyer | undefined,
  reason: string,
  issue: Issue,
  describe: boolean,
): Invoice {
  const lines = describe ? describeLines(note, language, issue.names) : note.lines;
  return header(
    { ...note, lines },
    {
      type: 'credit-note',
      corrects: { number: corrects.number, ...(corrects.issueDate ? { issueDate: corrects.issueDate } : {}) },
      issueDate: issueDateOf(issue.at),
      servicePeriod: servicePeriodOf(note.period),
      language,
      mentions: creditNoteMentions(language, corrects, reason, issue.seller?.vatExemption),
    },
    issue.seller,
    buyer,
  );
}

const describeLines = (doc: Invoice, lang: InvoiceLanguage, names: LineNames): InvoiceLine[] =>
  doc.lines.map((l) => ({ ...l, description: describeLine(lang, l, l.adjusts ?? doc.period, names) }));
