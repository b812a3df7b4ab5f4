import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { login, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { tempDir } from '../support/temp-dir.js';
import { muratHub, SiteLog } from './billing-fixtures.js';

const address = { lines: ['12 rue Blatin'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' };
const SELLER = {
  name: 'Tessera Coworking',
  legalForm: 'SAS',
  siren: '732829320',
  siret: '73282932000074',
  vatNumber: 'FR44732829320',
  address,
  iban: 'FR7630006000011234567890189',
  latePenaltyPercent: 12.5,
};
const ACME = {
  kind: 'business',
  name: 'Acme SA',
  siren: '542107651',
  vatNumber: 'FR13542107651',
  address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
};

/** pdftotext of a PDF's bytes (poppler-utils; .ci/run installs it, and the document tests fail without it under CI). */
function pdfText(bytes: Buffer): string | undefined {
  if (spawnSync('sh', ['-c', 'command -v pdftotext']).status !== 0) {
    if (process.env.CI === 'true') throw new Error('pdftotext not found: required under CI');
    return undefined;
  }
  const path = join(tempDir(), 'invoice.pdf');
  writeFileSync(path, bytes);
  return spawnSync('pdftotext', [path, '-'], { encoding: 'utf8' }).stdout.replace(/\s+/g, ' ');
}

describe('an invoice’s documents over the API', () => {
  let hub: Hub;
  let clock: ManualClock;
  let headers: AuthHeaders;
  beforeEach(async () => {
    clock = new ManualClock('2026-11-20T08:00:00Z');
    ({ hub, headers } = await muratHub(clock, [
      { id: 'bob', name: 'Bob', employer: 'acme' },
      { id: 'ana', name: 'Ana' },
    ]));
    const log = new SiteLog('murat', '+01:00', clock.now())
      .visit('bob', '2026-11-03', '09:00', 480)
      .visit('ana', '2026-11-04', '09:00', 480);
    for (const { event, receivedAt } of log.events)
      await hub.store.ingest({ v: 1, site: 'murat', events: [event] }, receivedAt);
    await hub.billing.setPrices(EXAMPLE_PRICE_LIST);
  });
  afterEach(async () => hub.stop());

  const call = (method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) =>
    hub.api.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

  it('serves Factur-X, PDF, CII and UBL of an invoice issued with its seller and buyer, and of its credit note', async () => {
    expect((await call('PUT', '/billing/seller', SELLER)).statusCode).toBe(200);
    expect((await call('PUT', '/billing/buyers/employer:acme', ACME)).statusCode).toBe(200);
    clock.advance(Date.parse('2026-12-02T08:00:00Z') - clock.now());
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password); // the session of 20 November is over
    expect((await call('POST', '/billing/periods/2026-11/close')).statusCode).toBe(200);
    const acme = (await call('GET', '/billing/periods/2026-11/invoices'))
      .json<{
        invoices: Array<{ number: string; account: { id: string } }>;
      }>()
      .invoices.find((i) => i.account.id === 'acme');
    const number = acme?.number ?? '';

    const facturx = await call('GET', `/billing/invoices/${number}/document`);
    expect([facturx.statusCode, facturx.headers['content-type']]).toEqual([200, 'application/pdf']);
    expect(facturx.headers['content-disposition']).toBe(`attachment; filename="${number}.pdf"`);
    expect(facturx.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(facturx.rawPayload.includes(Buffer.from('factur-x.xml'))).toBe(true);
    const text = pdfText(facturx.rawPayload);
    if (text !== undefined) expect([text.includes(number), text.includes('Acme SA')]).toEqual([true, true]);
    const pdf = await call('GET', `/billing/invoices/${number}/document?format=pdf`);
    expect([pdf.statusCode, pdf.rawPayload.includes(Buffer.from('factur-x.xml'))]).toEqual([200, false]);
    const cii = await call('GET', `/billing/invoices/${number}/document?format=cii`);
    expect(cii.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(cii.body).toContain('urn:cen.eu:en16931:2017');
    expect(cii.body).toContain(`<ram:ID>${number}</ram:ID>`);
    const ubl = await call('GET', `/billing/invoices/${number}/document?format=ubl`);
    expect(ubl.body).toContain(`<cbc:ID>${number}</cbc:ID>`);

    // The operator cancels it: the credit note has its documents too, naming the invoice.
    const note = await call('POST', `/billing/invoices/${number}/credit-note`, { reason: 'billed twice' });
    expect(note.statusCode).toBe(201);
    const credit = note.json<{ number: string }>().number;
    const noteCii = await call('GET', `/billing/invoices/${credit}/document?format=cii`);
    expect(noteCii.statusCode).toBe(200);
    expect(noteCii.body).toContain('<ram:TypeCode>381</ram:TypeCode>');
    expect(noteCii.body).toContain(number);
  });

  it('refuses a document the invoice cannot lawfully make (no seller at its close), an unknown number, a bad format, and non-operators', async () => {
    clock.advance(Date.parse('2026-12-02T08:00:00Z') - clock.now());
    headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password); // the session of 20 November is over
    expect((await call('POST', '/billing/periods/2026-11/close')).statusCode).toBe(200);
    const unlawful = await call('GET', '/billing/invoices/2026-000001/document');
    expect([unlawful.statusCode, unlawful.json<{ code: string }>().code]).toEqual([422, 'billing.not_en16931']);
    expect((await call('GET', '/billing/invoices/2026-000009/document')).statusCode).toBe(404);
    expect((await call('GET', '/billing/invoices/2026-000001/document?format=docx')).statusCode).toBe(400);
    expect((await call('GET', '/billing/invoices/../document')).statusCode).toBe(404);
    const anonymous = await hub.api.inject({ method: 'GET', url: '/billing/invoices/2026-000001/document' });
    expect(anonymous.statusCode).toBe(401);
  });
});
