import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { cardKeys } from '../../edge/badges/diversify.js';
import { doorKeysFrom } from '../../edge/badges/door-keys.js';
import { badgeEnrolCommandWith, badgeResetCommandWith } from '../../edge/badges/enrol-cli.js';
import { personalise } from '../../edge/badges/personalise.js';
import { FACTORY_NDEF_SETTINGS } from '../../edge/badges/personalise-commands.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { SimReader, type SimCard } from '../../edge/hardware/sim-reader.js';
import { createNtag424Verifier } from '../../edge/site/secure-badges.js';
import { ManualClock } from '../../shared/platform/clock.js';
import type { Command } from '../../shared/platform/command.js';
import { signedInHubWithMembers, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { silent } from '../support/logger.js';

// The commands as an operator runs them, over the simulated readers (product code) with the
// software NTAG 424 DNA behind their APDU transport, against a real hub over HTTP.

const READER = 'ACS ACR122U PICC Interface 00 00';
const UID = '04DE5F1EACC040';
const MASTER = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
const OTHER_MASTER = Buffer.from('FFEEDDCCBBAA99887766554433221100', 'hex');
const SITE = { aid: Buffer.from('3042F5', 'hex'), systemIdentifier: Buffer.from('Tessera') };
const ourKeys = (master = MASTER) =>
  cardKeys(master, Buffer.from(UID, 'hex'), SITE.aid, SITE.systemIdentifier).map((k) =>
    k.key.toString('hex').toUpperCase(),
  );
const FACTORY = {
  keys: Array.from({ length: 5 }, () => '0'.repeat(32)),
  keyVersions: [0, 0, 0, 0, 0],
  settings: FACTORY_NDEF_SETTINGS,
};

/** The card, behind a reader that loses it after `n` APDUs, as when it is pulled away. */
function pulledAfter(card: SoftNtag424, n: number): SimCard {
  let sent = 0;
  return {
    handle(apdu) {
      if (sent++ >= n) throw new Error('the card left the field');
      return card.handle(apdu);
    },
  };
}

describe('tessera badge enrol and badge reset', () => {
  let hub: Hub;
  let admin: AuthHeaders;
  let apiUrl: string;
  let dir: string;
  let keyFile: string;

  beforeEach(async () => {
    ({ hub, admin } = await signedInHubWithMembers(silent, { ana: 'ana', bob: 'bob' }));
    apiUrl = await hub.api.listen({ host: '127.0.0.1', port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'tessera-enrol-'));
    keyFile = join(dir, 'master.key');
    writeFileSync(keyFile, `${MASTER.toString('hex')}\n`, { mode: 0o600 });
  });
  afterEach(async () => {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const badgeAtHub = async (uid = UID) => {
    const r = await hub.api.inject({ method: 'GET', url: `/directory/badges/${uid}`, headers: admin });
    return r.statusCode === 200 ? r.json<{ item: unknown }>().item : undefined;
  };

  /**
   * Runs a command; once it says it waits for a card, `present` puts one on the reader.
   * Answers the exit code and what it printed, stdout and stderr apart.
   */
  async function run(
    make: (deps: { openReader: () => Promise<SimReader>; env: NodeJS.ProcessEnv }) => Command,
    args: string[],
    present?: (reader: SimReader) => void,
    password: string = TEST_ADMIN.password,
  ) {
    const reader = new SimReader([READER], new ManualClock('2026-11-23T08:00:00Z'));
    const out: string[] = [];
    const err: string[] = [];
    const command = make({ openReader: async () => reader, env: { TESSERA_PASSWORD: password } });
    const code = await command.run(args, {
      out: (line) => {
        out.push(line);
        if (line.startsWith('waiting for a card') && present) setImmediate(() => present(reader));
      },
      err: (line) => {
        err.push(line);
        // With --json the steps, this one too, go to stderr.
        if (line.startsWith('waiting for a card') && present) setImmediate(() => present(reader));
      },
    });
    return { code, out, err: err.join('\n') };
  }

  const enrol = (member: string, present?: (reader: SimReader) => void, extra: string[] = []) =>
    run(
      badgeEnrolCommandWith,
      ['--hub', apiUrl, '--user', TEST_ADMIN.username, '--member', member, '--master-key-file', keyFile, ...extra],
      present,
    );
  const reset = (present: (reader: SimReader) => void) =>
    run(badgeResetCommandWith, ['--master-key-file', keyFile, '--reader', 'ACR122U'], present);

  /** What the site's doors make of the card, in each check mode: the UID it proves, or the refusal. */
  async function doorsSee(card: SoftNtag424) {
    const event = { reader: READER, uid: UID, atr: card.atr, transmit: async (apdu: Buffer) => card.handle(apdu) };
    const verdict = async (check: 'authenticate' | 'sun') =>
      (
        await createNtag424Verifier(
          { doorKeyFile: '/unused', check, aid: '3042F5', systemIdentifier: 'Tessera' },
          doorKeysFrom(MASTER),
          silent,
        ).verify(event, UID)
      ).check;
    return { authenticate: await verdict('authenticate'), sun: await verdict('sun') };
  }

  it('a blank NTAG 424 DNA: each step printed, the card opens doors in both modes, the badge is the member’s at the hub', async () => {
    const card = SoftNtag424.blank(UID);
    const r = await enrol('ana', (reader) => reader.tap(READER, UID, { card }));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`logged in to ${apiUrl} as admin; member ana`);
    expect(r.out[1]).toMatch(new RegExp(`^waiting for a card on ${READER}…`));
    expect(r.out.slice(2)).toEqual([
      `card ${UID} on ${READER}`,
      '  select the NTAG 424 DNA application: done',
      '  find which keys the card holds: done',
      '  authenticate with key 0: done',
      '  change key 1: done',
      '  change key 2: done',
      '  change key 3: done',
      '  change key 4: done',
      '  change key 0: done',
      '  authenticate with our key 0: done',
      '  read the NDEF file settings: done',
      '  write the NDEF file: done',
      '  set the SDM file settings: done',
      '  check as a door: authenticate with the door key: done',
      '  check as a door: read and verify a SUN message: done',
      `card ${UID} is personalised and opens a door as this site's doors check it`,
      expect.stringMatching(
        new RegExp(`^registered NTAG 424 DNA badge ${UID} to member ana \\(directory revision \\d+\\)$`),
      ),
    ]);
    expect(card.state()).toMatchObject({ keys: ourKeys(), keyVersions: [1, 1, 1, 1, 1] });
    expect(card.state().ndef.toString('latin1')).toContain(`${apiUrl.replace(/^http:\/\//, '')}/?e=`);
    // What a phone that reads the badge opens: the hub's dashboard, whatever the SUN parameters.
    const page = await fetch(`${apiUrl}/?e=${'0'.repeat(32)}&c=${'0'.repeat(16)}`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await doorsSee(card)).toEqual({ authenticate: 'genuine', sun: 'genuine' });
    expect(await badgeAtHub()).toEqual({ uid: UID, member: 'ana', status: 'active', type: 'ntag424' });

    // The same member enrolling the same card again: nothing left to change on it, the hub agrees.
    // With --json: the steps on stderr, the result alone on stdout.
    const again = await enrol('ana', (reader) => reader.tap(READER, UID, { card }), ['--json']);
    expect(again.code).toBe(0);
    expect(again.err).not.toContain('  change key 0: done');
    expect(again.out.map((line) => JSON.parse(line) as unknown)).toEqual([
      { uid: UID, reader: READER, member: 'ana', type: 'ntag424', cloneable: false, revision: expect.any(Number) },
    ]);
    expect(await badgeAtHub()).toEqual({ uid: UID, member: 'ana', status: 'active', type: 'ntag424' });

    // And badge reset gives the factory card back, one line per step.
    const back = await reset((reader) => reader.tap(READER, UID, { card }));
    expect(back.err).toBe('');
    expect(back.code).toBe(0);
    expect(back.out).toContain('  set the factory file settings: done');
    expect(back.out).toContain('  change key 0: done');
    expect(back.out.at(-1)).toMatch(/is back to factory keys/);
    expect(card.state()).toMatchObject(FACTORY);
    expect(await doorsSee(card)).toEqual({ authenticate: 'not_genuine', sun: 'not_genuine' });
  });

  it('a card of another master key: one error at the step, the card unchanged, nothing registered', async () => {
    const card = SoftNtag424.blank(UID);
    await personalise(async (apdu) => card.handle(apdu), {
      uid: UID,
      masterKey: OTHER_MASTER,
      ...SITE,
      url: 'https://elsewhere.example/b',
    });
    const before = card.state();
    const r = await enrol('ana', (reader) => reader.tap(READER, UID, { card }));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/failed at "find which keys the card holds": key 0 is neither the factory key/);
    expect(r.err).toMatch(/nothing was changed/);
    expect(r.err).toMatch(/check --master-key-file/);
    expect(r.err).toMatch(/not registered at the hub/);
    expect(card.state()).toEqual(before);
    expect(ourKeys(OTHER_MASTER)).toEqual(before.keys);
    expect(await badgeAtHub()).toBeUndefined();
    // Reset with the wrong master key refuses the same way.
    const refused = await reset((reader) => reader.tap(READER, UID, { card }));
    expect(refused.code).toBe(1);
    expect(card.state()).toEqual(before);
  });

  it('not an NTAG 424 DNA: registered by its UID, flagged cloneable, and said so', async () => {
    const tag = await enrol('ana', (reader) => reader.tap(READER, '04A1B2C3'));
    expect(tag.code).toBe(0);
    expect(tag.out).toContain(
      'not an NTAG 424 DNA (the card speaks no APDUs): registering it by its UID alone; anyone who reads the UID can copy such a badge',
    );
    expect(tag.out.at(-1)).toMatch(/^registered UID-only badge 04A1B2C3 to member ana, flagged cloneable/);
    expect(await badgeAtHub('04A1B2C3')).toEqual({ uid: '04A1B2C3', member: 'ana', status: 'active', type: 'uid' });

    // An ISO 14443-4 card of another kind (a DESFire): its SELECT of the NTAG application fails.
    const desfire: SimCard = { handle: () => Buffer.from([0x6a, 0x82]) };
    const other = await enrol('bob', (reader) => reader.tap(READER, '04112233445566', { card: desfire }));
    expect(other.code).toBe(0);
    expect(other.out).toContain(
      'not an NTAG 424 DNA (selecting its application answered 6A82): registering it by its UID alone; anyone who reads the UID can copy such a badge',
    );
    expect(await badgeAtHub('04112233445566')).toMatchObject({ member: 'bob', type: 'uid' });
  });

  it('pulled away mid-personalisation: says to put it back and run it again, which finishes the card', async () => {
    const card = SoftNtag424.blank(UID);
    const r = await enrol('ana', (reader) => reader.tap(READER, UID, { card: pulledAfter(card, 35) }));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/failed at "change key 2": the reader failed to exchange an APDU: the card left the field/);
    expect(r.err).toMatch(/put it back on the reader and run the same command again; it picks up where it stopped/);
    expect(await badgeAtHub()).toBeUndefined();
    // Half-way: key 1 ours, the others still the factory's.
    expect(card.state().keys).toEqual([FACTORY.keys[0], ourKeys()[1], ...FACTORY.keys.slice(2)]);

    const resumed = await enrol('ana', (reader) => reader.tap(READER, UID, { card }));
    expect(resumed.code).toBe(0);
    expect(card.state()).toMatchObject({ keys: ourKeys(), keyVersions: [1, 1, 1, 1, 1] });
    expect(await doorsSee(card)).toEqual({ authenticate: 'genuine', sun: 'genuine' });
    expect(await badgeAtHub()).toMatchObject({ member: 'ana', type: 'ntag424' });
  });

  it('a UID registered to another member: the hub refuses, the badge stays theirs, and the way out is said', async () => {
    const card = SoftNtag424.blank(UID);
    expect((await enrol('ana', (reader) => reader.tap(READER, UID, { card }))).code).toBe(0);
    const r = await enrol('bob', (reader) => reader.tap(READER, UID, { card }));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /the hub refuses to register badge 04DE5F1EACC040 to member "bob": badge …C040 is already registered to member "ana"/,
    );
    expect(r.err).toMatch(
      /the card stays personalised: run the same command with the right --member, or .*badge reset/,
    );
    expect(await badgeAtHub()).toEqual({ uid: UID, member: 'ana', status: 'active', type: 'ntag424' });
  });

  it('fails before touching a card: wrong password, unknown member, usage; and no card within --wait', async () => {
    const touched: string[] = [];
    const present = (reader: SimReader) => void touched.push(reader.tap(READER, UID).uid);
    const wrong = await run(
      badgeEnrolCommandWith,
      ['--hub', apiUrl, '--user', 'admin', '--member', 'ana', '--master-key-file', keyFile],
      present,
      'not-the-password',
    );
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/\[auth\.invalid\]/);
    expect(wrong.out).toEqual([]);
    const nobody = await enrol('nobody', present);
    expect(nobody.code).toBe(1);
    expect(nobody.err).toMatch(/no member "nobody" at .*: nothing was done/);
    const usage = await run(badgeEnrolCommandWith, ['--hub', apiUrl, '--member', 'ana'], present);
    expect(usage.code).toBe(64);
    expect(usage.err).toMatch(/--hub, --user and --member are required\nusage: tessera badge enrol/);
    expect(touched).toEqual([]);

    const idle = await enrol('ana', undefined, ['--wait', '0.2']);
    expect(idle.code).toBe(1);
    expect(idle.err).toMatch(new RegExp(`no card on ${READER} within 0.2 s: nothing was done`));
    const noReader = await enrol('ana', present, ['--wait', '0.2', '--reader', 'Omnikey']);
    expect(noReader.code).toBe(1);
    expect(noReader.err).toMatch(/no reader matching "Omnikey" within 0.2 s; the readers are: "ACS ACR122U/);
  });
});
