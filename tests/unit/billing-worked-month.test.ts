import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PRICE_LIST } from '../../cloud-sync/billing/prices.js';
import { ratePeriod } from '../../cloud-sync/billing/rate.js';
import { billedEventOf } from '../../cloud-sync/billing/visits.js';
import type { PackPurchase } from '../../cloud-sync/billing/pack-rating.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { Invoice, InvoiceLine } from '../../shared/protocol/api/hub-billing.js';
import type { Member } from '../../shared/protocol/directory.js';
import { topics } from '../../shared/protocol/topics.js';
import { login, signedInHub, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';
import { EXAMPLE_PLANS, RATING_ZONES, SiteLog } from './billing-fixtures.js';
import { TEST_SELLER } from '../harness/billing-parties.js';

/**
 * docs/billing.md "A month worked by hand": the month is built here through a real hub (its
 * HTTP API, the sites' event batches as ingest receives them, the real closes), and every figure
 * of the section's tables is read back from the document and compared with what the hub issued.
 * Editing the document alone, or the billing code alone, fails this test.
 */

const DOC = new URL('../../docs/billing.md', import.meta.url);
const SECTION = '## A month worked by hand';

// ---------------------------------------------------------------------------------------------
// The month, as the section tells it.

const SELLER = { ...TEST_SELLER, shareCapital: '10 000 €', rcs: 'RCS Clermont-Ferrand 732 829 320' };
const BUYERS = {
  'employer:acme': {
    kind: 'business',
    name: 'Acme SA',
    siren: '542107651',
    address: { lines: ['1 place de Jaude'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
    paymentTermsDays: 45,
  },
  'employer:beta': {
    kind: 'business',
    name: 'Beta SARL',
    siren: '512345679',
    address: { lines: ['4 rue du Dôme'], postcode: '67000', city: 'Strasbourg', country: 'FR' },
  },
  'member:ana': {
    kind: 'consumer',
    name: 'Ana Martin',
    address: { lines: ['8 rue Gras'], postcode: '63000', city: 'Clermont-Ferrand', country: 'FR' },
  },
};
const MEMBERS: Member[] = [
  {
    id: 'chloe',
    name: 'Chloé Durand',
    role: 'member',
    status: 'active',
    plan: 'reichstett-2-days',
    employer: 'acme',
    locker: { bank: 'reichstett-a', number: 7 },
  },
  { id: 'ben', name: 'Ben Weber', role: 'member', status: 'active', plan: 'murat-week', employer: 'acme' },
  {
    id: 'dan',
    name: 'Dan Roth',
    role: 'member',
    status: 'active',
    plan: 'murat-unlimited',
    employer: 'beta',
    validFrom: '2026-11-18',
  },
  { id: 'eve', name: 'Eve Klein', role: 'member', status: 'active', plan: 'murat-day', employer: 'beta' },
  { id: 'ana', name: 'Ana Martin', role: 'member', status: 'active', plan: 'murat-day' },
];
const PLANS_USED = ['murat-day', 'murat-week', 'murat-unlimited', 'reichstett-2-days'];

/** When each batch reaches the hub (UTC). */
const REICHSTETT_SENDS = '2026-11-25T07:00:00Z'; // its link is cut from then until 3 December
const MURAT_SENDS = '2026-11-27T08:30:00Z'; // Eve's check-in of 09:00 is sent; the link is cut just after
const BACK_ONLINE = '2026-12-03T09:00:00Z';
const NOVEMBER_CLOSE = '2026-12-02T09:00:00Z';
const DECEMBER_CLOSE = '2027-01-02T09:00:00Z';

/** A visit (and what was consumed during it) as the section's table lists it. */
interface Visit {
  date: string;
  site: 'murat' | 'reichstett';
  member: string;
  time: string;
  minutes: number;
  used?: [item: string, quantity: number];
  /** `all`: sent only when the site's link is back (3 December); `out`: the check-out only. */
  late?: 'all' | 'out';
}

const VISITS: Visit[] = [
  { date: '2026-11-02', site: 'reichstett', member: 'chloe', time: '09:00', minutes: 480 },
  { date: '2026-11-02', site: 'murat', member: 'eve', time: '09:00', minutes: 480 },
  { date: '2026-11-03', site: 'murat', member: 'ana', time: '09:00', minutes: 480, used: ['coffee', 2] },
  { date: '2026-11-03', site: 'murat', member: 'ben', time: '09:00', minutes: 480 },
  { date: '2026-11-04', site: 'murat', member: 'chloe', time: '09:00', minutes: 480 },
  { date: '2026-11-05', site: 'murat', member: 'ana', time: '09:00', minutes: 120 },
  { date: '2026-11-05', site: 'murat', member: 'ben', time: '09:00', minutes: 480 },
  { date: '2026-11-06', site: 'reichstett', member: 'chloe', time: '09:00', minutes: 480 },
  { date: '2026-11-09', site: 'murat', member: 'ana', time: '10:00', minutes: 480 },
  { date: '2026-11-09', site: 'reichstett', member: 'ben', time: '09:00', minutes: 480 },
  { date: '2026-11-10', site: 'reichstett', member: 'chloe', time: '09:00', minutes: 480 },
  { date: '2026-11-10', site: 'murat', member: 'eve', time: '09:00', minutes: 180 },
  { date: '2026-11-11', site: 'murat', member: 'ben', time: '09:00', minutes: 480 },
  { date: '2026-11-11', site: 'reichstett', member: 'ana', time: '09:00', minutes: 480 },
  { date: '2026-11-12', site: 'reichstett', member: 'chloe', time: '09:00', minutes: 480, used: ['print-page', 30] },
  { date: '2026-11-16', site: 'murat', member: 'ana', time: '09:00', minutes: 480 },
  { date: '2026-11-17', site: 'reichstett', member: 'chloe', time: '09:00', minutes: 480 },
  { date: '2026-11-18', site: 'murat', member: 'dan', time: '09:00', minutes: 480 },
  { date: '2026-11-19', site: 'murat', member: 'dan', time: '09:00', minutes: 480, used: ['coffee', 4] },
  { date: '2026-11-20', site: 'murat', member: 'ana', time: '09:00', minutes: 60 },
  { date: '2026-11-23', site: 'murat', member: 'dan', time: '09:00', minutes: 480 },
  { date: '2026-11-24', site: 'reichstett', member: 'dan', time: '09:00', minutes: 480 },
  { date: '2026-11-26', site: 'reichstett', member: 'ana', time: '09:00', minutes: 480, late: 'all' },
  { date: '2026-11-27', site: 'murat', member: 'eve', time: '09:00', minutes: 150, late: 'out' },
  { date: '2026-11-30', site: 'murat', member: 'ben', time: '09:00', minutes: 480, late: 'all' },
];

/**
 * Each site's events in seq order, split where its link was cut: a site sends in seq order, so
 * once one event waits for the link, every later one does.
 */
function siteLogs() {
  return (['murat', 'reichstett'] as const).map((site) => {
    const log = new SiteLog(site);
    let inTime: number | undefined;
    for (const v of VISITS.filter((x) => x.site === site)) {
      if (v.late === 'all') inTime ??= log.events.length;
      log.visit(v.member, v.date, v.time, v.minutes);
      if (v.late === 'out') inTime ??= log.events.length - 1;
      if (v.used) log.use(v.member, v.date, v.used[0], v.used[1]);
    }
    return { log, inTime: inTime ?? log.events.length, sends: site === 'murat' ? MURAT_SENDS : REICHSTETT_SENDS };
  });
}

const nameOf = (id: string) => MEMBERS.find((m) => m.id === id)?.name ?? id;
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const hhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/** A visit as a row of the section's table of events. */
function eventRow(v: Visit): string[] {
  const [h, m] = v.time.split(':').map(Number) as [number, number];
  return [
    v.date,
    WEEKDAYS[new Date(`${v.date}T12:00:00Z`).getUTCDay()] ?? '',
    v.site,
    nameOf(v.member),
    v.time,
    hhmm(h * 60 + m + v.minutes),
    String(v.minutes),
    v.used ? `${v.used[1]} ${v.used[0]}` : '',
    v.late === 'all'
      ? '3 December (late)'
      : v.late === 'out'
        ? 'check-in in time, check-out 3 December (late)'
        : 'in time',
  ];
}

// ---------------------------------------------------------------------------------------------
// The hub.

interface Built {
  invoices: Invoice[];
  creditNotes: Invoice[];
  packs: PackPurchase[];
  /** Each event with the instant the hub received it. */
  received: Array<{ event: SiteLog['events'][number]['event']; at: number }>;
  novemberCutoff: number;
}

async function buildTheMonth(): Promise<Built> {
  const clock = new ManualClock('2026-11-01T08:00:00Z');
  const { hub, admin } = await signedInHub(silent, clock);
  try {
    let headers: AuthHeaders = admin;
    /** Moves the clock, and signs in again (a session does not last a month). */
    const moveTo = async (iso: string) => {
      clock.advanceTo(iso);
      headers = await login(hub.api, TEST_ADMIN.username, TEST_ADMIN.password);
    };
    const call = async (method: 'GET' | 'PUT' | 'POST', url: string, payload?: object, status?: number) => {
      const r = await hub.api.inject({ method, url, headers, ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status ?? (method === 'POST' ? 201 : 200));
      return r;
    };
    for (const [id, name] of [
      ['murat', 'Murat'],
      ['reichstett', 'Reichstett'],
    ] as const)
      await call('PUT', `/directory/sites/${id}`, { name, timeZone: 'Europe/Paris', capacity: 20 });
    for (const { id, ...plan } of EXAMPLE_PLANS.filter((p) => PLANS_USED.includes(p.id)))
      await call('PUT', `/directory/plans/${id}`, plan);
    await call('PUT', '/directory/employers/acme', { name: 'Acme SA' });
    await call('PUT', '/directory/employers/beta', { name: 'Beta SARL' });
    for (const { id, ...m } of MEMBERS) await call('PUT', `/directory/members/${id}`, m);
    await call('PUT', '/billing/prices', EXAMPLE_PRICE_LIST);
    await call('PUT', '/billing/seller', SELLER);
    for (const [account, buyer] of Object.entries(BUYERS)) await call('PUT', `/billing/buyers/${account}`, buyer);

    await moveTo('2026-11-09T09:30:00Z');
    await call('POST', '/billing/packs', { member: 'ana', pack: 'murat-10-days', date: '2026-11-09' });

    const received: Built['received'] = [];
    const t = topics();
    /** A site's batch of events, as its stream sends it, committed by ingest at the clock's time. */
    const send = async (site: string, events: ReadonlyArray<SiteLog['events'][number]>) => {
      hub.ingest.onMessage(
        t.events(site),
        Buffer.from(JSON.stringify({ v: 1, site, events: events.map((e) => e.event) })),
      );
      await hub.ingest.commitGroup();
      for (const e of events) received.push({ event: e.event, at: clock.now() });
    };
    const logs = siteLogs();
    for (const { log, inTime, sends } of [...logs].sort((a, b) => (a.sends < b.sends ? -1 : 1))) {
      await moveTo(sends);
      await send(log.site, log.events.slice(0, inTime));
    }
    await moveTo(NOVEMBER_CLOSE);
    await call('POST', '/billing/periods/2026-11/close', undefined, 200);
    const novemberCutoff = clock.now() - 60_000;
    await moveTo(BACK_ONLINE);
    for (const { log, inTime } of logs) await send(log.site, log.events.slice(inTime));
    await moveTo(DECEMBER_CLOSE);
    await call('POST', '/billing/periods/2026-12/close', undefined, 200);

    const invoices: Invoice[] = [];
    for (const month of ['2026-11', '2026-12'])
      invoices.push(
        ...(await call('GET', `/billing/periods/${month}/invoices`)).json<{ invoices: Invoice[] }>().invoices,
      );
    const creditNotes = (await call('GET', '/billing/periods/2026-11/credit-notes')).json<{ creditNotes: Invoice[] }>()
      .creditNotes;
    const packs = (await call('GET', '/billing/packs?member=ana')).json<{ purchases: PackPurchase[] }>().purchases;
    for (const month of ['2026-11', '2026-12'])
      expect((await call('GET', `/billing/periods/${month}/verify`)).json()).toMatchObject({ identical: true });
    return { invoices, creditNotes, packs, received, novemberCutoff };
  } finally {
    await hub.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// The section, read back.

interface Table {
  header: string[];
  rows: string[][];
}

interface DocBlock {
  heading: string;
  tables: Table[];
}

/** The section of docs/billing.md, from its heading to the next `## `. */
function section(): string {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf(`\n${SECTION}\n`);
  expect(start, `docs/billing.md has a section "${SECTION}"`).toBeGreaterThan(-1);
  const end = text.indexOf('\n## ', start + SECTION.length + 2);
  return text.slice(start + 1, end === -1 ? undefined : end);
}

const cellsOf = (line: string) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/** The text's blocks, each from a heading (`###` or `####`) to the next, with its tables. */
function blocksOf(text: string): DocBlock[] {
  const blocks: DocBlock[] = [];
  let current: DocBlock = { heading: '', tables: [] };
  let table: Table | undefined;
  for (const line of text.split('\n')) {
    if (/^#{2,4} /.test(line)) {
      blocks.push(current);
      current = { heading: line, tables: [] };
      table = undefined;
    } else if (line.startsWith('|')) {
      if (!table) {
        table = { header: cellsOf(line), rows: [] };
        current.tables.push(table);
      } else if (!/^\|[\s:|-]+\|$/.test(line.trim())) table.rows.push(cellsOf(line));
    } else table = undefined;
  }
  blocks.push(current);
  return blocks;
}

/** The one table of `block` whose first column is named `first`. */
function tableOf(block: DocBlock, first: string): Table {
  const found = block.tables.filter((t) => t.header[0] === first);
  expect(found, `${block.heading}: one table starting with "${first}"`).toHaveLength(1);
  return found[0] as Table;
}

const euros = (cents: number) =>
  `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;
const rate = (percent: number) => `${percent} %`;
const plain = (cell: string) => cell.replace(/`/g, '');
const orDash = (value: string | null | undefined) => value ?? '—';
const daysBetween = (from: string, to: string) => (Date.parse(to) - Date.parse(from)) / 86_400_000;

// ---------------------------------------------------------------------------------------------
// The arithmetic written in the section: each "worked out" cell is checked as a calculator would.

/** `a × b / c + d − e %`: × and / before + and −, `n %` is n / 100. */
function evaluate(expr: string): number {
  const terms = expr
    .replace(/−/g, '-')
    .split(/(?=[+-])/)
    .map((t) => t.trim())
    .filter((t) => t !== '');
  let total = 0;
  for (const term of terms) {
    const sign = term.startsWith('-') ? -1 : 1;
    const body = term.replace(/^[+-]\s*/, '');
    let value = 1;
    let op = '×';
    for (const token of body.split(/\s*([×/])\s*/)) {
      if (token === '×' || token === '/') {
        op = token;
        continue;
      }
      const m = /^(\d+(?:\.\d+)?)\s*(%?)$/.exec(token);
      if (!m) throw new Error(`cannot read "${token}" in "${expr}"`);
      const n = Number(m[1]) / (m[2] === '%' ? 100 : 1);
      value = op === '×' ? value * n : value / n;
    }
    total += sign * value;
  }
  return total;
}

/** Rounded half away from zero to the cent, as billing rounds VAT and pro rata (positive here). */
const toCents = (value: number) => Math.sign(value) * Math.floor(Math.abs(value) * 100 + 0.5 + 1e-9);

/**
 * Checks each `expression = result [→ rounded]` of a cell (`;` between them) and returns the
 * final figure of each, in cents.
 */
function workedOut(cell: string): number[] {
  return cell.split(';').map((step) => {
    const m = /^(.+?)=\s*(\d+\.\d+)\s*(?:→\s*(\d+\.\d{2}))?$/.exec(plain(step).trim());
    expect(m, `"${step}" reads as "expression = result [→ rounded]"`).not.toBeNull();
    const [, expr = '', result = '', rounded] = m ?? [];
    const exact = evaluate(expr);
    if (rounded === undefined) expect(Math.abs(exact - Number(result)), step).toBeLessThan(1e-9);
    else {
      // A result written with a third decimal, the cents rounded from the exact value.
      expect(Math.abs(exact - Number(result)), step).toBeLessThan(0.0005 + 1e-9);
      expect(toCents(exact), step).toBe(Math.round(Number(rounded) * 100));
    }
    return Math.round(Number(rounded ?? result) * 100);
  });
}

// ---------------------------------------------------------------------------------------------
// The checks.

/** What the section's table of a document's lines says of one line. */
const LINE_COLUMNS = [
  'description (as printed)',
  'member',
  'site',
  'adjusts',
  'from',
  'to',
  'qty',
  'unit price',
  'excl. VAT',
  'VAT rate',
  'VAT',
  'worked out',
];
const lineRow = (l: InvoiceLine) => [
  l.description,
  orDash(l.memberName),
  orDash(l.site),
  orDash(l.adjusts),
  orDash(l.from),
  orDash(l.to),
  String(l.quantity),
  euros(l.unitCents),
  euros(l.amountCents),
  rate(l.vatPercent),
  euros(l.vatCents),
];

const headingOf = (d: Invoice) =>
  `#### ${d.type === 'credit-note' ? 'Credit note' : 'Invoice'} ${d.number ?? ''}: ${d.account.name}`;
const customerOf = (d: Invoice) => `${d.account.name} (${d.account.kind}:${d.account.id})`;

describe('docs/billing.md: a month worked by hand', () => {
  let built: Built;
  let blocks: DocBlock[];
  beforeAll(async () => {
    built = await buildTheMonth();
    blocks = blocksOf(section());
  });

  const documents = () => [...built.invoices, ...built.creditNotes];
  const blockOf = (d: Invoice) => {
    const found = blocks.filter((b) => b.heading === headingOf(d));
    expect(found, headingOf(d)).toHaveLength(1);
    return found[0] as DocBlock;
  };

  it("names the customers, their terms and the members billed to them, with each member's plan, as the hub was set up", () => {
    const tables = blocks.flatMap((b) => b.tables);
    const customers = tables.filter((t) => t.header[0] === 'customer (account)');
    expect(customers).toHaveLength(1);
    const accountOf = (m: Member) => (m.employer ? `employer:${m.employer}` : `member:${m.id}`);
    expect(customers[0]?.rows.map((r) => r.map(plain))).toEqual(
      Object.entries(BUYERS).map(([account, b]) => {
        const siren = 'siren' in b ? `, SIREN ${b.siren.replace(/(\d{3})(?=\d)/g, '$1 ')}` : '';
        const terms = 'paymentTermsDays' in b ? `${b.paymentTermsDays} days` : "30 days (the seller's)";
        const billed = MEMBERS.filter((m) => accountOf(m) === account).map((m) => m.name);
        return [
          `${b.name} (${account})`,
          `${b.kind}${siren}`,
          terms,
          account.startsWith('member:') ? 'herself' : billed.join(', '),
        ];
      }),
    );
    const members = tables.filter((t) => t.header[0] === 'member' && t.header[1] === 'plan');
    expect(members).toHaveLength(1);
    expect(members[0]?.rows.map((r) => [r[0], plain(r[1] ?? '')])).toEqual(MEMBERS.map((m) => [m.name, m.plan]));
  });

  it('lists the events the hub received, as the sites sent them', () => {
    const events = blocks.flatMap((b) => b.tables).filter((t) => t.header[0] === 'date');
    expect(events).toHaveLength(1);
    expect(events[0]?.header).toEqual([
      'date',
      'day',
      'site',
      'member',
      'in',
      'out',
      'minutes',
      'used',
      'reached the hub',
    ]);
    expect(events[0]?.rows).toEqual(VISITS.map(eventRow));
    // Every event sent once: in time or when the link came back.
    expect(built.received).toHaveLength(siteLogs().reduce((n, s) => n + s.log.events.length, 0));
  });

  it('shows every invoice and credit note the two closes issued, and no other', () => {
    const documented = blocks.filter((b) => /^#### (Invoice|Credit note) /.test(b.heading)).map((b) => b.heading);
    expect(documented).toEqual(documents().map(headingOf));
    expect(built.invoices.map((i) => i.number)).toEqual([
      '2026-000001',
      '2026-000002',
      '2026-000003',
      '2026-000004',
      '2026-000005',
      '2026-000006',
    ]);
    expect(built.creditNotes.map((c) => c.number)).toEqual(['AV-2027-000001']);
  });

  it('gives each its number, customer, dates and service period (and the invoice a credit note corrects)', () => {
    for (const d of documents()) {
      const block = blockOf(d);
      const period = `${d.servicePeriod?.from ?? ''} to ${d.servicePeriod?.to ?? ''}`;
      if (d.type === 'credit-note') {
        const head = tableOf(block, 'number');
        expect(head.header).toEqual(['number', 'customer', 'issued', 'corrects', 'service period']);
        expect(head.rows.map((r) => r.map(plain))).toEqual([
          [
            d.number,
            customerOf(d),
            d.issueDate,
            `${d.corrects?.number ?? ''} of ${d.corrects?.issueDate ?? ''}`,
            period,
          ],
        ]);
        expect(d.dueDate).toBeUndefined();
      } else {
        const head = tableOf(block, 'number');
        expect(head.header).toEqual(['number', 'customer', 'issued', 'due', 'service period']);
        const terms = daysBetween(d.issueDate ?? '', d.dueDate ?? '');
        expect(head.rows.map((r) => r.map(plain))).toEqual([
          [d.number, customerOf(d), d.issueDate, `${d.dueDate ?? ''} (${terms} days)`, period],
        ]);
      }
    }
  });

  it('shows every line as printed: description, member, site, month adjusted, dates, quantity, prices, VAT', () => {
    for (const d of documents()) {
      const lines = tableOf(blockOf(d), 'description (as printed)');
      expect(lines.header, headingOf(d)).toEqual(LINE_COLUMNS);
      expect(
        lines.rows.map((r) => r.slice(0, -1).map(plain)),
        headingOf(d),
      ).toEqual(d.lines.map(lineRow));
    }
  });

  it('quotes the mentions of the credit note as issued', () => {
    const text = section().replace(/\s+/g, ' ');
    for (const note of built.creditNotes)
      for (const mention of note.mentions ?? []) expect(text).toContain(`"${mention}"`);
  });

  it('works each line out by hand: quantity × unit price, then its VAT rounded to the cent', () => {
    for (const d of documents())
      for (const row of tableOf(blockOf(d), 'description (as printed)').rows) {
        const [qty, unit, amount, vatRate, vat, how] = row.slice(6).map(plain) as [
          string,
          string,
          string,
          string,
          string,
          string,
        ];
        expect(Math.round(Number(qty) * Number(unit) * 100), row[0]).toBe(Math.round(Number(amount) * 100));
        const steps = workedOut(how);
        expect(steps, row[0]).toEqual([Math.round(Number(amount) * 100), Math.round(Number(vat) * 100)]);
        // The VAT is worked from the line's amount at its rate.
        expect(plain(how).split(';')[1]?.trim(), row[0]).toMatch(
          new RegExp(`^${amount} × ${vatRate.replace('.', '\\.')} =`),
        );
      }
  });

  it("lists what the late events changed in November's lines, and the document each difference went on", () => {
    const table = blocks.flatMap((b) => b.tables).filter((t) => t.header[0] === 'member' && t.header[1] === 'site');
    expect(table).toHaveLength(1);
    expect(table[0]?.header).toEqual([
      'member',
      'site',
      'kind',
      'unit price',
      'as closed',
      'with the late events',
      'difference',
      'on',
      'because',
    ]);
    const november = built.invoices.filter((i) => i.period === '2026-11');
    const rows = [...built.invoices.filter((i) => i.period === '2026-12'), ...built.creditNotes].flatMap((d) =>
      d.lines
        .filter((l) => l.adjusts === '2026-11')
        .map((l) => {
          // A credit note's lines are what was taken off, in positive amounts.
          const sign = d.type === 'credit-note' ? -1 : 1;
          const closed = november
            .flatMap((i) => i.lines)
            .filter(
              (c) => c.member === l.member && c.site === l.site && c.kind === l.kind && c.unitCents === l.unitCents,
            )
            .reduce((n, c) => n + c.quantity, 0);
          return [
            orDash(l.memberName),
            orDash(l.site),
            l.kind,
            euros(l.unitCents),
            String(closed),
            String(closed + sign * l.quantity),
            `${sign < 0 ? '−' : '+'}${euros(l.amountCents)}`,
            d.number ?? '',
          ];
        }),
    );
    expect(table[0]?.rows.map((r) => r.slice(0, -1))).toEqual(rows);
  });

  it('totals each: the base and VAT of each rate, the totals excluding and including VAT, each worked out', () => {
    for (const d of documents()) {
      const block = blockOf(d);
      const vat = tableOf(block, 'VAT rate');
      expect(vat.header).toEqual(['VAT rate', 'base excl. VAT', 'VAT', 'worked out']);
      expect(vat.rows.map((r) => r.slice(0, 3))).toEqual(
        [...d.vat]
          .sort((a, b) => b.vatPercent - a.vatPercent)
          .map((v) => [rate(v.vatPercent), euros(v.baseCents), euros(v.vatCents)]),
      );
      for (const [, base, tax, how] of vat.rows)
        expect(workedOut(how ?? '')).toEqual([Math.round(Number(base) * 100), Math.round(Number(tax) * 100)]);
      const totals = tableOf(block, 'total excl. VAT');
      expect(totals.header).toEqual(['total excl. VAT', 'VAT', 'total incl. VAT', 'worked out']);
      expect(totals.rows.map((r) => r.slice(0, 3))).toEqual([
        [euros(d.subtotalCents), euros(d.vatCents), euros(d.totalCents)],
      ]);
      expect(workedOut(totals.rows[0]?.[3] ?? '').at(-1)).toBe(d.totalCents);
    }
  });

  it("for each month, its invoices plus later adjustments less credit notes are the rating of all its events, as the section's last table says", () => {
    const members = MEMBERS;
    const events = built.received.flatMap((r) => billedEventOf(r.event, r.at) ?? []);
    const table = blocks.flatMap((b) => b.tables).filter((t) => t.header[0] === 'month');
    expect(table).toHaveLength(1);
    expect(table[0]?.header).toEqual([
      'month',
      'its invoices',
      'adjusted on later invoices',
      'credited',
      'rating of all its events',
      'worked out',
    ]);
    const rows: string[][] = [];
    for (const period of ['2026-11', '2026-12']) {
      const rated = ratePeriod({
        period,
        prices: EXAMPLE_PRICE_LIST,
        members,
        employers: [
          { id: 'acme', name: 'Acme SA' },
          { id: 'beta', name: 'Beta SARL' },
        ],
        plans: EXAMPLE_PLANS,
        events,
        zones: RATING_ZONES,
        packs: { purchases: built.packs, history: [], cutoffs: new Map([['2026-11', built.novemberCutoff]]) },
      });
      const sum = (lines: readonly InvoiceLine[]) => lines.reduce((s, l) => s + l.amountCents, 0);
      const own = sum(
        built.invoices.filter((i) => i.period === period).flatMap((i) => i.lines.filter((l) => l.adjusts === null)),
      );
      const adjusted = sum(built.invoices.flatMap((i) => i.lines.filter((l) => l.adjusts === period)));
      const credited = sum(built.creditNotes.flatMap((c) => c.lines.filter((l) => l.adjusts === period)));
      const rating = rated.lines.reduce((s, l) => s + l.amountCents, 0);
      expect(own + adjusted - credited, period).toBe(rating);
      rows.push([period, euros(own), euros(adjusted), euros(credited), euros(rating)]);
    }
    expect(table[0]?.rows.map((r) => r.slice(0, 5))).toEqual(rows);
    for (const r of table[0]?.rows ?? []) expect(workedOut(r[5] ?? '').at(-1)).toBe(Math.round(Number(r[4]) * 100));
  });
});
