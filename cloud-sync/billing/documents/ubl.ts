import type { Buyer, Invoice, PostalAddress, Seller } from '../../../shared/protocol/api/hub-billing.js';
import { EN16931_GUIDELINE, compactIban, lineDetail, sellerLegalInfo } from './cii.js';
import { checkEn16931, sirenOk, siretOk, type LegalInvoice } from './en16931.js';
import { LABELS, paymentTerms } from './labels.js';
import { amount, decimal, el, group, text, type Node } from './xml.js';

const CBC = 'urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2';
const CAC = 'urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2';

/**
 * The invoice as OASIS UBL 2.1: an `Invoice` (type code 380), or a `CreditNote` (381) whose
 * billing reference is the invoice it corrects, with the EN 16931 customization id. Refuses
 * (billing.not_en16931) an invoice that breaks a rule `checkEn16931` checks.
 */
export function toUbl(invoice: Invoice): string {
  return ublOf(checkEn16931(invoice));
}

export function ublOf(doc: LegalInvoice): string {
  const credit = doc.type === 'credit-note';
  const root = credit ? 'CreditNote' : 'Invoice';
  const cur = { currencyID: doc.currency };
  const money = (name: string, cents: number) => text(name, amount(cents), cur);
  const l = LABELS[doc.language];
  const paymentMeans = doc.seller.iban
    ? el(
        'cac:PaymentMeans',
        null,
        text('cbc:PaymentMeansCode', '58', { name: l.payment }),
        // A credit note has no DueDate of its own: EN 16931 puts BT-9 here.
        credit ? text('cbc:PaymentDueDate', doc.dueDate) : null,
        el(
          'cac:PayeeFinancialAccount',
          null,
          text('cbc:ID', compactIban(doc.seller.iban)),
          group('cac:FinancialInstitutionBranch', null, text('cbc:ID', doc.seller.bic)),
        ),
      )
    : null;
  const body = el(
    root,
    { xmlns: `urn:oasis:names:specification:ubl:schema:xsd:${root}-2`, 'xmlns:cac': CAC, 'xmlns:cbc': CBC },
    text('cbc:CustomizationID', EN16931_GUIDELINE),
    text('cbc:ID', doc.number),
    text('cbc:IssueDate', doc.issueDate),
    credit ? null : text('cbc:DueDate', doc.dueDate),
    text(credit ? 'cbc:CreditNoteTypeCode' : 'cbc:InvoiceTypeCode', doc.typeCode),
    doc.mentions.map((m) => text('cbc:Note', m)),
    text('cbc:DocumentCurrencyCode', doc.currency),
    text('cbc:BuyerReference', doc.buyer.reference),
    doc.servicePeriod
      ? el(
          'cac:InvoicePeriod',
          null,
          text('cbc:StartDate', doc.servicePeriod.from),
          text('cbc:EndDate', doc.servicePeriod.to),
        )
      : null,
    doc.corrects
      ? el(
          'cac:BillingReference',
          null,
          el(
            'cac:InvoiceDocumentReference',
            null,
            text('cbc:ID', doc.corrects.number),
            text('cbc:IssueDate', doc.corrects.issueDate),
          ),
        )
      : null,
    el('cac:AccountingSupplierParty', null, sellerParty(doc.seller, sellerLegalInfo(doc))),
    el('cac:AccountingCustomerParty', null, buyerParty(doc.buyer)),
    paymentMeans,
    el('cac:PaymentTerms', null, text('cbc:Note', paymentTerms(doc))),
    el(
      'cac:TaxTotal',
      null,
      money('cbc:TaxAmount', doc.vatCents),
      doc.vat.map((v) =>
        el(
          'cac:TaxSubtotal',
          null,
          money('cbc:TaxableAmount', v.baseCents),
          money('cbc:TaxAmount', v.vatCents),
          el(
            'cac:TaxCategory',
            null,
            text('cbc:ID', v.category),
            text('cbc:Percent', decimal(v.vatPercent)),
            text('cbc:TaxExemptionReason', v.exemptionReason),
            vatScheme(),
          ),
        ),
      ),
    ),
    el(
      'cac:LegalMonetaryTotal',
      null,
      money('cbc:LineExtensionAmount', doc.lineTotalCents),
      money('cbc:TaxExclusiveAmount', doc.lineTotalCents),
      money('cbc:TaxInclusiveAmount', doc.totalCents),
      money('cbc:PayableAmount', doc.dueCents),
    ),
    doc.lines.map((line) =>
      el(
        credit ? 'cac:CreditNoteLine' : 'cac:InvoiceLine',
        null,
        text('cbc:ID', line.id),
        text(credit ? 'cbc:CreditedQuantity' : 'cbc:InvoicedQuantity', decimal(line.quantity), {
          unitCode: line.unitCode,
        }),
        money('cbc:LineExtensionAmount', line.amountCents),
        line.from && line.to
          ? el('cac:InvoicePeriod', null, text('cbc:StartDate', line.from), text('cbc:EndDate', line.to))
          : null,
        el(
          'cac:Item',
          null,
          text('cbc:Description', lineDetail(doc, line.memberName, line.adjusts)),
          text('cbc:Name', line.description),
          el(
            'cac:ClassifiedTaxCategory',
            null,
            text('cbc:ID', line.category),
            text('cbc:Percent', decimal(line.vatPercent)),
            vatScheme(),
          ),
        ),
        el('cac:Price', null, money('cbc:PriceAmount', line.unitCents)),
      ),
    ),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`;
}

const vatScheme = () => el('cac:TaxScheme', null, text('cbc:ID', 'VAT'));

function address(a: PostalAddress): Node {
  return el(
    'cac:PostalAddress',
    null,
    text('cbc:StreetName', a.lines[0]),
    text('cbc:AdditionalStreetName', a.lines[1]),
    text('cbc:CityName', a.city),
    text('cbc:PostalZone', a.postcode),
    a.lines[2] ? el('cac:AddressLine', null, text('cbc:Line', a.lines[2])) : null,
    el('cac:Country', null, text('cbc:IdentificationCode', a.country)),
  );
}

function sellerParty(s: Seller, legalInfo: string): Node {
  return el(
    'cac:Party',
    null,
    text('cbc:EndpointID', s.email, { schemeID: 'EM' }),
    // BT-29: the SIRET (scheme 0009).
    siretOk(s.siret) ? el('cac:PartyIdentification', null, text('cbc:ID', s.siret, { schemeID: '0009' })) : null,
    address(s.address),
    // BT-31 VAT number, or for a seller exempt from VAT its tax registration (BT-32): the SIREN.
    s.vatNumber
      ? el('cac:PartyTaxScheme', null, text('cbc:CompanyID', s.vatNumber), vatScheme())
      : sirenOk(s.siren)
        ? el(
            'cac:PartyTaxScheme',
            null,
            text('cbc:CompanyID', s.siren),
            el('cac:TaxScheme', null, text('cbc:ID', 'FC')),
          )
        : null,
    el(
      'cac:PartyLegalEntity',
      null,
      text('cbc:RegistrationName', s.name),
      sirenOk(s.siren) ? text('cbc:CompanyID', s.siren, { schemeID: '0002' }) : null,
      text('cbc:CompanyLegalForm', legalInfo),
    ),
    group('cac:Contact', null, text('cbc:Telephone', s.phone), text('cbc:ElectronicMail', s.email)),
  );
}

function buyerParty(b: Buyer): Node {
  return el(
    'cac:Party',
    null,
    text('cbc:EndpointID', b.email, { schemeID: 'EM' }),
    siretOk(b.siret) ? el('cac:PartyIdentification', null, text('cbc:ID', b.siret, { schemeID: '0009' })) : null,
    address(b.address),
    b.vatNumber ? el('cac:PartyTaxScheme', null, text('cbc:CompanyID', b.vatNumber), vatScheme()) : null,
    el(
      'cac:PartyLegalEntity',
      null,
      text('cbc:RegistrationName', b.name),
      sirenOk(b.siren) ? text('cbc:CompanyID', b.siren, { schemeID: '0002' }) : null,
    ),
  );
}
