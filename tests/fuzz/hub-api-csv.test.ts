import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planImport } from '../../cloud-sync/hub/admin/member-import.js';
import { parseMembersCsv } from '../../cloud-sync/hub/admin/members-csv.js';
import type { Account } from '../../cloud-sync/hub/auth/account.js';
import { expectRefusal, type HubRig, startHubRig } from './hub-rig.js';
import { byteDamage, damage, garbage, must, prototypeIsClean, weird } from './kit.js';
import { fuzz, inputs } from '../support/fuzz.js';

const EXAMPLE = readFileSync('docs/examples/members.csv', 'utf8');
const GRID = EXAMPLE.trim()
  .split('\n')
  .map((line) =>
    line
      .match(/("[^"]*"|[^,]*)(,|$)/g)!
      .map((c) => c.replace(/,$/, ''))
      .slice(0, 10),
  );
/** Some inputs through app.inject, the rest through the calls the route makes with the file's text. */
const [THROUGH_HTTP, DIRECT] = [
  inputs(1_000, { full: 10_000, postgres: 500 }),
  inputs(6_000, { full: 90_000, postgres: 3_000 }),
];

type CellEdit =
  | { op: 'cell' | 'header'; row: number; col: number; text: string }
  | { op: 'drop-col' | 'dup-row' | 'drop-row' | 'raw'; row: number; col: number; text: string };

const cellText = fc.oneof(
  weird.map((w) => (typeof w === 'string' ? w : JSON.stringify(w))),
  fc.constantFrom(
    '=HYPERLINK("x")',
    "'=1+1",
    '"',
    '""',
    'a,b',
    'line\nbreak',
    '\r',
    '\uFEFF',
    'member_id',
    '04A1A1A1A1A1A1 04A1A1A1A1A1A1',
    'ntag424',
    'x'.repeat(5000),
  ),
);
const edit: fc.Arbitrary<CellEdit> = fc.record({
  op: fc.constantFrom('cell', 'cell', 'cell', 'header', 'drop-col', 'dup-row', 'drop-row', 'raw'),
  row: fc.nat(),
  col: fc.nat(),
  text: cellText,
}) as fc.Arbitrary<CellEdit>;

const quote = (cell: string) =>
  /[",\n\r]/.test(cell) && !/^".*"$/s.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;

/** The example file with cells changed, columns dropped, rows duplicated or removed; `raw` writes a cell unquoted. */
function edited(edits: CellEdit[]): string {
  const grid = GRID.map((r) => [...r]);
  const raw = new Set<string>();
  for (const e of edits) {
    const row = e.op === 'header' ? 0 : e.row % grid.length;
    const col = e.col % (grid[0]?.length ?? 1);
    if (e.op === 'cell' || e.op === 'header' || e.op === 'raw') {
      grid[row]![col] = e.text;
      if (e.op === 'raw') raw.add(`${row}:${col}`);
    } else if (e.op === 'drop-col') grid.forEach((r) => r.splice(col, 1));
    else if (e.op === 'dup-row') grid.push([...(grid[row] ?? [])]);
    else if (grid.length > 1) grid.splice(row, 1);
  }
  return grid.map((r, i) => r.map((c, j) => (raw.has(`${i}:${j}`) ? c : quote(c))).join(',')).join('\n');
}

const csvInputs = fc.oneof(
  { weight: 6, arbitrary: fc.array(edit, { minLength: 1, maxLength: 4 }).map(edited) },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constant(EXAMPLE), byteDamage).map(([text, d]) => damage(text, d).toString('utf8')),
  },
  { weight: 1, arbitrary: garbage.map((b) => b.toString('utf8')) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      EXAMPLE,
      `\uFEFF${EXAMPLE}`,
      EXAMPLE.replaceAll('\n', '\r\n'),
      '',
      'member_id,name,plan\n',
      `${'"'.repeat(1001)}\n`,
    ),
  },
);

describe('fuzz: members CSV import at the hub API', () => {
  let rig: HubRig;
  beforeAll(async () => (rig = await startHubRig()));
  afterAll(() => rig.stop());

  it(`POST /directory/members/import through app.inject: all or nothing, every refusal with a code (${THROUGH_HTTP} inputs)`, async () => {
    let applied = 0;
    await fuzz(
      fc.asyncProperty(csvInputs, fc.constantFrom('', '?mode=valid', '?mode=all', '?mode=some'), async (csv, query) => {
        const before = (await rig.stored()) as { revision: number };
        const r = await rig.hub.api.inject({
          method: 'POST',
          url: `/directory/members/import${query}`,
          headers: { ...rig.admin, 'content-type': 'text/csv' },
          payload: csv,
        });
        if (r.statusCode !== 200) expectRefusal(r, ['import.invalid', 'request.invalid']);
        if (r.statusCode !== 200 || !r.json<{ applied: boolean }>().applied) {
          expect(await rig.stored()).toEqual(before);
          return;
        }
        applied++;
        expect(await rig.hub.directory.revision(rig.hub.store.db)).toBe(before.revision + 1);
        // Everything stored reads back with its schema (HubDirectory.list parses each entity).
        await rig.hub.directory.list(rig.hub.store.db, 'member');
        await rig.hub.directory.list(rig.hub.store.db, 'badge');
      }),
      THROUGH_HTTP,
    );
    expect(applied).toBeGreaterThan(0);
    expect(prototypeIsClean()).toBe(true);
  });

  it(`the same files through parseMembersCsv and planImport, the route's own calls (${DIRECT} inputs)`, async () => {
    const db = rig.hub.store.db;
    const account = (await rig.hub.auth.accounts.list(db))[0] as Account;
    const before = await rig.stored();
    await fuzz(
      fc.asyncProperty(csvInputs, async (csv) => {
        const parsed = parseMembersCsv(csv);
        const plan = await planImport(db, parsed.rows, rig.hub.directory, account);
        for (const e of [...parsed.errors, ...plan.errors])
          must(
            Number.isInteger(e.line) && e.line >= 1 && typeof e.message === 'string',
            () => `a problem without its line: ${JSON.stringify(e)}`,
          );
      }),
      DIRECT,
    );
    expect(await rig.stored()).toEqual(before);
  });
});
