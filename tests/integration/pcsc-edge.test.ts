import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/platform/clock.js';
import { Directory } from '../../shared/protocol/directory.js';
import { SiteConfig } from '../../firmware-config/schema.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import type { TapResult } from '../../edge/site/tap-handler.js';
import { eventually, realTime } from '../contracts/eventually.js';
import { BASE_CONFIG, BASE_DIRECTORY, MONDAY_9AM_PARIS, UID } from '../harness/site.js';
import { pcscDoorConfig, pcscEdge } from '../fixtures/pcsc-door.js';
import { Pcscd, VPCD_READERS, requirePcscStack } from '../fixtures/pcscd.js';
import { timedGpio } from '../fixtures/timed-gpio.js';
import { insert, iso14443_4Card, uidTag, type InsertedCard, type VirtualCard } from '../fixtures/vpcd-card.js';
import { cardKeys } from '../../edge/badges/diversify.js';
import { doorKeysFrom } from '../../edge/badges/door-keys.js';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { createNtag424Verifier } from '../../edge/site/secure-badges.js';
import type { CardVerifier } from '../../edge/site/tap-handler.js';
import type { Badge } from '../../shared/protocol/directory.js';
import { silent } from '../support/logger.js';

// The whole path on the real PC/SC stack: a virtual card on vpcd → pcscd → nfc-pcsc → PcscReader
// → the edge's decision → the door relay. Only the relay board (SimGpio) and the edge's clock
// are simulated; the reader runs in real time.

const stack = await requirePcscStack(it);
const [ENTRY_READER] = VPCD_READERS;
const DOOR_RELAY = 17;

describe.runIf(stack.ok)('a tap on the real PC/SC stack opens the door', () => {
  let pcscd: Pcscd;
  let site: Awaited<ReturnType<typeof startSite>> | undefined;

  beforeAll(async () => {
    if (stack.ok) pcscd = await Pcscd.launch(stack);
  }, 150_000);

  afterAll(async () => {
    await pcscd?.dispose();
  });

  afterEach(async () => {
    await site?.stop();
    site = undefined;
  });

  async function startSite(secure?: { verifier: CardVerifier; badge: Badge }) {
    const config = pcscDoorConfig(ENTRY_READER, DOOR_RELAY, secure ? { secureBadges: { doorKeyFile: '/unused' } } : {});
    const clock = new ManualClock(MONDAY_9AM_PARIS);
    const sim = new SimGpio(clock);
    const writes: Array<{ line: number; active: boolean; at: number }> = [];
    const { edge, reader, store } = pcscEdge({
      config,
      clock,
      gpio: timedGpio(sim, (line, active) => writes.push({ line, active, at: performance.now() })),
      ...(secure ? { verifier: secure.verifier } : {}),
    });
    edge.applyDirectory(
      Directory.parse({
        ...BASE_DIRECTORY,
        badges: [...(BASE_DIRECTORY.badges ?? []), ...(secure ? [secure.badge] : [])],
      }),
      'test',
    );
    const cardEvents: number[] = [];
    const removals: string[] = [];
    // Subscribed before the edge: it hears each card just before the edge decides.
    reader.subscribe({ card: () => cardEvents.push(performance.now()), removed: (e) => removals.push(e.reader) });
    const results: TapResult[] = [];
    edge.onTap((r) => results.push(r));
    await edge.start();
    await eventually(realTime, () => reader.attached().includes(ENTRY_READER), 'the entry reader to attach', 4000);
    let card: InsertedCard | undefined;
    return {
      edge,
      sim,
      writes,
      results,
      cardEvents,
      removals,
      store,
      async tap(uid: string) {
        const insertedAt = performance.now();
        card = await insert(pcscd.portOf(ENTRY_READER), uidTag(uid));
        return { insertedAt, card };
      },
      async present(virtual: VirtualCard) {
        card = await insert(pcscd.portOf(ENTRY_READER), virtual);
        return card;
      },
      async stop() {
        await card?.remove();
        await pcscd.cardGone(ENTRY_READER);
        await edge.stop();
        store.close();
      },
    };
  }

  it('grants a member, writes the door relay, and hears the card leave', async () => {
    site = await startSite();
    const s = site;
    const { insertedAt, card } = await s.tap(UID.alice);
    await eventually(realTime, () => s.results.length === 1, 'a decision', 4000);
    expect(s.results[0]).toMatchObject({ granted: true, door: 'front', memberId: 'alice', presence: 'in' });
    expect(s.sim.isActive(DOOR_RELAY)).toBe(true);
    const relayWrite = s.writes.find((w) => w.line === DOOR_RELAY && w.active) ?? expect.fail('no relay write');
    const cardEvent = s.cardEvents[0] ?? expect.fail('no card event');
    console.log(
      `insert → relay ${(relayWrite.at - insertedAt).toFixed(1)} ms: insert → card event ${(cardEvent - insertedAt).toFixed(1)} ms (pcscd poll, vpcd, UID APDU), card event → relay write ${(relayWrite.at - cardEvent).toFixed(2)} ms (ours)`,
    );
    // The decision came from the card's UID, read over PC/SC: FF CA, then the feedback attempt.
    expect(card.apdus[0]?.toString('hex').toUpperCase()).toBe('FFCA000000');
    expect(s.store.events.list(0, 100).map((e) => e.type)).toContain('access.granted');

    await card.remove();
    await eventually(realTime, () => s.removals.length === 1, 'the removal', 4000);
    // The door relocks on the edge's own clock, not on the card leaving.
    expect(s.sim.isActive(DOOR_RELAY)).toBe(true);
  });

  it('refuses a revoked badge: no relay write', async () => {
    site = await startSite();
    const s = site;
    await s.tap(UID.revoked);
    await eventually(realTime, () => s.results.length === 1, 'a decision', 4000);
    expect(s.results[0]).toMatchObject({ granted: false, door: 'front' });
    expect(s.writes.filter((w) => w.line === DOOR_RELAY && w.active)).toEqual([]);
    expect(s.sim.isActive(DOOR_RELAY)).toBe(false);
  });

  describe('NTAG 424 DNA badges over vpcd', () => {
    const master = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
    const SECURE_UID = '04DE5F1EACC040';
    const keysOf = (m: Buffer) =>
      cardKeys(m, Buffer.from(SECURE_UID, 'hex'), Buffer.from('3042F5', 'hex'), Buffer.from('Tessera', 'utf8')).map(
        (k) => k.key,
      );
    const secureSite = (check: 'authenticate' | 'sun' = 'authenticate') =>
      startSite({
        verifier: createNtag424Verifier(
          SiteConfig.parse({ ...BASE_CONFIG, secureBadges: { doorKeyFile: '/unused', check } }).secureBadges!,
          doorKeysFrom(master),
          silent,
        ),
        badge: { uid: SECURE_UID, member: 'eve', status: 'active', type: 'ntag424' },
      });
    const softCard = (keys: Buffer[]) => {
      const soft = new SoftNtag424({ uid: SECURE_UID, keys });
      return iso14443_4Card(SECURE_UID, (apdu) => soft.handle(apdu));
    };

    it('a genuine card authenticates over PC/SC and opens the door', async () => {
      site = await secureSite();
      const s = site;
      await s.present(softCard(keysOf(master)));
      await eventually(realTime, () => s.results.length === 1, 'a decision', 6000);
      expect(s.results[0]).toMatchObject({ granted: true, memberId: 'eve' });
      expect(s.sim.isActive(DOOR_RELAY)).toBe(true);
    });

    it('a card with the right UID and the wrong keys is refused', async () => {
      site = await secureSite();
      const s = site;
      await s.present(softCard(keysOf(Buffer.alloc(16, 7))));
      await eventually(realTime, () => s.results.length === 1, 'a decision', 6000);
      expect(s.results[0]).toMatchObject({ granted: false, reason: 'card_not_genuine' });
      expect(s.writes.filter((w) => w.line === DOOR_RELAY && w.active)).toEqual([]);
    });

    it('in SUN mode a fresh message opens, and the same message replayed by another card is refused', async () => {
      site = await secureSite('sun');
      const s = site;
      const soft = new SoftNtag424({ uid: SECURE_UID, keys: keysOf(master), url: 'https://badge.example/t' });
      const recorded: Buffer[] = [];
      const first = await s.present(
        iso14443_4Card(
          SECURE_UID,
          (apdu) => (recorded.push(soft.handle(apdu)), recorded[recorded.length - 1] as Buffer),
        ),
      );
      await eventually(realTime, () => s.results.length === 1, 'the first decision', 6000);
      expect(s.results[0]).toMatchObject({ granted: true, memberId: 'eve' });
      await first.remove();
      await pcscd.cardGone(ENTRY_READER);
      // The reader counts the same UID once within its dedupe interval (1.5 s): let it pass.
      await realTime.wait(1600);
      let i = 0;
      await s.present(iso14443_4Card(SECURE_UID, () => recorded[i++] ?? Buffer.from([0x6a, 0x82])));
      await eventually(realTime, () => s.results.length === 2, 'the replay decision', 6000);
      expect(s.results[1]).toMatchObject({ granted: false, reason: 'card_replayed' });
    });

    it('a plain tag carrying the secure badge’s UID is refused', async () => {
      site = await secureSite();
      const s = site;
      await s.tap(SECURE_UID);
      await eventually(realTime, () => s.results.length === 1, 'a decision', 6000);
      expect(s.results[0]).toMatchObject({ granted: false, reason: 'card_not_genuine' });
    });
  });
});
