import type { Invoice } from '../../../shared/protocol/api/hub-billing.js';
import { ciiOf } from './cii.js';
import { checkEn16931 } from './en16931.js';
import { renderPdf } from './pdf.js';

/** The name the Factur-X specification gives the embedded CII, and its profile as the XMP states it. */
export const FACTURX_FILE_NAME = 'factur-x.xml';
const FX_NAMESPACE = 'urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#';
const FX_CONFORMANCE = 'EN 16931';

/**
 * The invoice as Factur-X at the EN 16931 profile: the PDF of `toPdf`, as PDF/A-3b (fonts
 * embedded, sRGB output intent: the ICC profile pdfkit ships), with its CII (`toCii`) embedded
 * as `factur-x.xml`, associated with the document as its "Alternative" (the relationship the
 * Factur-X specification sets for the BASIC, EN 16931 and EXTENDED profiles; "Data" is for
 * MINIMUM and BASIC WL, which are not full invoices), and the XMP metadata declaring PDF/A-3B
 * and the Factur-X document (the extension schema PDF/A requires for the `fx` properties).
 */
export async function toFacturX(invoice: Invoice): Promise<Uint8Array> {
  const doc = checkEn16931(invoice);
  const xml = new TextEncoder().encode(ciiOf(doc));
  const date = new Date(`${doc.issueDate}T00:00:00Z`);
  return renderPdf(doc, {
    attach(pdf) {
      // pdfkit's typings predate the relationship option (AFRelationship).
      const file = pdf.file as (src: Uint8Array, o: Record<string, unknown>) => unknown;
      file.call(pdf, xml, {
        name: FACTURX_FILE_NAME,
        type: 'text/xml',
        description: 'Factur-X invoice (EN 16931)',
        relationship: 'Alternative',
        creationDate: date,
        modifiedDate: date,
      });
      pdf.appendXML(FACTURX_XMP);
    },
  });
}

/** The Factur-X XMP: the PDF/A extension schema of the `fx` namespace, then its values. */
const FACTURX_XMP = `
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
  <pdfaExtension:schemas>
    <rdf:Bag>
      <rdf:li rdf:parseType="Resource">
        <pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
        <pdfaSchema:namespaceURI>${FX_NAMESPACE}</pdfaSchema:namespaceURI>
        <pdfaSchema:prefix>fx</pdfaSchema:prefix>
        <pdfaSchema:property>
          <rdf:Seq>
${[
  ['DocumentFileName', 'name of the embedded XML invoice file'],
  ['DocumentType', 'INVOICE'],
  ['Version', 'version of the Factur-X XML schema'],
  ['ConformanceLevel', 'conformance level (profile) of the embedded XML invoice'],
]
  .map(
    ([name, description]) => `            <rdf:li rdf:parseType="Resource">
              <pdfaProperty:name>${name}</pdfaProperty:name>
              <pdfaProperty:valueType>Text</pdfaProperty:valueType>
              <pdfaProperty:category>external</pdfaProperty:category>
              <pdfaProperty:description>${description}</pdfaProperty:description>
            </rdf:li>`,
  )
  .join('\n')}
          </rdf:Seq>
        </pdfaSchema:property>
      </rdf:li>
    </rdf:Bag>
  </pdfaExtension:schemas>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:fx="${FX_NAMESPACE}">
  <fx:DocumentType>INVOICE</fx:DocumentType>
  <fx:DocumentFileName>${FACTURX_FILE_NAME}</fx:DocumentFileName>
  <fx:Version>1.0</fx:Version>
  <fx:ConformanceLevel>${FX_CONFORMANCE}</fx:ConformanceLevel>
</rdf:Description>`;
