/**
 * The legal documents of an invoice or credit note (docs/billing.md, "Invoice documents"): the
 * CII and UBL XML of EN 16931, a readable PDF, and Factur-X (that PDF as PDF/A-3b carrying the
 * CII). Each refuses, with `billing.not_en16931`, an invoice that lacks what a legal invoice needs.
 */
export { toCii } from './cii.js';
export { toUbl } from './ubl.js';
export { toPdf } from './pdf.js';
export { toFacturX, FACTURX_FILE_NAME } from './facturx.js';
export { checkEn16931 } from './en16931.js';
export { invoiceDocument } from './document.js';
