import { describe, expect, it } from 'vitest';
import { SoftNtag424 } from '../../edge/badges/soft-ntag424.js';
import { checkCommand } from '../../edge/commands/check.js';
import { MAX_ENROL_TTL_MS, type CommandBody, type CommandRequest } from '../../shared/protocol/commands.js';
import { generateHubKeys, hubPrivateKey, hubPublicKey, signBody } from '../../shared/protocol/signing.js';
import { commandBody, signedCommand, siteTakingCommands, UID, type Harness } from '../harness/site.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const HUB = generateHubKeys();
const OTHER = generateHubKeys();
const RELAY = 17;
const NEW_CARD = '04ABCDEF012345';

const cleanups = cleanupsAfterEach();

const site = () => siteTakingCommands(cleanups, HUB.publicKeyPem);

/** An enrol as the hub makes it: valid 60 s from the site's clock now. */
const body = (
  h: Harness,
  request: CommandRequest = { kind: 'enrol', reader: 'front-in' },
  over: Record<string, unknown> = {},
): CommandBody => commandBody(h, request, MAX_ENROL_TTL_MS, over);

const signed = (b: unknown, pem = HUB.privateKeyPem) => signedCommand(b, pem);

const presented = (h: Harness) => h.events().flatMap((e) => (e.type === 'badge.presented' ? [e.data] : []));
const decided = (h: Harness) => h.eventTypes().filter((t) => t === 'access.granted' || t === 'access.denied');
const relay = (h: Harness) => h.gpio.history(RELAY).map((c) => c.active);

describe('checkCommand: an enrol names a reader of this site and lives 60 s at most', () => {
  const ctx = (nowMs: number) => ({
    site: 'murat',
    publicKey: hubPublicKey(HUB.publicKeyPem),
    nowMs,
    doors: ['front'],
    readers: ['front-in', 'front-out'],
    seen: () => false,
  });
  const NOW = Date.parse('2026-11-23T08:00:00Z');
  const h = { clock: { now: () => NOW } } as Harness;

  it('accepts a signed enrol of a reader the site has', () => {
    const b = body(h);
    expect(checkCommand(signed(b), ctx(NOW))).toEqual({ ok: true, command: b });
  });

  it.each<[string, () => string, string]>([
    [
      'an enrol of a reader the site does not have',
      () => signed(body(h, { kind: 'enrol', reader: 'vault-in' })),
      'unknown_reader',
    ],
    ['an enrol for another site', () => signed(body(h, undefined, { site: 'allanche' })), 'foreign'],
    ['an enrol signed by another key', () => signed(body(h), OTHER.privateKeyPem), 'forged'],
    [
      'an enrol whose reader was changed after signing',
      () => {
        const b = body(h);
        return JSON.stringify({
          body: { ...b, reader: 'front-out' },
          signature: signBody(b, hubPrivateKey(HUB.privateKeyPem)),
        });
      },
      'forged',
    ],
    [
      'an enrol that expired a second ago',
      () =>
        signed(
          body(h, undefined, {
            issuedAt: new Date(NOW - 61_000).toISOString(),
            expiresAt: new Date(NOW - 1000).toISOString(),
          }),
        ),
      'expired',
    ],
    [
      'an enrol valid two minutes, longer than an enrol may be (other commands may)',
      () => signed(body(h, undefined, { expiresAt: new Date(NOW + 120_000).toISOString() })),
      'malformed',
    ],
    ['an enrol without a reader', () => signed(body(h, { kind: 'lockdown' }, { kind: 'enrol' })), 'malformed'],
  ])('%s: refused as %s', (_name, make, code) => {
    expect(checkCommand(make(), ctx(NOW))).toMatchObject({ ok: false, refused: code });
  });

  it('an unlock may still be valid two minutes', () => {
    const b = body(h, { kind: 'unlock', door: 'front' }, { expiresAt: new Date(NOW + 120_000).toISOString() });
    expect(checkCommand(signed(b), ctx(NOW))).toMatchObject({ ok: true });
  });
});

describe('a reader in enrol mode reports the next card instead of deciding it', () => {
  it('an unknown card opens nothing, is not decided, and is reported with its whole UID; the reader then decides again', async () => {
    const { h, commands } = await site();
    const b = body(h);
    expect(commands.receive(signed(b))).toMatchObject({ accepted: true });
    expect(h.edge.commands.enrolling('front-in')).toBe(true);
    expect(h.edge.commands.enrolling('front-out')).toBe(false);

    const result = h.tap('front-in', NEW_CARD);
    expect(result).toMatchObject({ granted: false, reason: 'enrolment', reader: 'front-in', memberId: null });
    expect(presented(h)).toEqual([
      {
        reader: 'front-in',
        command: b.nonce,
        uid: NEW_CARD,
        badge: '…2345',
        card: 'iso14443-3',
        known: false,
      },
    ]);
    expect(decided(h)).toEqual([]);
    expect(relay(h)).toEqual([false]);
    expect(h.events().find((e) => e.type === 'command.executed')?.data).toEqual({
      command: b.nonce,
      kind: 'enrol',
      reader: 'front-in',
    });

    // Enrol mode ended with that card: the same card is decided now, and refused as unknown.
    expect(h.edge.commands.enrolling('front-in')).toBe(false);
    expect(h.tap('front-in', NEW_CARD)).toMatchObject({ granted: false, reason: 'unknown_badge' });
    expect(presented(h)).toHaveLength(1);
    expect(relay(h)).toEqual([false]);
  });

  it("a member's card in enrol mode opens nothing either, checks nobody in, and is reported as known", async () => {
    const { h, commands } = await site();
    commands.receive(signed(body(h)));
    expect(h.tap('front-in', UID.alice)).toMatchObject({ granted: false, reason: 'enrolment', memberId: 'alice' });
    expect(presented(h)).toEqual([expect.objectContaining({ uid: UID.alice, known: true, memberId: 'alice' })]);
    expect(relay(h)).toEqual([false]);
    expect(h.eventTypes()).not.toContain('presence.in');
    expect(h.tap('front-in', UID.alice)).toMatchObject({ granted: true });
    expect(relay(h)).toEqual([false, true]);
  });

  it('a card that talks ISO 14443-4 (a blank NTAG 424) is reported as such, and still registered only by its UID', async () => {
    const { h, commands } = await site();
    commands.receive(signed(body(h)));
    const result = await h.tapCard('front-in', NEW_CARD, SoftNtag424.blank(NEW_CARD));
    expect(result).toMatchObject({ granted: false, reason: 'enrolment' });
    expect(presented(h)).toEqual([expect.objectContaining({ uid: NEW_CARD, card: 'iso14443-4', known: false })]);
    expect(relay(h)).toEqual([false]);
  });

  it("a member's card on a locker bank's reader in enrol mode opens no locker", async () => {
    const { h, commands } = await site();
    commands.receive(signed(body(h, { kind: 'enrol', reader: 'lockers' })));
    expect(h.tap('lockers', UID.alice)).toMatchObject({ granted: false, reason: 'enrolment', locker: null });
    expect(h.eventTypes().filter((t) => t === 'locker.opened' || t.startsWith('access.'))).toEqual([]);
    expect(presented(h)).toEqual([expect.objectContaining({ reader: 'lockers', known: true })]);
  });

  it('a tap on another reader of the site is decided as usual meanwhile', async () => {
    const { h, commands } = await site();
    commands.receive(signed(body(h, { kind: 'enrol', reader: 'front-out' })));
    expect(h.tap('front-in', UID.alice)).toMatchObject({ granted: true, reason: 'ok' });
    expect(presented(h)).toEqual([]);
    expect(h.edge.commands.enrolling('front-out')).toBe(true);
  });

  it('after expiry with no card, the reader decides normally again and the end is recorded', async () => {
    const { h, commands } = await site();
    const b = body(h);
    commands.receive(signed(b));
    h.clock.advance(MAX_ENROL_TTL_MS - 1);
    expect(h.edge.commands.enrolling('front-in')).toBe(true);
    h.clock.advance(1);
    expect(h.edge.commands.enrolling('front-in')).toBe(false);
    expect(h.events().flatMap((e) => (e.type === 'enrol.expired' ? [e.data] : []))).toEqual([
      { reader: 'front-in', command: b.nonce },
    ]);
    expect(h.tap('front-in', UID.alice)).toMatchObject({ granted: true, reason: 'ok' });
    expect(presented(h)).toEqual([]);
    expect(relay(h)).toEqual([false, true]);
  });

  it('an enrol of a reader the site does not have is refused and recorded; the reader decides as usual', async () => {
    const { h, commands } = await site();
    expect(commands.receive(signed(body(h, { kind: 'enrol', reader: 'vault-in' })))).toMatchObject({
      accepted: false,
      refused: 'unknown_reader',
    });
    expect(
      h
        .events()
        .flatMap((e) => (e.type === 'device.fault' && e.data.kind === 'command.rejected' ? [e.data.detail] : [])),
    ).toEqual([expect.stringMatching(/^unknown_reader: /)]);
    expect(h.tap('front-in', UID.alice)).toMatchObject({ granted: true });
  });

  it('a forged enrol leaves the reader deciding: the card is not reported', async () => {
    const { h, commands } = await site();
    expect(commands.receive(signed(body(h), OTHER.privateKeyPem))).toMatchObject({
      accepted: false,
      refused: 'forged',
    });
    expect(h.tap('front-in', NEW_CARD)).toMatchObject({ reason: 'unknown_badge' });
    expect(presented(h)).toEqual([]);
  });
});
