import type { Invoice, InvoiceDocumentQuery } from '../../../shared/protocol/api/hub-billing.js';
import { toCii } from './cii.js';
import { toFacturX } from './facturx.js';
import { toPdf } from './pdf.js';
import { toUbl } from './ubl.js';

/** One legal document of an invoice or credit note, as the API hands it over. */
export interface InvoiceDocument {
  type: string;
  extension: string;
  bytes: Buffer;
}

/** The invoice in `format`: Factur-X (the default: the PDF a person reads, carrying the XML a machine reads), PDF, CII or UBL. */
export async function invoiceDocument(
  invoice: Invoice,
  format: InvoiceDocumentQuery['format'],
): Promise<InvoiceDocument> {
  switch (format) {
    case 'facturx':
      return { type: 'application/pdf', extension: 'pdf', bytes: Buffer.from(await toFacturX(invoice)) };
    case 'pdf':
      return { type: 'application/pdf', extension: 'pdf', bytes: Buffer.from(await toPdf(invoice)) };
    case 'cii':
      return { type: 'application/xml; charset=utf-8', extension: 'xml', bytes: Buffer.from(toCii(invoice)) };
    case 'ubl':
      return { type: 'application/xml; charset=utf-8', extension: 'ubl.xml', bytes: Buffer.from(toUbl(invoice)) };
  }
}
