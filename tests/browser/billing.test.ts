import { afterEach, describe, expect, it } from 'vitest';
import { nextPeriod } from '../../cloud-sync/billing/period.js';
import type { EventBatch } from '../../shared/protocol/sync.js';
import { TEST_SELLER as SELLER } from '../harness/billing-parties.js';
import { PERIOD, ZONE, closedMonth, dayOfMonth, offsetOn } from './billing-month.js';
import { ShiftedClock, browserAvailable, cleanUp, logIn, openBrowser, screenshot, startHub } from './harness.js';

afterEach(cleanUp);

/** Text as shown, with the no-break spaces of French number formats as plain spaces. */
const plain = (s: string | null) => (s ?? '').replace(/[\s\u00a0\u202f]+/g, ' ').trim();
const YEAR = PERIOD.slice(0, 4);

describe.skipIf(!browserAvailable())('the billing pages of the dashboard in a real browser (Debian chromium)', () => {
  it('an operator sees the closed month and what closes next, opens an invoice whose lines and totals are those of the API, and downloads its CSV', async () => {
    const net = await startHub();
    await closedMonth(net);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Facturation' }).click();
    const month = page.locator(`details.period[data-period="${PERIOD}"][data-status="closed"]`);
    await month.waitFor();
    expect(plain(await month.locator('summary').textContent())).toContain('2 facture(s)');
    const next = new Intl.DateTimeFormat('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
      new Date(`${nextPeriod(PERIOD)}-01T00:00:00Z`),
    );
    await page.getByText(`Prochaine période à clôturer : ${next}`).waitFor();

    // The open month, rated only when asked: no visit yet, only Chloé's subscription, 96.00 + 19.20, on an invoice without a number.
    await page.getByRole('button', { name: `Aperçu de ${next}` }).click();
    const preview = page.locator(`details.period[data-period="${nextPeriod(PERIOD)}"][data-status="open"]`);
    await preview.locator('tr[data-invoice=""]').filter({ hasText: 'Acme SA' }).waitFor();
    expect(await preview.locator('.totals .total').getAttribute('data-cents')).toBe('11520');

    await month.locator('summary').click();
    expect(await month.locator('.totals .total').getAttribute('data-cents')).toBe('18960');
    expect(plain(await month.locator('.totals .total').textContent())).toBe('Total TTC 189,60 €');
    // Closed without a seller nor buyers: its invoices have no legal documents, and the month says so.
    expect(plain(await month.locator('.missing-seller').textContent())).toContain('Fermée sans vendeur enregistré');
    expect(plain(await month.locator('.missing-buyers').textContent())).toContain('employer:acme, member:ana');
    await screenshot(page, 'billing-periods');
    await month
      .locator(`tr[data-invoice="${YEAR}-000001"]`)
      .getByRole('link', { name: `${YEAR}-000001`, exact: true })
      .click();

    const api = (await net.call('GET', `/billing/invoices/${YEAR}-000001`)).json as {
      totalCents: number;
      account: { id: string };
      lines: unknown[];
    };
    expect(api).toMatchObject({ account: { id: 'acme' }, totalCents: 16560 });
    const total = page.locator('section.summary .totals .total');
    await total.waitFor();
    expect(await total.getAttribute('data-cents')).toBe(String(api.totalCents));
    expect(plain(await total.textContent())).toBe('Total TTC 165,60 €');
    expect(plain(await page.locator('section.summary .totals .vat').textContent())).toBe('TVA 27,60 €');
    expect(await page.locator('section.card tr[data-kind]').count()).toBe(api.lines.length);
    const extra = page.locator('tr[data-kind="extra-day"]');
    expect(plain(await extra.textContent())).toContain('Bureau-Mobile Reichstett');
    expect(plain(await extra.locator('td.num').nth(2).textContent())).toBe('12,00 €');
    const bySite = async (site: string) =>
      page.locator(`tr[data-site="${site}"] td.num[data-cents]`).getAttribute('data-cents');
    expect([await bySite(''), await bySite('murat'), await bySite('reichstett')]).toEqual(['9600', '3000', '1200']);
    const byMember = async (member: string) =>
      (await page.locator(`tr[data-member="${member}"] td`).allTextContents()).map(plain);
    expect([await byMember('chloe'), await byMember('david')]).toEqual([
      ['Chloé Weber', '3', '108,00 €'],
      ['David Roux', '2', '30,00 €'],
    ]);
    await screenshot(page, 'billing-invoice');

    const csv = await page.request.get(
      new URL((await page.getByRole('link', { name: 'CSV' }).getAttribute('href')) ?? '', net.apiUrl).href,
    );
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    expect(await csv.text()).toContain(
      `${YEAR}-000001,${PERIOD},employer,acme,Acme SA,chloe,Chloé Weber,reichstett,extra-day,,Jours au-delà de 2 par semaine`,
    );
    const json = await page.request.get(
      new URL((await page.getByRole('link', { name: 'JSON' }).getAttribute('href')) ?? '', net.apiUrl).href,
    );
    expect(await json.json()).toEqual(api);
  });

  it("an operator downloads an invoice's PDF, Factur-X, UBL and CII, records its payment and sees it paid, cancels another by a credit note from its page, and finds it under its month", async () => {
    const net = await startHub();
    await closedMonth(net, { lawful: true });
    const number = `${YEAR}-000001`;
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.locator('#nav').waitFor();
    await page.goto(`${net.apiUrl}/#/billing/invoices/${number}`);
    const fetchLink = async (format: string) => {
      const href = await page.locator(`.invoice .documents a[data-format="${format}"]`).getAttribute('href');
      return page.request.get(new URL(href ?? '', net.apiUrl).href);
    };
    for (const format of ['pdf', 'facturx']) {
      const pdf = await fetchLink(format);
      expect([pdf.status(), pdf.headers()['content-type']]).toEqual([200, 'application/pdf']);
      expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
    }
    expect(await (await fetchLink('ubl')).text()).toContain(`<cbc:ID>${number}</cbc:ID>`);
    expect(await (await fetchLink('cii')).text()).toContain(`<ram:ID>${number}</ram:ID>`);

    // Nothing paid yet: 165.60 due.
    const payment = page.locator('section.payment');
    await payment.locator('.state strong.status').waitFor();
    expect(await payment.getAttribute('data-status')).toBe('open');
    expect(plain(await payment.locator('.state').textContent())).toContain('À payer · Reste dû : 165,60 €');
    await payment.getByLabel('Montant').fill('100');
    await payment.getByLabel('Date de réception').fill('2999-01-01');
    await payment.getByRole('button', { name: 'Enregistrer le paiement' }).click();
    // The API refuses a payment received in the future: its reason in words, by the field's label.
    await payment.getByText('Paiement refusé : corrigez les champs indiqués.').waitFor();
    expect(plain(await payment.locator('li[data-path="date"]').textContent())).toBe(
      'Date de réception : un paiement ne peut pas être reçu après aujourd’hui',
    );
    await payment.getByLabel('Montant').fill('abc');
    await payment.getByRole('button', { name: 'Enregistrer le paiement' }).click();
    await payment.getByText('« abc » n’est pas un montant').waitFor();

    await payment.getByLabel('Montant').fill('100');
    await payment.getByLabel('Date de réception').fill(new Date().toISOString().slice(0, 10));
    await payment.getByLabel('Moyen de paiement').selectOption('cheque');
    await payment.getByLabel('Référence').fill('CHQ 1234');
    await payment.getByRole('button', { name: 'Enregistrer le paiement' }).click();
    await page.locator('section.payment[data-status="partly-paid"]').waitFor();
    expect(plain(await payment.locator('.state').textContent())).toContain('Payée en partie · Reste dû : 65,60 €');
    expect((await payment.locator('tr[data-payment] td').allTextContents()).map(plain).slice(1)).toEqual([
      '100,00 €',
      'Chèque',
      'CHQ 1234',
    ]);
    await payment.getByLabel('Montant').fill('65,60');
    await payment.getByRole('button', { name: 'Enregistrer le paiement' }).click();
    await page.locator('section.payment[data-status="paid"]').waitFor();
    expect(plain(await payment.locator('.state').textContent())).toContain('Payée · Reste dû : 0,00 €');
    const statuses = (await net.call('GET', '/billing/invoices/status?account=employer:acme')).json as {
      invoices: Array<{ number: string; status: string; paidCents: number }>;
    };
    expect(statuses.invoices.find((i) => i.number === number)).toMatchObject({ status: 'paid', paidCents: 16560 });
    expect(await page.locator('section.credit-notes').getByText('Aucun avoir.').count()).toBe(1);
    await screenshot(page, 'billing-invoice-paid');

    // Ana's invoice cancelled by a credit note: listed under its month and on her invoice, with its documents.
    // Ana's invoice cancelled by a credit note from its page, asked first; a second finds nothing left to credit.
    const ana = `${YEAR}-000002`;
    await page.goto(`${net.apiUrl}/#/billing/invoices/${ana}`);
    const credits = page.locator('section.credit-notes');
    await credits.getByText('Aucun avoir.').waitFor();
    await credits.getByLabel('Motif de l’avoir').fill('Geste commercial');
    await credits.getByRole('button', { name: 'Émettre l’avoir' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Émettre l’avoir' }).click();
    await page.locator('section.credit-notes tr[data-credit-note]').waitFor();
    const notes = (await net.call('GET', `/billing/periods/${PERIOD}/credit-notes`)).json as {
      creditNotes: Array<{ number: string; totalCents: number; corrects: { number: string }; mentions: string[] }>;
    };
    expect(notes.creditNotes.map((c) => [c.corrects.number, c.totalCents])).toEqual([[ana, 2400]]);
    const note = notes.creditNotes[0] ?? { number: '', totalCents: 0 };
    // Credited in full: nothing left due.
    await page.locator('section.payment[data-status="paid"]').waitFor();
    await page.locator('section.credit-notes').getByLabel('Motif de l’avoir').fill('Encore');
    await page.locator('section.credit-notes').getByRole('button', { name: 'Émettre l’avoir' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Émettre l’avoir' }).click();
    await page.getByText('Avoir refusé : cette facture est déjà annulée en entier par ses avoirs.').waitFor();
    expect(
      ((await net.call('GET', `/billing/periods/${PERIOD}/credit-notes`)).json as { creditNotes: unknown[] })
        .creditNotes.length,
    ).toBe(1);
    await page.getByRole('link', { name: 'Facturation' }).click();
    const month = page.locator(`details.period[data-period="${PERIOD}"]`);
    await month.locator('summary').click();
    const row = month.locator(`tr[data-credit-note="${note.number}"]`);
    await row.waitFor();
    expect(await month.locator('.missing-seller, .missing-buyers').count()).toBe(0);
    expect(await row.getAttribute('data-corrects')).toBe(ana);
    expect((await row.locator('th, td').allTextContents()).map(plain).slice(0, 3)).toEqual([
      note.number,
      ana,
      'Ana Lopez',
    ]);
    expect(await row.locator('td.num').getAttribute('data-cents')).toBe(String(note.totalCents));
    const notePdf = await page.request.get(
      new URL((await row.locator('a[data-format="pdf"]').getAttribute('href')) ?? '', net.apiUrl).href,
    );
    expect((await notePdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
    await screenshot(page, 'billing-credit-notes');
    await row.getByRole('link', { name: ana, exact: true }).click();
    await page.locator(`section.credit-notes tr[data-credit-note="${note.number}"]`).waitFor();
    await page.locator(`section.credit-notes a[href="#/billing/invoices/${note.number}"]`).click();
    await page.getByRole('heading', { name: `Avoir ${note.number}` }).waitFor();
    expect(await page.locator('section.payment').count()).toBe(0);
    expect(await page.locator('.invoice .corrects a').textContent()).toBe(ana);
  });

  it('weeks after the due date, an operator sees what each account owes and is overdue, the reminders due, sets the policy that closes the doors, lifts a hold then applies the policy again', async () => {
    const clock = new ShiftedClock();
    const net = await startHub({ clock });
    await closedMonth(net, { lawful: true });
    // 50 days on: both invoices (due 30 days after their issue) are weeks overdue.
    clock.shiftMs = 50 * 86_400_000;
    await net.logInAgain();
    const reminders = (await net.call('GET', '/billing/reminders')).json as {
      reminders: Array<{ invoice: string; daysOverdue: number; stage: string; held: boolean }>;
    };
    const acme = reminders.reminders.find((r) => r.invoice === `${YEAR}-000001`);
    expect(acme).toMatchObject({ stage: 'second', held: false });
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Facturation' }).click();
    await page.getByRole('link', { name: 'Impayés, relances et blocages' }).click();
    // No policy yet: overdue, the doors stay open; the operator closes them after 10 days overdue.
    const policy = page.locator('section.holds p.policy');
    await policy.getByText('Les portes ne se ferment jamais pour une facture en retard.').waitFor();
    expect(await page.locator('li.hold[data-held="false"]').count()).toBe(2);
    await page.getByLabel('Jours de retard avant de fermer les portes (vide : jamais)').fill('10');
    await page.getByRole('button', { name: 'Enregistrer la règle' }).click();
    await policy.getByText('plus de 10 jour(s) de retard').waitFor();
    expect((await net.call('GET', '/billing/overdue-policy')).json).toEqual({ suspendAfterDaysOverdue: 10 });

    const owed = page.locator('section.receivables tr[data-account="employer:acme"]');
    await owed.waitFor();
    expect(await owed.getAttribute('data-held')).toBe('true');
    expect((await owed.locator('th, td').allTextContents()).map(plain)).toEqual([
      'Acme SA (Employeur)',
      '1',
      '165,60 €',
      '165,60 €',
      String(acme?.daysOverdue),
      'fermées',
    ]);
    const reminder = page.locator(`section.reminders tr[data-invoice="${YEAR}-000001"]`);
    expect(await reminder.getAttribute('data-stage')).toBe('second');
    expect(plain(await reminder.textContent())).toContain('Deuxième relance');
    expect(await page.locator('section.reminders tr[data-invoice]').count()).toBe(2);
    expect(plain(await page.locator('section.holds h2').textContent())).toBe('Portes fermées pour retard de paiement');
    expect(plain(await policy.textContent())).toBe(
      'Les portes se ferment à un compte dont une facture a plus de 10 jour(s) de retard.',
    );
    await screenshot(page, 'billing-receivables');

    const hold = page.locator('li.hold[data-account="employer:acme"]');
    expect(plain(await hold.textContent())).toContain('Portes fermées depuis le');
    await hold.getByLabel('Motif').fill('Virement promis pour vendredi');
    await hold.getByRole('button', { name: 'Lever le blocage' }).click();
    await page.locator('li.hold[data-account="employer:acme"][data-override="lift"][data-held="false"]').waitFor();
    expect(plain(await hold.locator('.override').textContent())).toBe(
      'Blocage levé par admin : Virement promis pour vendredi',
    );
    const held = async () =>
      ((await net.call('GET', '/billing/holds')).json as { holds: Array<{ account: string; held: boolean }> }).holds
        .filter((x) => x.held)
        .map((x) => x.account);
    expect(await held()).toEqual(['member:ana']);
    await hold.getByLabel('Motif').fill('Virement non reçu');
    await hold.getByRole('button', { name: 'Rétablir la règle' }).click();
    await page.locator('li.hold[data-account="employer:acme"][data-override=""][data-held="true"]').waitFor();
    expect((await held()).sort()).toEqual(['employer:acme', 'member:ana']);
  });

  it('an operator sets the seller: the SIRET whose key is wrong is refused in words, by its label; corrected, it is saved and shown again', async () => {
    const net = await startHub();
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Facturation' }).click();
    await page.getByRole('link', { name: 'Identité du vendeur' }).click();
    await page.getByText('Aucun vendeur enregistré').waitFor();
    const form = page.locator('form.seller-form');
    await form.getByLabel('Raison sociale').fill(SELLER.name);
    await form.getByLabel('Forme juridique').fill(SELLER.legalForm);
    await form.getByLabel('SIREN').fill('732 829 320');
    // The last digit off by one: its Luhn key fails.
    await form.getByLabel('SIRET').fill('73282932000075');
    await form.getByLabel('N° de TVA intracommunautaire').fill('FR13542107651');
    await form.getByLabel('Adresse (1)').fill(SELLER.address.lines[0] ?? '');
    await form.getByLabel('Code postal').fill(SELLER.address.postcode);
    await form.getByLabel('Ville').fill(SELLER.address.city);
    await form.getByLabel('Pénalités de retard (% par an)').fill('12,5');
    await form.getByRole('button', { name: 'Enregistrer le vendeur' }).click();
    await form.getByText('Vendeur refusé : corrigez les champs indiqués.').waitFor();
    expect(plain(await form.locator('li[data-path="siret"]').textContent())).toBe(
      'SIRET : un SIRET a 14 chiffres : le SIREN, le NIC, et une clé de Luhn valide',
    );
    await form.getByLabel('SIRET').fill(SELLER.siret);
    await form.getByRole('button', { name: 'Enregistrer le vendeur' }).click();
    // The SIRET fixed, the VAT number of another SIREN is still refused (the first answer named
    // both): the new answer is the one without the SIRET's error.
    await form.locator('li[data-path="siret"]').waitFor({ state: 'detached' });
    expect(await form.locator('li[data-path="vatNumber"]').count()).toBe(1);
    expect(plain(await form.locator('li[data-path="vatNumber"]').textContent())).toBe(
      'N° de TVA intracommunautaire : le numéro de TVA doit être celui du SIREN',
    );
    await form.getByLabel('N° de TVA intracommunautaire').fill(SELLER.vatNumber);
    await form.getByRole('button', { name: 'Enregistrer le vendeur' }).click();
    await page.getByText('Vendeur enregistré.').waitFor();
    expect((await net.call('GET', '/billing/seller')).json).toEqual({
      ...SELLER,
      paymentTermsDays: 30,
    });
    await page.reload();
    await expect.poll(() => page.locator('form.seller-form').getByLabel('SIRET').inputValue()).toBe(SELLER.siret);
    expect(await page.getByText('Aucun vendeur enregistré').count()).toBe(0);
  });

  it('an operator adds a buyer (a business without its SIREN refused in words), edits it, and deletes it after asking', async () => {
    const net = await startHub();
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Facturation' }).click();
    await page.getByRole('link', { name: 'Acheteurs' }).click();
    await page.getByText('Aucun acheteur enregistré.').waitFor();
    const form = page.locator('form.buyer-form');
    await form.getByLabel('Compte facturé').fill('employer:acme');
    await form.getByLabel('Nom ou raison sociale').fill('Acme SA');
    await form.getByLabel('Adresse (1)').fill('1 place de Jaude');
    await form.getByLabel('Code postal').fill('63000');
    await form.getByLabel('Ville').fill('Clermont-Ferrand');
    await form.getByRole('button', { name: 'Enregistrer l’acheteur' }).click();
    await form.getByText('Acheteur refusé : corrigez les champs indiqués.').waitFor();
    expect(plain(await form.locator('li[data-path="siren"]').textContent())).toBe(
      'SIREN : une entreprise en France a un SIREN',
    );
    await form.getByLabel('SIREN', { exact: true }).fill('542 107 651');
    await form.getByLabel('Langue des factures').selectOption('en');
    await form.getByRole('button', { name: 'Enregistrer l’acheteur' }).click();
    const row = page.locator('table.buyers tr[data-account="employer:acme"]');
    await row.waitFor();
    expect((await row.locator('th, td').allTextContents()).map(plain).slice(0, 5)).toEqual([
      'employer:acme',
      'Acme SA',
      'Entreprise',
      '542107651',
      'Clermont-Ferrand',
    ]);
    expect((await net.call('GET', '/billing/buyers/employer:acme')).json).toMatchObject({
      kind: 'business',
      siren: '542107651',
      language: 'en',
    });

    await row.getByRole('button', { name: 'Modifier Acme SA' }).click();
    await expect.poll(() => form.getByLabel('Nom ou raison sociale').inputValue()).toBe('Acme SA');
    expect(await form.getByLabel('Compte facturé').getAttribute('readonly')).not.toBeNull();
    await form.getByLabel('Courriel').fill('compta@acme.example');
    await form.getByRole('button', { name: 'Enregistrer l’acheteur' }).click();
    await expect
      .poll(async () => ((await net.call('GET', '/billing/buyers/employer:acme')).json as { email?: string }).email)
      .toBe('compta@acme.example');

    await row.getByRole('button', { name: 'Supprimer Acme SA' }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Supprimer' }).click();
    await page.getByText('Aucun acheteur enregistré.').waitFor();
    expect((await net.call('GET', '/billing/buyers/employer:acme')).status).toBe(404);
  });

  it("an employer's manager sees their invoice and the credit note correcting it, and downloads their documents, never another's", async () => {
    const net = await startHub();
    await closedMonth(net, { lawful: true });
    const number = `${YEAR}-000001`;
    const credit = await net.call('POST', `/billing/invoices/${number}/credit-note`, { reason: 'Geste commercial' });
    const note = (credit.json as { number: string }).number;
    // Ana's credit note, for the one billed on her own: never in Acme's list.
    await net.call('POST', `/billing/invoices/${YEAR}-000002/credit-note`, { reason: 'Erreur' });
    const account = {
      username: 'acme-rh',
      role: 'employer_manager',
      employer: 'acme',
      password: 'acme-rh-password',
      mustChangePassword: false,
    };
    expect((await net.call('POST', '/accounts', account)).status).toBe(201);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl, account.password, account.username);
    await page.getByRole('link', { name: 'Factures' }).click();
    const rows = page.locator('tr[data-invoice]');
    await rows.first().waitFor();
    expect(await Promise.all([0, 1].map((n) => rows.nth(n).getAttribute('data-invoice')))).toEqual([number, note]);
    expect(await rows.count()).toBe(2);
    expect(plain(await rows.nth(1).locator('td').first().textContent())).toBe(`Avoir sur la facture ${number}`);
    const fetchHref = async (href: string | null) => page.request.get(new URL(href ?? '', net.apiUrl).href);
    const notePdf = await fetchHref(await rows.nth(1).locator('a[data-format="pdf"]').getAttribute('href'));
    expect(notePdf.status()).toBe(200);
    expect((await notePdf.body()).subarray(0, 5).toString()).toBe('%PDF-');

    await rows.first().getByRole('link', { name: number, exact: true }).click();
    await page.locator('section.summary .totals .total').waitFor();
    // The manager's page: the documents, no CSV, no payment form (the operator's).
    const facturx = page.locator('.invoice .documents a[data-format="facturx"]');
    expect(await facturx.getAttribute('href')).toBe(`/employer/invoices/${number}/document?format=facturx`);
    expect((await (await fetchHref(await facturx.getAttribute('href'))).body()).subarray(0, 5).toString()).toBe(
      '%PDF-',
    );
    expect(await page.locator('.invoice .downloads').count()).toBe(0);
    expect(await page.locator('section.payment').count()).toBe(0);
    // Ana's invoice, and the operator's route, are refused to them.
    const refused = await page.evaluate(
      async (numbers) => Promise.all(numbers.map(async (url) => (await fetch(url)).status)),
      [`/employer/invoices/${YEAR}-000002/document?format=pdf`, `/billing/invoices/${number}/document?format=pdf`],
    );
    expect(refused).toEqual([404, 403]);
    await page.goto(`${net.apiUrl}/#/invoices/${note}`);
    await page.getByRole('heading', { name: `Avoir ${note}` }).waitFor();
    expect(await page.locator('.invoice .corrects a').getAttribute('href')).toBe(`#/invoices/${number}`);
  });

  it('a month with uses of an item without a price lists them under the month, as text even when the name holds markup', async () => {
    const net = await startHub();
    const item = '<img src=x onerror="document.title=1">';
    // A use an older hub stored before item names were checked at ingest.
    const at = `${dayOfMonth(21)}T10:00:00.000${offsetOn(dayOfMonth(21))}`;
    const event = {
      v: 1,
      site: 'murat',
      seq: 100,
      id: '0190a000-0000-7000-8000-000000000100',
      at,
      type: 'consumable.used',
      data: { memberId: 'ana', item, quantity: 3 },
    };
    await net.hub.store.ingest(
      { v: 1, site: 'murat', events: [event as EventBatch['events'][number]] },
      Date.now() - 3_600_000,
    );
    await closedMonth(net);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl);
    await page.getByRole('link', { name: 'Facturation' }).click();
    const month = page.locator(`details.period[data-period="${PERIOD}"][data-status="closed"]`);
    await month.locator('summary').click();
    const use = month.locator('.unpriced li');
    await use.waitFor();
    const monthName = new Intl.DateTimeFormat('fr-FR', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(
      new Date(`${PERIOD}-01T00:00:00Z`),
    );
    expect(await use.getAttribute('data-item')).toBe(item);
    expect(plain(await use.textContent())).toBe(`« ${item} » à murat, ${monthName} : 1 usage(s), 3 unité(s)`);
    expect(plain(await month.locator('.unpriced p.error').textContent())).toContain('1 article(s) sans prix');
    expect(await month.locator('.unpriced img').count()).toBe(0);
    expect(await page.title()).not.toBe('1');
  });

  it('a site manager is not offered billing; its address leads them to their home, and the API refuses them', async () => {
    const net = await startHub();
    await net.hub.sites.upsert({ id: 'murat', name: 'Télécentre de Murat', timeZone: ZONE, capacity: 20 });
    const account = {
      username: 'manager',
      role: 'site_manager',
      sites: ['murat'],
      password: 'manager-password',
      mustChangePassword: false,
    };
    expect((await net.call('POST', '/accounts', account)).status).toBe(201);
    const { page } = await openBrowser();
    await logIn(page, net.apiUrl, account.password, account.username);
    await page.getByText('Total du réseau').waitFor();
    expect(await page.getByRole('link', { name: 'Membres' }).isVisible()).toBe(true);
    expect(await page.locator('[data-nav="billing"]').isHidden()).toBe(true);
    // Typed in the address bar, another role's page leads to this account's home (the API refuses it anyway).
    await page.goto(`${net.apiUrl}/#/billing`);
    await page.getByText('Total du réseau').waitFor();
    expect(new URL(page.url()).hash).toBe('#/');
    expect(await page.locator('details.period').count()).toBe(0);
    const refused = await page.evaluate(async () => (await fetch('/billing/periods')).status);
    expect(refused).toBe(403);
  });
});
