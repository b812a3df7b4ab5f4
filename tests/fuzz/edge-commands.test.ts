import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubCommands } from '../../edge/commands/hub-commands.js';
import { COMMAND_REFUSALS, type CommandBody, type CommandRefusal } from '../../shared/protocol/commands.js';
import {
  canonicalJson,
  generateHubKeys,
  hubPrivateKey,
  hubPublicKey,
  signBody,
} from '../../shared/protocol/signing.js';
import { startSite, type Harness } from '../harness/site.js';
import { jsonInputs, must, mutatedFrom, prototypeIsClean, same, toJsonText } from './kit.js';
import { fuzz, inputs, part } from '../support/fuzz.js';
import { silent } from '../support/logger.js';

const HUB = generateHubKeys();
const THIEF = generateHubKeys();
const N = inputs(12_000);
const RELAY = 17;

describe('fuzz: hub commands at the edge (edge/commands/check.ts)', () => {
  let site: Harness;
  let commands: HubCommands;
  const signed = (body: unknown, key = HUB.privateKeyPem) => ({ body, signature: signBody(body, hubPrivateKey(key)) });
  /** What a refused command must leave as it was: the relay, the lockdown, the nonces, the resend point. */
  const state = () => ({
    relay: site.gpio.history(RELAY).length,
    lockdown: site.edge.commands.lockdown,
    nonces: site.store.db.prepare('SELECT count(*) AS n FROM command_nonces').get(),
    acked: site.store.events.ackedSeq(),
  });
  const at = (ms: number) => new Date(Date.parse('2026-11-23T08:00:00Z') + ms).toISOString();
  const command = (kind: string, extra: object, nonce: string, from = 0): CommandBody =>
    ({ v: 1, site: 'murat', kind, nonce, issuedAt: at(from), expiresAt: at(from + 60_000), ...extra }) as CommandBody;

  beforeAll(async () => {
    site = await startSite();
    commands = new HubCommands({
      site: 'murat',
      publicKey: hubPublicKey(HUB.publicKeyPem),
      edge: site.edge,
      clock: site.clock,
      log: silent,
    });
    // One genuine command carried out: a copy of it is a replay.
    expect(
      commands.receive(JSON.stringify(signed(command('lift_lockdown', {}, 'carried-out-nonce-0001')))),
    ).toMatchObject({ accepted: true });
  });
  afterAll(() => site.stop());

  function refused(payload: Buffer | string): CommandRefusal {
    const before = state();
    const outcome = commands.receive(payload);
    if (outcome.accepted) throw new Error(`obeyed: ${JSON.stringify(outcome.command)}`);
    same(state(), before, 'the site after a refused command');
    must(COMMAND_REFUSALS.includes(outcome.refused), `refusal ${outcome.refused}`);
    return outcome.refused;
  }

  it(`garbage, a thief's signature, replays and expired commands are refused with a code and do nothing (${part(N, 2)} inputs)`, () => {
    const bodies = [
      signed(command('unlock', { door: 'front' }, 'thief-nonce-000000001'), THIEF.privateKeyPem),
      signed(command('lockdown', {}, 'thief-nonce-000000002'), THIEF.privateKeyPem),
      signed(command('lift_lockdown', {}, 'carried-out-nonce-0001')),
      signed(command('unlock', { door: 'front' }, 'expired-nonce-0000001', -3_600_000)),
      signed(command('resend', { fromSeq: 1 }, 'foreign-nonce-0000001'), THIEF.privateKeyPem),
    ];
    fuzz(
      fc.property(jsonInputs(bodies), (payload) => void refused(payload)),
      part(N, 2),
    );
    expect(prototypeIsClean()).toBe(true);
  });

  it(`a genuine command changed after the hub signed it is refused as malformed or forged (${part(N, 2)} inputs)`, () => {
    const genuine = [
      command('unlock', { door: 'front' }, 'fresh-nonce-000000001'),
      command('lockdown', {}, 'fresh-nonce-000000002'),
      command('resend', { fromSeq: 3 }, 'fresh-nonce-000000003'),
    ].map((b) => signed(b));
    const tampered = mutatedFrom(genuine.map((g) => g.body)).filter(({ from, value }) => {
      try {
        return canonicalJson(value) !== canonicalJson(genuine[from]!.body);
      } catch {
        return true;
      }
    });
    fuzz(
      fc.property(tampered, ({ from, value }) => {
        const refusal = refused(toJsonText({ body: value, signature: genuine[from]!.signature }));
        must(refusal === 'malformed' || refusal === 'forged', `a changed command refused as ${refusal}`);
      }),
      part(N, 2),
    );
  });
});
