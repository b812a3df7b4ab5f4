import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../cloud-sync/hub-process/hub.js';
import { doorKeysFrom } from '../../edge/badges/door-keys.js';
import { FACTORY_NDEF_SETTINGS } from '../../edge/badges/personalise-commands.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { createNtag424Verifier } from '../../edge/site/secure-badges.js';
import type { TapResult } from '../../edge/site/tap-handler.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { Badge, Directory } from '../../shared/protocol/directory.js';
import { eventually, realTime } from '../contracts/eventually.js';
import { pcscDoorConfig, pcscEdge } from '../fixtures/pcsc-door.js';
import { Pcscd, VPCD_READERS, requirePcscStack } from '../fixtures/pcscd.js';
import { insert, iso14443_4Card, type InsertedCard } from '../fixtures/vpcd-card.js';
import { signedInHubWithMembers, TEST_ADMIN, type AuthHeaders } from '../harness/hub-auth.js';
import { finished, spawnCli, waitForOutput } from '../harness/process.js';
import { BASE_DIRECTORY, MONDAY_9AM_PARIS } from '../harness/site.js';
import { silent } from '../support/logger.js';

// An operator's machine and a door, on the real PC/SC stack: a blank software NTAG 424 DNA behind
// vpcd → pcscd → nfc-pcsc. `tessera badge enrol` (the compiled CLI, its own process) personalises
// it and registers it at a real hub; the door, an edge with its own PcscReader, then opens for it
// in both check modes; `tessera badge reset` gives the factory card back.

const stack = await requirePcscStack(it);
const [READER] = VPCD_READERS;
const UID = '04DE5F1EACC040';
const MASTER = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
const DOOR_RELAY = 17;

describe.runIf(stack.ok)('tessera badge enrol and reset through pcscd, and the door that opens for the badge', () => {
  let pcscd: Pcscd;
  let hub: Hub;
  let admin: AuthHeaders;
  let apiUrl: string;
  let dir: string;
  let keyFile: string;

  beforeAll(async () => {
    if (!stack.ok) return;
    pcscd = await Pcscd.launch(stack);
    ({ hub, admin } = await signedInHubWithMembers(silent, { eve: 'Eve Blanc' }));
    apiUrl = await hub.api.listen({ host: '127.0.0.1', port: 0 });
    dir = mkdtempSync(join(tmpdir(), 'tessera-pcsc-enrol-'));
    keyFile = join(dir, 'master.key');
    writeFileSync(keyFile, MASTER.toString('hex'), { mode: 0o600 });
  }, 150_000);

  afterAll(async () => {
    await hub?.stop();
    await pcscd?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the CLI; once it waits for a card, the card goes on the reader. Leaves the card there. */
  async function cli(args: string[], card: SoftNtag424) {
    const child = spawnCli(['badge', ...args, '--reader', READER, '--wait', '20'], {
      TESSERA_PASSWORD: TEST_ADMIN.password,
    });
    const done = finished(child, 60_000);
    await waitForOutput(child, /waiting for a card on Virtual PCD 00 00…/, 20_000);
    const inserted = await insert(
      pcscd.portOf(READER),
      iso14443_4Card(UID, (apdu) => card.handle(apdu)),
    );
    const result = await done;
    await inserted.remove();
    await pcscd.cardGone(READER);
    return result;
  }

  /** A door of a simulated edge, checking NTAG 424 badges in `check` mode: what it decides for the card. */
  async function doorDecides(check: 'authenticate' | 'sun', card: SoftNtag424, badge: Badge): Promise<TapResult> {
    const config = pcscDoorConfig(READER, DOOR_RELAY, { secureBadges: { doorKeyFile: '/unused', check } });
    const clock = new ManualClock(MONDAY_9AM_PARIS);
    const gpio = new SimGpio(clock);
    const { edge, reader, store } = pcscEdge({
      config,
      clock,
      gpio,
      verifier: createNtag424Verifier(config.secureBadges!, doorKeysFrom(MASTER), silent),
    });
    edge.applyDirectory(Directory.parse({ ...BASE_DIRECTORY, badges: [badge] }), 'test');
    const results: TapResult[] = [];
    edge.onTap((r) => results.push(r));
    let inserted: InsertedCard | undefined;
    try {
      await edge.start();
      await eventually(realTime, () => reader.attached().includes(READER), 'the door reader to attach', 4000);
      inserted = await insert(
        pcscd.portOf(READER),
        iso14443_4Card(UID, (apdu) => card.handle(apdu)),
      );
      await eventually(realTime, () => results.length === 1, 'the door’s decision', 6000);
      if (results[0]?.granted) expect(gpio.isActive(DOOR_RELAY)).toBe(true);
      return results[0]!;
    } finally {
      await inserted?.remove();
      await pcscd.cardGone(READER);
      await edge.stop();
      store.close();
    }
  }

  it('a blank card: enrolled, registered, opens the door in authenticate and sun mode; reset: factory keys again', async () => {
    const card = SoftNtag424.blank(UID);

    const enrol = await cli(
      ['enrol', '--hub', apiUrl, '--user', TEST_ADMIN.username, '--member', 'eve', '--master-key-file', keyFile],
      card,
    );
    expect(enrol.stderr).toBe('');
    expect(enrol.code).toBe(0);
    const lines = enrol.stdout.trim().split('\n');
    expect(lines).toContain(`card ${UID} on ${READER}`);
    expect(lines).toContain('  change key 0: done');
    expect(lines).toContain('  check as a door: read and verify a SUN message: done');
    expect(lines.at(-1)).toMatch(new RegExp(`^registered NTAG 424 DNA badge ${UID} to member eve`));

    const stored = await hub.api.inject({ method: 'GET', url: `/directory/badges/${UID}`, headers: admin });
    const badge = Badge.parse(stored.json<{ item: unknown }>().item);
    expect(badge).toEqual({ uid: UID, member: 'eve', status: 'active', type: 'ntag424' });

    expect(await doorDecides('authenticate', card, badge)).toMatchObject({ granted: true, memberId: 'eve' });
    expect(await doorDecides('sun', card, badge)).toMatchObject({ granted: true, memberId: 'eve' });

    const reset = await cli(['reset', '--master-key-file', keyFile], card);
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('  empty the NDEF file: done');
    expect(reset.stdout).toMatch(/is back to factory keys/);
    expect(card.state()).toMatchObject({
      keys: Array.from({ length: 5 }, () => '0'.repeat(32)),
      keyVersions: [0, 0, 0, 0, 0],
      settings: FACTORY_NDEF_SETTINGS,
    });
    expect(await doorDecides('authenticate', card, badge)).toMatchObject({
      granted: false,
      reason: 'card_not_genuine',
    });
  }, 120_000);
});
