import { ManualClock } from '../../shared/platform/clock.js';
import { Directory } from '../../shared/protocol/directory.js';
import type { z } from 'zod';
import { SiteConfig } from '../../firmware-config/schema.js';
import type { SiteConfigInput } from '../../firmware-config/schema.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { SimReader, type SimCard } from '../../edge/hardware/sim-reader.js';
import { createEdge } from '../../edge/site/edge.js';
import type { Edge, EdgeDeps } from '../../edge/site/edge.js';
import type { TapResult } from '../../edge/site/tap-handler.js';
import { EdgeStore } from '../../edge/store/store.js';
import { SiteEvent } from '../../shared/protocol/events.js';
import { HubCommands } from '../../edge/commands/hub-commands.js';
import { COMMAND_SCHEMA_VERSION, type CommandBody, type CommandRequest } from '../../shared/protocol/commands.js';
import { hubPrivateKey, hubPublicKey, signBody } from '../../shared/protocol/signing.js';
import type { Cleanup } from '../support/cleanups.js';
import { silent } from '../support/logger.js';

/** Monday 23 November 2026, 09:00 in Paris (UTC+1). */
export const MONDAY_9AM_PARIS = '2026-11-23T08:00:00Z';

export const BASE_CONFIG: SiteConfigInput = {
  site: { id: 'murat', name: 'Télécentre de Murat', timeZone: 'Europe/Paris', capacity: 3 },
  hours: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:30', to: '18:30' }],
  readers: [
    { id: 'front-in', match: 'ACR122U 00', role: 'entry', door: 'front' },
    { id: 'front-out', match: 'ACR122U 01', role: 'exit', door: 'front' },
    { id: 'lockers', match: 'ACR122U 02', role: 'locker-bank', bank: 'bank-a' },
    { id: 'own-lockers', match: 'ACR122U 03', role: 'locker-bank', bank: 'bank-b' },
  ],
  doors: [
    {
      id: 'front',
      relay: { line: 17 },
      pulseMs: 3000,
      contact: { line: 27, debounceMs: 0 },
      exitButton: { line: 22, debounceMs: 0 },
    },
  ],
  lockers: [
    { id: 'bank-a', mode: 'free', relays: [5, 6] },
    { id: 'bank-b', mode: 'assigned', relays: [12, 13] },
  ],
  directory: { source: 'file', path: '/nonexistent/directory.yaml' },
  storage: { path: ':memory:' },
};

export const BASE_DIRECTORY: z.input<typeof Directory> = {
  revision: 1,
  plans: [
    { id: 'always', name: '24/7', access: 'always', lockers: true },
    { id: 'staffed', name: 'Staffed hours', access: 'staffed' },
    { id: 'two-days', name: '2 days a week', access: 'always', daysPerWeek: 2 },
  ],
  employers: [{ id: 'acme', name: 'ACME' }],
  members: [
    { id: 'alice', name: 'Alice Martin', plan: 'always', employer: 'acme', locker: { bank: 'bank-b', number: 2 } },
    { id: 'bob', name: 'Bob Durand', plan: 'staffed' },
    { id: 'chloe', name: 'Chloé Petit', plan: 'two-days' },
    { id: 'dan', name: 'Dan Roux', plan: 'always' },
    { id: 'eve', name: 'Eve Blanc', plan: 'always' },
  ],
  badges: [
    { uid: '04A1A1A1A1A1A1', member: 'alice' },
    { uid: '04B0B0B0B0B0B0', member: 'bob' },
    { uid: '04C0C0C0C0C0C0', member: 'chloe' },
    { uid: '04D0D0D0D0D0D0', member: 'dan' },
    { uid: '04E0E0E0E0E0E0', member: 'eve' },
    { uid: '04FFFFFFFFFFFF', member: 'dan', status: 'revoked' },
  ],
};

export const UID = {
  alice: '04A1A1A1A1A1A1',
  bob: '04B0B0B0B0B0B0',
  chloe: '04C0C0C0C0C0C0',
  dan: '04D0D0D0D0D0D0',
  eve: '04E0E0E0E0E0E0',
  revoked: '04FFFFFFFFFFFF',
};

export interface Harness {
  edge: Edge;
  clock: ManualClock;
  reader: SimReader;
  gpio: SimGpio;
  store: EdgeStore;
  tap(reader: string, uid: string): TapResult;
  /** A tap whose decision may wait on the card (secure badges): resolves with the result. */
  tapCard(reader: string, uid: string, card?: SimCard): Promise<TapResult>;
  events(): SiteEvent[];
  eventTypes(): string[];
  taps(): Edge['taps']['counts'];
  stop(): Promise<void>;
}

/**
 * A whole site wired as in production (real store, policy, presence, lockers, doors) with only
 * hardware and time simulated. `override` replaces top-level config sections.
 */
export async function startSite(
  override: Partial<SiteConfigInput> = {},
  directory = BASE_DIRECTORY,
  start = MONDAY_9AM_PARIS,
  storagePath = ':memory:',
  extra: Pick<EdgeDeps, 'verifier' | 'elapsedMs'> = {},
): Promise<Harness> {
  const config = SiteConfig.parse({ ...BASE_CONFIG, ...override });
  const clock = new ManualClock(start);
  const reader = new SimReader(
    config.readers.map((r) => r.id),
    clock,
  );
  const gpio = new SimGpio(clock);
  const store = EdgeStore.open(storagePath, config.site.id, config.site.timeZone);
  const edge = createEdge({ config, clock, log: silent, store, reader, gpio, ...extra });
  edge.applyDirectory(Directory.parse(directory), 'test');
  await edge.start();
  return {
    edge,
    clock,
    reader,
    gpio,
    store,
    tap(readerId, uid) {
      let result: TapResult | undefined;
      const off = edge.onTap((r) => (result = r));
      reader.tap(readerId, uid);
      off();
      if (!result) throw new Error(`no decision for ${uid} at ${readerId}`);
      return result;
    },
    tapCard(readerId, uid, card) {
      return new Promise((resolve) => {
        const off = edge.onTap((r) => {
          off();
          resolve(r);
        });
        reader.tap(readerId, uid, card ? { card } : {});
      });
    },
    events: () => store.events.list(0, 1_000_000).map((e) => SiteEvent.parse(e)),
    eventTypes: () => store.events.list(0, 1_000_000).map((e) => e.type),
    taps: () => edge.taps.counts,
    async stop() {
      await edge.stop();
      store.close();
    },
  };
}

/** A site as startSite makes it (stopped by `cleanups`), with the executor of the hub's commands, which trusts `hubPublicKeyPem`. */
export async function siteTakingCommands(
  cleanups: Cleanup[],
  hubPublicKeyPem: string,
  storagePath = ':memory:',
  override: Partial<SiteConfigInput> = {},
): Promise<{ h: Harness; commands: HubCommands }> {
  const h = await startSite(override, undefined, undefined, storagePath);
  cleanups.push(() => h.stop());
  const commands = new HubCommands({
    site: 'murat',
    publicKey: hubPublicKey(hubPublicKeyPem),
    edge: h.edge,
    clock: h.clock,
    log: silent,
  });
  return { h, commands };
}

let commandCounter = 0;
/** A command body as the hub makes it for `murat`, with a fresh nonce, valid `ttlMs` from the site's clock now. */
export function commandBody(
  h: Pick<Harness, 'clock'>,
  request: CommandRequest,
  ttlMs: number,
  over: Record<string, unknown> = {},
): CommandBody {
  const now = h.clock.now();
  commandCounter++;
  return {
    v: COMMAND_SCHEMA_VERSION,
    site: 'murat',
    nonce: `test-nonce-${String(commandCounter).padStart(8, '0')}`,
    issuedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + ttlMs).toISOString(),
    ...request,
    ...over,
  } as CommandBody;
}

/** The envelope the hub publishes: `b` with its signature by `privateKeyPem`. */
export const signedCommand = (b: unknown, privateKeyPem: string) =>
  JSON.stringify({ body: b, signature: signBody(b, hubPrivateKey(privateKeyPem)) });
