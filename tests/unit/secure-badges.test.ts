import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cardKeys } from '../../edge/badges/diversify.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { createNtag424Verifier } from '../../edge/site/secure-badges.js';
import { doorKeysFrom } from '../../edge/badges/door-keys.js';
import { SiteConfig } from '../../firmware-config/schema.js';
import type { SimCard } from '../../edge/hardware/sim-reader.js';
import type { Harness } from '../harness/site.js';
import { BASE_CONFIG, BASE_DIRECTORY, startSite, UID } from '../harness/site.js';
import { silent } from '../support/logger.js';

const MASTER = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
const SECURE_UID = '04DE5F1EACC040';
let site: Harness | undefined;
afterEach(async () => {
  await site?.stop();
  site = undefined;
});

async function secureSite(check: 'authenticate' | 'sun') {
  const secureBadges = { doorKeyFile: '/unused', check };
  const config = SiteConfig.parse({ ...BASE_CONFIG, secureBadges });
  // The door holds only what doorKeysFrom gives it; the cards are personalised from the site master.
  const verifier = createNtag424Verifier(config.secureBadges!, doorKeysFrom(MASTER), silent);
  const directory = structuredClone(BASE_DIRECTORY);
  directory.badges = [...(directory.badges ?? []), { uid: SECURE_UID, member: 'eve', type: 'ntag424' }];
  site = await startSite({ secureBadges }, directory, undefined, undefined, { verifier });
  return site;
}

const keysFor = (master: Buffer) =>
  cardKeys(master, Buffer.from(SECURE_UID, 'hex'), Buffer.from('3042F5', 'hex'), Buffer.from('Tessera', 'utf8')).map(
    (k) => k.key,
  );
const genuineCard = () => new SoftNtag424({ uid: SECURE_UID, keys: keysFor(MASTER), url: 'https://badge.example/t' });

describe('NTAG 424 badges at the door', () => {
  it('a genuine card proves itself (AuthenticateEV2First + GetCardUID) and opens the door', async () => {
    const s = await secureSite('authenticate');
    expect(await s.tapCard('front-in', SECURE_UID, genuineCard())).toMatchObject({
      granted: true,
      reason: 'ok',
      memberId: 'eve',
    });
    expect(s.gpio.isActive(17)).toBe(true);
    const granted = s.events().find((e) => e.type === 'access.granted');
    expect(granted?.data).not.toHaveProperty('cloneable');
  });

  it('a card with the right UID and the wrong keys is refused', async () => {
    const s = await secureSite('authenticate');
    const clone = new SoftNtag424({ uid: SECURE_UID, keys: keysFor(randomBytes(16)) });
    expect(await s.tapCard('front-in', SECURE_UID, clone)).toMatchObject({
      granted: false,
      reason: 'card_not_genuine',
    });
    expect(s.gpio.history(17).some((c) => c.active)).toBe(false);
  });

  it('a plain tag carrying a secure badge’s UID (a UID clone) is refused', async () => {
    const s = await secureSite('authenticate');
    expect(await s.tapCard('front-in', SECURE_UID)).toMatchObject({ granted: false, reason: 'card_not_genuine' });
  });

  it('in SUN mode a fresh message opens, and the same message replayed is refused', async () => {
    const s = await secureSite('sun');
    const card = genuineCard();
    const recorded: Buffer[] = [];
    const recorder: SimCard = {
      handle: (apdu) => (recorded.push(card.handle(apdu)), recorded[recorded.length - 1] as Buffer),
    };
    expect(await s.tapCard('front-in', SECURE_UID, recorder)).toMatchObject({ granted: true });
    expect(s.store.sunCounters.last(SECURE_UID)).toBe(1);
    let i = 0;
    const replayer: SimCard = { handle: () => recorded[i++] ?? Buffer.from([0x6a, 0x82]) };
    expect(await s.tapCard('front-out', SECURE_UID, replayer)).toMatchObject({
      granted: false,
      reason: 'card_replayed',
    });
    expect(await s.tapCard('front-out', SECURE_UID, card)).toMatchObject({ granted: true });
    expect(s.store.sunCounters.last(SECURE_UID)).toBe(2);
  });

  it('UID-only badges keep working and are flagged as cloneable', async () => {
    const s = await secureSite('authenticate');
    expect(s.tap('front-in', UID.alice)).toMatchObject({ granted: true });
    expect(s.events().find((e) => e.type === 'access.granted')?.data).toMatchObject({ cloneable: true });
    expect(s.store.directory.describe()?.cloneableBadges).toBe(6 - 1);
  });
});

describe('the door key file', () => {
  it('round-trips through tessera badge door-keys, and a bare key (the site master) is refused on a door', async () => {
    const { mkdtempSync, writeFileSync, chmodSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { badgeDoorKeysCommand } = await import('../../edge/badges/cli.js');
    const { readDoorKeyFile } = await import('../../edge/badges/door-keys.js');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
    const masterFile = join(dir, 'master.key');
    writeFileSync(masterFile, MASTER.toString('hex'));
    chmodSync(masterFile, 0o600);
    const out: string[] = [];
    const err: string[] = [];
    expect(
      await badgeDoorKeysCommand.run(['--master-key-file', masterFile], {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
      }),
    ).toBe(0);
    const doorFile = join(dir, 'door.keys');
    writeFileSync(doorFile, out.join('\n'));
    chmodSync(doorFile, 0o600);
    const read = readDoorKeyFile(doorFile);
    expect(read).toEqual({ ok: true, keys: doorKeysFrom(MASTER) });
    expect(out.join('\n')).not.toContain(MASTER.toString('hex').toUpperCase());
    expect(readDoorKeyFile(masterFile)).toMatchObject({
      ok: false,
      message: expect.stringContaining('must not be on a door'),
    });
    expect(
      await badgeDoorKeysCommand.run(['--master-key-file', masterFile, '--key-no', '0'], {
        out: () => undefined,
        err: (t) => err.push(t),
      }),
    ).toBe(64);
  });
});
