import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandBody, CommandRequest } from '../../shared/protocol/commands.js';
import { generateHubKeys, hubPrivateKey, signBody } from '../../shared/protocol/signing.js';
import { commandBody, signedCommand, siteTakingCommands, UID, type Harness } from '../harness/site.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

const HUB = generateHubKeys();
const OTHER = generateHubKeys();
const RELAY = 17;
const EXIT_BUTTON = 22;

const cleanups = cleanupsAfterEach();

const site = (storagePath = ':memory:', override?: Parameters<typeof siteTakingCommands>[3]) =>
  siteTakingCommands(cleanups, HUB.publicKeyPem, storagePath, override);

/** A command body as the hub makes it, valid for 60 s from the site's clock now. */
const body = (h: Harness, request: CommandRequest, over: Partial<Record<string, unknown>> = {}): CommandBody =>
  commandBody(h, request, 60_000, over);

const signed = (b: unknown, pem = HUB.privateKeyPem) => signedCommand(b, pem);

const faults = (h: Harness) =>
  h
    .events()
    .flatMap((e) => (e.type === 'device.fault' && e.data.kind === 'command.rejected' ? [e.data.detail ?? ''] : []));
const receipts = (h: Harness) => h.events().flatMap((e) => (e.type === 'command.executed' ? [e.data] : []));

describe('a site refuses every hub command it cannot trust, records why, and moves nothing', () => {
  it.each<[string, (h: Harness) => string, string]>([
    ['not JSON', () => '{"body":', 'malformed'],
    ['a bare body without a signature', (h) => JSON.stringify(body(h, { kind: 'unlock', door: 'front' })), 'unsigned'],
    [
      'an envelope without a signature',
      (h) => JSON.stringify({ body: body(h, { kind: 'unlock', door: 'front' }) }),
      'unsigned',
    ],
    [
      'a signature by another key',
      (h) => signed(body(h, { kind: 'unlock', door: 'front' }), OTHER.privateKeyPem),
      'forged',
    ],
    [
      'a body changed after signing',
      (h) => {
        const b = body(h, { kind: 'lockdown' });
        return JSON.stringify({
          body: { ...b, kind: 'unlock', door: 'front' },
          signature: signBody(b, hubPrivateKey(HUB.privateKeyPem)),
        });
      },
      'forged',
    ],
    [
      'a signature that is not base64 of anything',
      (h) => JSON.stringify({ body: body(h, { kind: 'unlock', door: 'front' }), signature: '!!!' }),
      'forged',
    ],
    [
      'a command for another site, signed by the hub',
      (h) => signed(body(h, { kind: 'unlock', door: 'front' }, { site: 'allanche' })),
      'foreign',
    ],
    [
      'a command that expired a second ago',
      (h) =>
        signed(
          body(
            h,
            { kind: 'unlock', door: 'front' },
            {
              issuedAt: new Date(h.clock.now() - 61_000).toISOString(),
              expiresAt: new Date(h.clock.now() - 1000).toISOString(),
            },
          ),
        ),
      'expired',
    ],
    [
      'a command issued a minute in the future',
      (h) =>
        signed(
          body(
            h,
            { kind: 'unlock', door: 'front' },
            {
              issuedAt: new Date(h.clock.now() + 60_000).toISOString(),
              expiresAt: new Date(h.clock.now() + 120_000).toISOString(),
            },
          ),
        ),
      'not_yet_valid',
    ],
    [
      'a command valid for a day',
      (h) =>
        signed(
          body(h, { kind: 'unlock', door: 'front' }, { expiresAt: new Date(h.clock.now() + 86_400_000).toISOString() }),
        ),
      'malformed',
    ],
    [
      'a command of another schema version',
      (h) => signed(body(h, { kind: 'unlock', door: 'front' }, { v: 2 })),
      'malformed',
    ],
    [
      'an unknown kind',
      (h) => signed(body(h, { kind: 'unlock', door: 'front' }, { kind: 'self_destruct' })),
      'malformed',
    ],
    ['an unlock without a door', (h) => signed(body(h, { kind: 'lockdown' }, { kind: 'unlock' })), 'malformed'],
    ['a short nonce', (h) => signed(body(h, { kind: 'unlock', door: 'front' }, { nonce: 'abc' })), 'malformed'],
    [
      'an extra key in the body',
      (h) => signed(body(h, { kind: 'unlock', door: 'front' }, { pulseMs: 60_000 })),
      'malformed',
    ],
    [
      'an unlock of a door this site does not have',
      (h) => signed(body(h, { kind: 'unlock', door: 'vault' })),
      'unknown_door',
    ],
  ])('%s: refused as %s', async (_name, make, code) => {
    const { h, commands } = await site();
    const outcome = commands.receive(make(h));
    expect(outcome).toMatchObject({ accepted: false, refused: code });
    expect(faults(h)).toEqual([expect.stringMatching(new RegExp(`^${code}: `))]);
    expect(receipts(h)).toEqual([]);
    expect(h.gpio.history(RELAY).map((c) => c.active)).toEqual([false]);
    expect(commands.refused.get(code as never)).toBe(1);
  });

  it('a valid command carried out once is refused as replayed when it comes again', async () => {
    const { h, commands } = await site();
    const message = signed(body(h, { kind: 'unlock', door: 'front' }));
    expect(commands.receive(message)).toMatchObject({ accepted: true });
    h.clock.advance(5000);
    expect(commands.receive(message)).toMatchObject({ accepted: false, refused: 'replayed' });
    expect(h.gpio.history(RELAY).map((c) => c.active)).toEqual([false, true, false]);
    expect(receipts(h)).toHaveLength(1);
    expect(faults(h)).toEqual([expect.stringMatching(/^replayed: /)]);
  });

  it('a replay is still refused after the edge restarts on the same database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-commands-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'edge.db');
    const first = await site(path);
    const message = signed(body(first.h, { kind: 'unlock', door: 'front' }));
    expect(first.commands.receive(message)).toMatchObject({ accepted: true });
    await first.h.stop();

    const again = await site(path);
    expect(again.commands.receive(message)).toMatchObject({ accepted: false, refused: 'replayed' });
    expect(again.h.gpio.history(RELAY).map((c) => c.active)).toEqual([false]);
  });
});

describe('a site carries out the hub commands it trusts', () => {
  it('unlock pulses the door relay once, as a granted badge would, and records its receipt', async () => {
    const { h, commands } = await site();
    const b = body(h, { kind: 'unlock', door: 'front' });
    expect(commands.receive(signed(b))).toEqual({ accepted: true, command: b });
    expect(h.gpio.isActive(RELAY)).toBe(true);
    h.clock.advance(3000);
    expect(h.gpio.isActive(RELAY)).toBe(false);
    expect(receipts(h)).toEqual([{ command: b.nonce, kind: 'unlock', door: 'front' }]);
  });

  it('lockdown refuses a valid badge with its reason, keeps free access shut, still lets people out; lift restores all', async () => {
    // Free access during staffed hours: at 9:00 on a Monday the door stands open.
    const { h, commands } = await site(':memory:', {
      doors: [
        {
          id: 'front',
          relay: { line: RELAY },
          pulseMs: 3000,
          freeAccess: 'staffed',
          exitButton: { line: EXIT_BUTTON, debounceMs: 0 },
        },
      ],
    });
    expect(h.gpio.isActive(RELAY)).toBe(true);
    expect(h.tap('front-in', UID.alice)).toMatchObject({ granted: true });

    expect(commands.receive(signed(body(h, { kind: 'lockdown' })))).toMatchObject({ accepted: true });
    expect(h.gpio.isActive(RELAY)).toBe(false);
    expect(h.edge.doors.get('front')?.state()).toMatchObject({ lockdown: true, freeAccess: false, mode: 'locked' });
    expect(h.tap('front-in', UID.bob)).toMatchObject({ granted: false, reason: 'lockdown' });
    expect(h.tap('lockers', UID.dan)).toMatchObject({ granted: false, reason: 'lockdown' });
    // The way out stays open: the exit reader and the exit button both pulse the door.
    expect(h.tap('front-out', UID.alice)).toMatchObject({ granted: true });
    expect(h.gpio.isActive(RELAY)).toBe(true);
    h.clock.advance(3000);
    expect(h.gpio.isActive(RELAY)).toBe(false);
    h.gpio.press(EXIT_BUTTON, true);
    h.gpio.press(EXIT_BUTTON, false);
    expect(h.gpio.isActive(RELAY)).toBe(true);
    h.clock.advance(3000);
    // The free-access window is re-checked every 30 s: still shut.
    h.clock.advance(60_000);
    expect(h.gpio.isActive(RELAY)).toBe(false);

    expect(commands.receive(signed(body(h, { kind: 'lift_lockdown' })))).toMatchObject({ accepted: true });
    expect(h.gpio.isActive(RELAY)).toBe(true);
    expect(h.tap('front-in', UID.bob)).toMatchObject({ granted: true, reason: 'ok' });
    const modes = h.events().flatMap((e) => (e.type === 'door.mode' ? [e.data.mode] : []));
    expect(modes).toEqual(['free_access', 'lockdown', 'free_access']);
    expect(receipts(h).map((r) => r.kind)).toEqual(['lockdown', 'lift_lockdown']);
  });

  it('a lockdown survives a restart: the door does not open for free access, taps stay refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-lockdown-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'edge.db');
    const doors = [{ id: 'front', relay: { line: RELAY }, pulseMs: 3000, freeAccess: 'staffed' as const }];
    const first = await site(path, { doors });
    expect(first.commands.receive(signed(body(first.h, { kind: 'lockdown' })))).toMatchObject({ accepted: true });
    await first.h.stop();

    const again = await site(path, { doors });
    expect(again.h.gpio.history(RELAY).map((c) => c.active)).toEqual([false]);
    expect(again.h.tap('front-in', UID.alice)).toMatchObject({ granted: false, reason: 'lockdown' });
    expect(again.commands.receive(signed(body(again.h, { kind: 'lift_lockdown' })))).toMatchObject({ accepted: true });
    expect(again.h.tap('front-in', UID.alice)).toMatchObject({ granted: true });
  });

  it('an unlock during a lockdown still pulses the door (an operator letting someone in) and the lockdown stays', async () => {
    const { h, commands } = await site();
    commands.receive(signed(body(h, { kind: 'lockdown' })));
    expect(commands.receive(signed(body(h, { kind: 'unlock', door: 'front' })))).toMatchObject({ accepted: true });
    expect(h.gpio.isActive(RELAY)).toBe(true);
    h.clock.advance(3000);
    expect(h.gpio.isActive(RELAY)).toBe(false);
    expect(h.tap('front-in', UID.alice)).toMatchObject({ granted: false, reason: 'lockdown' });
  });

  it('a resend is accepted and receipted here; the sync worker does the sending', async () => {
    const { h, commands } = await site();
    expect(commands.receive(signed(body(h, { kind: 'resend', fromSeq: 1 })))).toMatchObject({
      accepted: true,
      command: { kind: 'resend', fromSeq: 1 },
    });
    expect(receipts(h)).toEqual([expect.objectContaining({ kind: 'resend', fromSeq: 1 })]);
  });
});
