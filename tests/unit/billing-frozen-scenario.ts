import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { BILLING_DATES, billingHub, SiteLog } from './billing-fixtures.js';

/**
 * A network whose November and December 2026 were closed by the hub before invoice lines
 * carried their dates (`from`, `to`), before subscriptions were charged pro rata and before a
 * locker was billed only when the plan opens it. `billing-frozen-before-line-dates.json` holds
 * what that hub stored for them (the `billing_periods` and `billing_invoices` rows), recorded
 * by running `closeScenario` with that version. Today's hub must verify them as identical.
 */
export async function scenarioHub() {
  const hub = await billingHub();
  const { db, directory } = hub;
  // The plans as the directory held them then: Reichstett's plan does not open lockers.
  await directory.upsert(db, 'plan', { id: 'reichstett-2-days', name: 'Reichstett 2 days', access: 'staffed' });
  await directory.upsert(db, 'plan', { id: 'murat-week', name: 'Murat week', access: 'staffed' });
  await directory.upsert(db, 'plan', { id: 'murat-2-days', name: 'Murat 2 days', access: 'staffed', daysPerWeek: 2 });
  await directory.upsert(db, 'plan', { id: 'soho-solo', name: 'Soho Solo', access: 'always', daysPerWeek: 5 });
  // Chloé joined on 16 November and has a locker her plan does not open; Eve left on 20 November.
  await directory.upsert(db, 'member', {
    id: 'chloe',
    name: 'Chloé',
    plan: 'reichstett-2-days',
    employer: 'acme',
    validFrom: '2026-11-16',
    locker: { bank: 'casiers', number: 3 },
  });
  await directory.upsert(db, 'member', { id: 'ben', name: 'Ben', plan: 'murat-week' });
  await directory.upsert(db, 'member', { id: 'eve', name: 'Eve', plan: 'soho-solo', validUntil: '2026-11-20' });
  await directory.upsert(db, 'member', { id: 'fred', name: 'Fred', plan: 'murat-2-days', employer: 'acme' });
  const onTime = BILLING_DATES.DEC_2 - 86_400_000;
  const murat = new SiteLog('murat', '+01:00', onTime);
  await hub.ingest(
    murat
      .visit('ana', '2026-11-02', '09:00', 480)
      .visit('ana', '2026-11-03', '09:00', 120)
      .visit('ben', '2026-11-02', '09:00', 480)
      .visit('ben', '2026-11-03', '09:00', 480)
      .visit('ben', '2026-11-26', '09:00', 480)
      .visit('fred', '2026-11-09', '09:00', 480)
      .visit('fred', '2026-11-10', '09:00', 480)
      .visit('fred', '2026-11-11', '09:00', 480)
      .use('eve', '2026-11-05', 'print-page', 1200)
      .use('eve', '2026-11-05', 'coffee', 2),
  );
  const reichstett = new SiteLog('reichstett', '+01:00', onTime);
  await hub.ingest(
    reichstett
      .visit('chloe', '2026-11-16', '09:00', 480)
      .visit('chloe', '2026-11-17', '09:00', 480)
      .visit('chloe', '2026-11-18', '09:00', 480)
      .visit('chloe', '2026-12-01', '09:00', 480),
  );
  return { ...hub, murat, reichstett };
}

/** Closes November, then December with a late November day of Ana's (an adjustment). */
export async function closeScenario(hub: Awaited<ReturnType<typeof scenarioHub>>): Promise<void> {
  await hub.ledger.setPrices(EXAMPLE_PRICE_LIST);
  hub.clock.now = BILLING_DATES.DEC_2;
  await hub.ledger.close('2026-11');
  await lateDay(hub);
  hub.clock.now = BILLING_DATES.JAN_2;
  await hub.ledger.close('2026-12');
}

/** Ana's 20 November, from Murat's site that was offline over November's close. */
export async function lateDay(hub: Awaited<ReturnType<typeof scenarioHub>>): Promise<void> {
  const sent = hub.murat.events.length;
  hub.murat.visit('ana', '2026-11-20', '09:00', 480, BILLING_DATES.DEC_2 + 86_400_000);
  for (const { event, receivedAt } of hub.murat.events.slice(sent))
    await hub.store.ingest({ v: 1, site: event.site, events: [event] }, receivedAt);
}
