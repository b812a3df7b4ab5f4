import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { signedInHub, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

/** A members file as Excel in French saves it ("CSV UTF-8"): a BOM, semicolons, CRLF, accents in UTF-8. */
const EXCEL_FR = [
  '\uFEFFmember_id;name;plan;employer;badges',
  'lea;Léa Müller;always;acme;04A1A1A1A1A1A1',
  'zoe;"Zoë; L’Œuvre";staffed;;',
  '',
].join('\r\n');

/** Windows-1252 bytes of a text all of whose characters it has (the plain "CSV" of Excel on a French Windows). */
const cp1252 = (text: string) =>
  Buffer.from(
    text.replace(/[’Œ]/g, (c) => (c === '’' ? '\x92' : '\x8C')),
    'latin1',
  );

describe('members CSV for Excel in French', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  beforeEach(async () => {
    ({ hub, admin } = await signedInHub(silent));
    const put = async (url: string, payload: object) =>
      expect((await hub.api.inject({ method: 'PUT', url, headers: admin, payload })).statusCode).toBe(200);
    await put('/directory/plans/always', { name: '24/7', access: 'always' });
    await put('/directory/plans/staffed', { name: 'Staffed hours', access: 'staffed', sites: ['murat'] });
    await put('/directory/employers/acme', { name: 'Acme' });
  });
  afterEach(async () => hub.stop());

  const importCsv = (payload: string | Buffer) =>
    hub.api.inject({
      method: 'POST',
      url: '/directory/members/import?mode=valid',
      headers: { ...admin, 'content-type': 'text/csv' },
      payload,
    });
  const names = async () =>
    Promise.all(['lea', 'zoe'].map(async (id) => (await hub.directory.get(hub.store.db, 'member', id))?.name));

  it('imports a file with semicolons, a BOM and CRLF, its accents in UTF-8', async () => {
    const r = await importCsv(Buffer.from(EXCEL_FR, 'utf8'));
    expect(r.json()).toMatchObject({ applied: true, rows: 2, created: 2, badges: 1, problems: 0 });
    expect(await names()).toEqual(['Léa Müller', 'Zoë; L’Œuvre']);
    expect(await hub.directory.get(hub.store.db, 'member', 'lea')).toMatchObject({ employer: 'acme' });
  });

  it('imports the same file saved in Windows-1252, and counts the lines of a bad row as the file does', async () => {
    const file = `${EXCEL_FR.slice(1)}max;Max;gold;;\r\n`;
    const r = await importCsv(cp1252(file));
    expect(r.json()).toMatchObject({
      created: 2,
      problems: 1,
      skipped: [{ path: 'line 4: plan', message: 'no plan "gold"' }],
    });
    expect(await names()).toEqual(['Léa Müller', 'Zoë; L’Œuvre']);
  });

  it('exports with ?dialect=excel-fr what Excel in French opens as is, and imports it back unchanged', async () => {
    await importCsv(Buffer.from(EXCEL_FR, 'utf8'));
    const r = await hub.api.inject({ method: 'GET', url: '/directory/members.csv?dialect=excel-fr', headers: admin });
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(r.body.split('\r\n')).toEqual([
      '\uFEFFmember_id;name;plan;role;employer;status;valid_from;valid_until;badges;badge_type',
      'lea;Léa Müller;always;member;acme;active;;;04A1A1A1A1A1A1;uid',
      'zoe;"Zoë; L’Œuvre";staffed;member;;active;;;;',
      '',
    ]);
    expect((await importCsv(r.rawPayload)).json()).toMatchObject({ rows: 2, created: 0, updated: 2, problems: 0 });
    expect(await names()).toEqual(['Léa Müller', 'Zoë; L’Œuvre']);
    const plain = await hub.api.inject({ method: 'GET', url: '/directory/members.csv', headers: admin });
    expect(plain.body.split('\r\n')[2]).toBe('zoe,Zoë; L’Œuvre,staffed,member,,active,,,,');
    const unknown = await hub.api.inject({
      method: 'GET',
      url: '/directory/members.csv?dialect=excel',
      headers: admin,
    });
    expect([unknown.statusCode, unknown.json<{ details: Array<{ path: string }> }>().details[0]?.path]).toEqual([
      400,
      'dialect',
    ]);
  });
});
