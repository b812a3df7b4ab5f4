import type { Invoice, PostalAddress } from '../../../shared/protocol/api/hub-billing.js';
import { checkEn16931, sirenOk, siretOk, type LegalInvoice } from './en16931.js';
import { LABELS, fill, paymentTerms } from './labels.js';
import { amount, decimal, el, group, text, type Node } from './xml.js';

/** The EN 16931 guideline (BT-24): Factur-X / ZUGFeRD profile "EN 16931" (formerly COMFORT). */
export const EN16931_GUIDELINE = 'urn:cen.eu:en16931:2017';

const NS = {
  'xmlns:rsm': 'urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100',
  'xmlns:ram': 'urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100',
  'xmlns:qdt': 'urn:un:unece:uncefact:data:standard:QualifiedDataType:100',
  'xmlns:udt': 'urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100',
};

/** `2026-10-31` as CII's format 102, `20261031`. */
const date102 = (iso: string) => text('udt:DateTimeString', iso.replaceAll('-', ''), { format: '102' });

/**
 * The invoice as UN/CEFACT Cross Industry Invoice D16B at the Factur-X / ZUGFeRD EN 16931
 * profile: type code 380, or 381 for a credit note with the invoice it corrects (BT-25).
 * Refuses (billing.not_en16931) an invoice that breaks a rule `checkEn16931` checks.
 */
export function toCii(invoice: Invoice): string {
  return ciiOf(checkEn16931(invoice));
}

export function ciiOf(doc: LegalInvoice): string {
  const { seller, buyer, currency } = doc;
  const cur = { currencyID: currency };
  const l = LABELS[doc.language];
  const body = el(
    'rsm:CrossIndustryInvoice',
    NS,
    el(
      'rsm:ExchangedDocumentContext',
      null,
      el('ram:GuidelineSpecifiedDocumentContextParameter', null, text('ram:ID', EN16931_GUIDELINE)),
    ),
    el(
      'rsm:ExchangedDocument',
      null,
      text('ram:ID', doc.number),
      text('ram:TypeCode', doc.typeCode),
      el('ram:IssueDateTime', null, date102(doc.issueDate)),
      // BT-22: the legal mentions, "REG" (regulatory information) as UNTDID 4451 has it.
      doc.mentions.map((m) => el('ram:IncludedNote', null, text('ram:Content', m), text('ram:SubjectCode', 'REG'))),
    ),
    el(
      'rsm:SupplyChainTradeTransaction',
      null,
      doc.lines.map((line) =>
        el(
          'ram:IncludedSupplyChainTradeLineItem',
          null,
          el('ram:AssociatedDocumentLineDocument', null, text('ram:LineID', line.id)),
          el(
            'ram:SpecifiedTradeProduct',
            null,
            text('ram:Name', line.description),
            text('ram:Description', lineDetail(doc, line.memberName, line.adjusts)),
          ),
          el(
            'ram:SpecifiedLineTradeAgreement',
            null,
            el('ram:NetPriceProductTradePrice', null, text('ram:ChargeAmount', amount(line.unitCents))),
          ),
          el(
            'ram:SpecifiedLineTradeDelivery',
            null,
            text('ram:BilledQuantity', decimal(line.quantity), { unitCode: line.unitCode }),
          ),
          el(
            'ram:SpecifiedLineTradeSettlement',
            null,
            el(
              'ram:ApplicableTradeTax',
              null,
              text('ram:TypeCode', 'VAT'),
              text('ram:CategoryCode', line.category),
              text('ram:RateApplicablePercent', decimal(line.vatPercent)),
            ),
            line.from && line.to
              ? el(
                  'ram:BillingSpecifiedPeriod',
                  null,
                  el('ram:StartDateTime', null, date102(line.from)),
                  el('ram:EndDateTime', null, date102(line.to)),
                )
              : null,
            el(
              'ram:SpecifiedTradeSettlementLineMonetarySummation',
              null,
              text('ram:LineTotalAmount', amount(line.amountCents)),
            ),
          ),
        ),
      ),
      el(
        'ram:ApplicableHeaderTradeAgreement',
        null,
        text('ram:BuyerReference', buyer.reference),
        el(
          'ram:SellerTradeParty',
          null,
          // BT-29: the SIRET, scheme 0009 (ISO 6523 ICD).
          siretOk(seller.siret) ? text('ram:GlobalID', seller.siret, { schemeID: '0009' }) : null,
          text('ram:Name', seller.name),
          text('ram:Description', sellerLegalInfo(doc)),
          // BT-30: the SIREN, scheme 0002.
          sirenOk(seller.siren)
            ? el('ram:SpecifiedLegalOrganization', null, text('ram:ID', seller.siren, { schemeID: '0002' }))
            : null,
          group(
            'ram:DefinedTradeContact',
            null,
            group('ram:TelephoneUniversalCommunication', null, text('ram:CompleteNumber', seller.phone)),
            group('ram:EmailURIUniversalCommunication', null, text('ram:URIID', seller.email)),
          ),
          address(seller.address),
          group('ram:URIUniversalCommunication', null, text('ram:URIID', seller.email, { schemeID: 'EM' })),
          // BT-31 (VAT, scheme VA), or for a seller exempt from VAT its tax registration BT-32 (FC): the SIREN.
          seller.vatNumber
            ? el('ram:SpecifiedTaxRegistration', null, text('ram:ID', seller.vatNumber, { schemeID: 'VA' }))
            : sirenOk(seller.siren)
              ? el('ram:SpecifiedTaxRegistration', null, text('ram:ID', seller.siren, { schemeID: 'FC' }))
              : null,
        ),
        el(
          'ram:BuyerTradeParty',
          null,
          siretOk(buyer.siret) ? text('ram:GlobalID', buyer.siret, { schemeID: '0009' }) : null,
          text('ram:Name', buyer.name),
          sirenOk(buyer.siren)
            ? el('ram:SpecifiedLegalOrganization', null, text('ram:ID', buyer.siren, { schemeID: '0002' }))
            : null,
          address(buyer.address),
          group('ram:URIUniversalCommunication', null, text('ram:URIID', buyer.email, { schemeID: 'EM' })),
          buyer.vatNumber
            ? el('ram:SpecifiedTaxRegistration', null, text('ram:ID', buyer.vatNumber, { schemeID: 'VA' }))
            : null,
        ),
      ),
      el('ram:ApplicableHeaderTradeDelivery', null),
      el(
        'ram:ApplicableHeaderTradeSettlement',
        null,
        text('ram:PaymentReference', doc.type === 'invoice' ? doc.number : undefined),
        text('ram:InvoiceCurrencyCode', currency),
        // BG-16/BG-17: SEPA credit transfer (58) to the seller's account, when it has given one.
        seller.iban
          ? el(
              'ram:SpecifiedTradeSettlementPaymentMeans',
              null,
              text('ram:TypeCode', '58'),
              text('ram:Information', l.payment),
              el('ram:PayeePartyCreditorFinancialAccount', null, text('ram:IBANID', compact(seller.iban))),
              group('ram:PayeeSpecifiedCreditorFinancialInstitution', null, text('ram:BICID', seller.bic)),
            )
          : null,
        doc.vat.map((v) =>
          el(
            'ram:ApplicableTradeTax',
            null,
            text('ram:CalculatedAmount', amount(v.vatCents)),
            text('ram:TypeCode', 'VAT'),
            text('ram:ExemptionReason', v.exemptionReason),
            text('ram:BasisAmount', amount(v.baseCents)),
            text('ram:CategoryCode', v.category),
            text('ram:RateApplicablePercent', decimal(v.vatPercent)),
          ),
        ),
        doc.servicePeriod
          ? el(
              'ram:BillingSpecifiedPeriod',
              null,
              el('ram:StartDateTime', null, date102(doc.servicePeriod.from)),
              el('ram:EndDateTime', null, date102(doc.servicePeriod.to)),
            )
          : null,
        el(
          'ram:SpecifiedTradePaymentTerms',
          null,
          text('ram:Description', paymentTerms(doc)),
          doc.dueDate ? el('ram:DueDateDateTime', null, date102(doc.dueDate)) : null,
        ),
        el(
          'ram:SpecifiedTradeSettlementHeaderMonetarySummation',
          null,
          text('ram:LineTotalAmount', amount(doc.lineTotalCents)),
          text('ram:TaxBasisTotalAmount', amount(doc.lineTotalCents)),
          text('ram:TaxTotalAmount', amount(doc.vatCents), cur),
          text('ram:GrandTotalAmount', amount(doc.totalCents)),
          text('ram:DuePayableAmount', amount(doc.dueCents)),
        ),
        doc.corrects
          ? el(
              'ram:InvoiceReferencedDocument',
              null,
              text('ram:IssuerAssignedID', doc.corrects.number),
              doc.corrects.issueDate
                ? el(
                    'ram:FormattedIssueDateTime',
                    null,
                    text('qdt:DateTimeString', doc.corrects.issueDate.replaceAll('-', ''), { format: '102' }),
                  )
                : null,
            )
          : null,
      ),
    ),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`;
}

function address(a: PostalAddress): Node {
  return el(
    'ram:PostalTradeAddress',
    null,
    text('ram:PostcodeCode', a.postcode),
    text('ram:LineOne', a.lines[0]),
    text('ram:LineTwo', a.lines[1]),
    text('ram:LineThree', a.lines[2]),
    text('ram:CityName', a.city),
    text('ram:CountryID', a.country),
  );
}

/** BT-33, the seller's additional legal information: legal form, share capital, RCS. */
export function sellerLegalInfo(doc: LegalInvoice): string {
  const s = doc.seller;
  const l = LABELS[doc.language];
  return [s.shareCapital ? `${s.legalForm} ${fill(l.shareCapital, { capital: s.shareCapital })}` : s.legalForm, s.rcs]
    .filter((x): x is string => !!x)
    .join(' - ');
}

/** BT-154: whose line it is, and the period an adjustment corrects. */
export function lineDetail(doc: LegalInvoice, memberName: string | null, adjusts: string | null): string | undefined {
  const l = LABELS[doc.language];
  const parts = [
    memberName ? fill(l.member, { name: memberName }) : null,
    adjusts ? fill(l.adjusts, { period: adjusts }) : null,
  ].filter((x): x is string => !!x);
  return parts.length ? parts.join(' - ') : undefined;
}

const compact = (iban: string) => iban.replace(/\s+/g, '').toUpperCase();
export { compact as compactIban };
