import { describe, expect, it } from 'vitest';
import { entitiesOf, formatMembersCsv, parseMembersCsv } from '../../cloud-sync/hub/admin/members-csv.js';
import type { Member } from '../../shared/protocol/directory.js';
import { FORMULA_NAMES as NAMES, runsAsFormula, spreadsheetCells } from '../harness/spreadsheet.js';

describe('the members CSV export neutralises formula cells, whatever comes before the formula character', () => {
  it('the members export: no cell of any row runs as a formula, and import reads every name back exactly', () => {
    const members = NAMES.map(
      (name, i) => ({ id: `m${i}`, name, plan: 'always', role: 'member', status: 'active' }) as Member,
    );
    const csv = formatMembersCsv(members, () => []);
    expect(spreadsheetCells(csv).filter(runsAsFormula)).toEqual([]);
    const parsed = parseMembersCsv(csv);
    expect(parsed.errors).toEqual([]);
    expect(parsed.rows.map((r) => entitiesOf(r).member.name)).toEqual(NAMES);
  });
});
