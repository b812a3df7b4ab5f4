import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import type { RunningEdge } from '../../edge/site/run.js';
import { systemClock, type Clock } from '../../shared/platform/clock.js';
import { loginOver, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { startNetworkSite, startTestHub } from '../harness/network-hub.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { eventually } from '../support/eventually.js';
import { call } from '../support/http.js';
import { runCli } from '../harness/process.js';

const CHLOE = '04C1C1C1C1C1C1';
const ANA = '04A1A1A1A1A1A1';
const DAY_MS = 86_400_000;
const cleanups = cleanupsAfterEach();

/** The system clock, shifted by hand: the hub lives weeks ahead while the site keeps real time. */
function shiftedClock(): Clock & { shift: (ms: number) => void } {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
    setInterval: (fn, ms) => systemClock.setInterval(fn, ms),
    shift: (ms) => void (offset += ms),
  };
}

/** The month before last, `YYYY-MM`: closable now, whatever the day. */
function monthBeforeLast(now: number): string {
  const d = new Date(now);
  const m = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 2, 1));
  return `${m.getUTCFullYear()}-${String(m.getUTCMonth() + 1).padStart(2, '0')}`;
}

const tap = async (site: RunningEdge, uid: string) => {
  const r = (await call('POST', `${site.url}/simulate/tap`, { reader: 'front-in', uid })).json as {
    granted: boolean;
    reason: string;
  };
  // Out again, so that the next entry is one.
  if (r.granted) await call('POST', `${site.url}/simulate/tap`, { reader: 'front-out', uid });
  return r;
};

describe('an overdue invoice at the door, over MQTT', () => {
  it("an employer's staff is refused payment_overdue once past the limit, let in once paid, by an override, once credited", async () => {
    const clock = shiftedClock();
    const { hub, mqttUrl, apiUrl } = await startTestHub(cleanups, { clock });
    const site = await startNetworkSite(cleanups, 'murat', mqttUrl, hub.publicKeyPem);
    let auth: AuthHeaders = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
    const api = async (method: string, path: string, body?: unknown) => {
      const r = await call(method, `${apiUrl}${path}`, body, auth);
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
      return r.json;
    };

    await api('PUT', '/directory/plans/flex', { name: 'Flex', access: 'always' });
    await api('PUT', '/directory/employers/acme', { name: 'Acme SA' });
    await api('PUT', '/directory/members/chloe', { name: 'Chloé Martin', plan: 'flex', employer: 'acme' });
    await api('PUT', '/directory/members/ana', { name: 'Ana Lopez', plan: 'flex' });
    await api('PUT', `/directory/badges/${CHLOE}`, { member: 'chloe' });
    await api('PUT', `/directory/badges/${ANA}`, { member: 'ana' });
    await api('PUT', '/billing/prices', {
      plans: {
        flex: {
          kind: 'subscription',
          monthlyCents: 10_000,
          daysPerWeek: 5,
          extraDay: { cents: 1_000 },
          vatPercent: 20,
        },
      },
    });
    await eventually(async () => (await tap(site, CHLOE)).granted, 'Chloé is let in at Murat');
    const settled = site.edge.store.events.lastSeq(); // taps before it may have come before the directory

    // A month closes: Acme's invoice and Ana's, due 30 days later. Ana pays hers.
    const period = monthBeforeLast(clock.now());
    await api('POST', `/billing/periods/${period}/close`);
    const { invoices } = (await api('GET', '/billing/invoices/status')) as {
      invoices: Array<{ number: string; account: string; dueCents: number }>;
    };
    const acme = invoices.find((i) => i.account === 'employer:acme');
    const ana = invoices.find((i) => i.account === 'member:ana');
    const today = new Date(clock.now()).toISOString().slice(0, 10);
    await api('POST', '/billing/payments', {
      invoice: ana?.number,
      date: today,
      amountCents: ana?.dueCents,
      method: 'card',
    });
    await api('PUT', '/billing/overdue-policy', { suspendAfterDaysOverdue: 5 });
    expect((await tap(site, CHLOE)).granted).toBe(true); // not due yet

    // Six weeks later at the hub: Acme's invoice is about 12 days overdue, more than 5.
    clock.shift(42 * DAY_MS);
    auth = await loginOver(apiUrl, TEST_ADMIN.username, TEST_ADMIN.password);
    await hub.payments.checkHolds(); // the hourly check, now
    await eventually(async () => (await tap(site, CHLOE)).reason === 'payment_overdue', 'Chloé is refused at the door');
    expect(await tap(site, ANA)).toEqual(expect.objectContaining({ granted: true })); // paid her own
    expect(site.edge.store.directory.getMember('chloe')?.billingHold).toBe(true);

    // Acme pays: the hold is lifted everywhere.
    const paid = (await api('POST', '/billing/payments', {
      invoice: acme?.number,
      date: new Date(clock.now()).toISOString().slice(0, 10),
      amountCents: acme?.dueCents,
      method: 'transfer',
    })) as { id: string };
    await eventually(async () => (await tap(site, CHLOE)).granted, 'Chloé is let in once Acme paid');
    expect(site.edge.store.directory.getMember('chloe')?.billingHold).toBeUndefined();

    // The payment was a mistake: held again; an operator lets Acme in all the same.
    await api('DELETE', `/billing/payments/${paid.id}`);
    await eventually(async () => (await tap(site, CHLOE)).reason === 'payment_overdue', 'held again');
    await api('PUT', '/billing/holds/employer:acme', { override: 'lift', reason: 'pays on Friday, agreed' });
    await eventually(async () => (await tap(site, CHLOE)).granted, 'Chloé is let in by the override');

    // The override ends: held again. A credit note cancelling the invoice lifts the hold at once,
    // without waiting for the hourly check.
    await api('PUT', '/billing/holds/employer:acme', { override: null, reason: 'Friday came, nothing paid' });
    await eventually(async () => (await tap(site, CHLOE)).reason === 'payment_overdue', 'held once the override ends');
    await api('POST', `/billing/invoices/${acme?.number}/credit-note`, { reason: 'Facturé par erreur' });
    await eventually(async () => (await tap(site, CHLOE)).granted, 'Chloé is let in once the invoice is credited');
    expect(site.edge.store.directory.getMember('chloe')?.billingHold).toBeUndefined();

    // The refusals since the directory first arrived reached the hub, each with its reason.
    await eventually(
      async () => ((await hub.store.progress('murat'))?.contiguous ?? 0) >= site.edge.store.events.lastSeq(),
      'the hub holds the site’s events',
    );
    const refused = (await hub.store.events('murat', settled, 1000)).filter((e) => e.event.type === 'access.denied');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((e) => (e.event.data as { reason: string }).reason === 'payment_overdue')).toBe(true);
    expect(await heldAccounts(hub)).toEqual([]);
  });
});

describe('tessera billing payments import', () => {
  it('sends a statement file to the hub: a dry run, then recorded once, and a file in Latin-1 refused before sending', async () => {
    const { hub, apiUrl, auth } = await startTestHub(cleanups);
    const put = (path: string, body: unknown) => call('PUT', `${apiUrl}${path}`, body, auth);
    await put('/directory/plans/flex', { name: 'Flex', access: 'always' });
    await put('/directory/members/ana', { name: 'Ana Lopez', plan: 'flex' });
    await put('/billing/prices', {
      plans: {
        flex: {
          kind: 'subscription',
          monthlyCents: 10_000,
          daysPerWeek: 5,
          extraDay: { cents: 1_000 },
          vatPercent: 20,
        },
      },
    });
    expect(
      (await call('POST', `${apiUrl}/billing/periods/${monthBeforeLast(Date.now())}/close`, undefined, auth)).status,
    ).toBe(200);
    const [invoice] = await hub.store.db.column<string>('SELECT number FROM billing_invoices');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-statement-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const today = new Date().toISOString().slice(0, 10).split('-').reverse().join('/');
    const file = join(dir, 'releve.csv');
    writeFileSync(
      file,
      `\ufeffDate;Libellé;Montant\r\n${today};VIR MME LOPEZ FACT ${invoice};120,00\r\n${today};VIR X;5,00\r\n`,
    );
    const run = (...extra: string[]) =>
      runCli(['billing', 'payments', 'import', file, '--url', apiUrl, '--user', 'admin', ...extra], {
        TESSERA_PASSWORD: TEST_ADMIN.password,
      });

    const dry = await run('--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'dry run, nothing recorded: would record 1 payment(s) from 1 of 2 line(s); 1 unmatched',
    );
    expect(dry.stdout).toContain('unmatched line 3: 5.00 on');
    expect(await hub.store.db.value('SELECT count(*) FROM billing_payments')).toBe(0);
    const done = await run();
    expect(done.stdout).toContain(`recorded 1 payment(s) from 1 of 2 line(s)`);
    expect(done.stdout).toContain(
      `line 2: 120.00 on ${new Date().toISOString().slice(0, 10)} -> ${invoice} 120.00 (by number)`,
    );
    expect((await run()).stdout).toContain('recorded 0 payment(s) from 0 of 2 line(s); 1 unmatched, 1 left aside');
    // --json: the hub's answer as one object.
    const json = await run('--dry-run', '--json');
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, lines: 2, recorded: [], unmatched: [{ line: 3 }] });
    expect(await hub.store.db.value('SELECT count(*) FROM billing_payments')).toBe(1);

    writeFileSync(file, Buffer.concat([Buffer.from('Date;Libell'), Buffer.from([0xe9]), Buffer.from(';Montant\n')]));
    const latin1 = await run();
    expect(latin1.code).toBe(1);
    expect(latin1.stderr).toContain('the statement is not UTF-8 (line 1)');
    expect((await runCli(['billing', 'payments', 'import', file])).code).toBe(64);
  });
});

const heldAccounts = (hub: Hub) => hub.store.db.column<string>('SELECT account FROM access_holds');
