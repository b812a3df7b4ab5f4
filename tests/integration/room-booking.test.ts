import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BOOKING_GRACE_MINUTES } from '../../shared/protocol/bookings.js';
import { finished, spawnCli, waitForOutput } from '../harness/process.js';

// A standalone site, as on a Pi cut off from everything: its directory from a file, simulated
// readers and relays, no broker. The room's door opens for its booking's holder only.

const ALICE = '04A1A1A1A1A1A1';
const BOB = '04B0B0B0B0B0B0';
const FRONT_RELAY = 17;
const SALON_RELAY = 23;
const HOUR_MS = 3_600_000;
const GRACE_MS = BOOKING_GRACE_MINUTES * 60_000;

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Alice's booking of the salon, an hour from now (the site prunes bookings long over at start). */
function siteFolder(booking: { start: number; end: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-room-'));
  dirs.push(dir);
  const config = join(dir, 'site.yaml');
  writeFileSync(
    config,
    `version: 2
site: { id: murat, name: Murat, timeZone: Europe/Paris, capacity: 10 }
readers:
  - { id: front-in, match: "00 00", role: entry, door: front }
  - { id: salon-in, match: "00 01", role: room, door: salon, resource: salon }
doors:
  - { id: front, relay: { line: ${FRONT_RELAY} }, pulseMs: 60000 }
  - { id: salon, relay: { line: ${SALON_RELAY} }, pulseMs: 60000 }
directory: { source: file, path: directory.yaml }
storage: { path: edge.db }
api: { port: 0 }
`,
  );
  writeFileSync(
    join(dir, 'directory.yaml'),
    `revision: 1
plans: [{ id: always, name: "24/7", access: always }]
members:
  - { id: alice, name: Alice, plan: always }
  - { id: bob, name: Bob, plan: always }
badges:
  - { uid: "${ALICE}", member: alice }
  - { uid: "${BOB}", member: bob }
resources:
  - id: salon
    site: murat
    kind: room
    name: Salon
    capacity: 6
    reader: salon-in
    hours: [{ days: [mon, tue, wed, thu, fri, sat, sun], from: "00:00", to: "24:00" }]
bookings:
  - { id: bk-1, resource: salon, site: murat, member: alice, start: "${new Date(booking.start).toISOString()}", end: "${new Date(booking.end).toISOString()}" }
`,
  );
  return { config, gpio: join(dir, 'gpio') };
}

const relay = (gpioDir: string, line: number) => readFileSync(join(gpioDir, `gpio${line}`), 'utf8');

async function tap(url: string, reader: string, uid: string, at: number) {
  const res = await fetch(`${url}/simulate/tap`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reader, uid, at: new Date(at).toISOString() }),
  });
  return (await res.json()) as { granted: boolean; reason: string; door: string | null; presence: string | null };
}

describe('a room door opens for its booking offline', () => {
  it('the salon’s reader opens its relay for Alice within her booking’s grace, refuses Bob, and refuses her after', async () => {
    const start = Math.ceil((Date.now() + HOUR_MS) / 60_000) * 60_000;
    const booking = { start, end: start + HOUR_MS };
    const site = siteFolder(booking);
    const child = spawnCli(['edge', '--config', site.config, '--simulate'], { TESSERA_SIM_GPIO_DIR: site.gpio });
    try {
      const url = (await waitForOutput(child, /"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1] ?? '';
      expect(await tap(url, 'salon-in', ALICE, start - GRACE_MS - 1)).toMatchObject({
        granted: false,
        reason: 'no_booking',
      });
      expect(await tap(url, 'salon-in', BOB, start + 10 * 60_000)).toMatchObject({
        granted: false,
        reason: 'no_booking',
      });
      expect(relay(site.gpio, SALON_RELAY)).toBe('0');

      expect(await tap(url, 'salon-in', ALICE, start - GRACE_MS)).toEqual(
        expect.objectContaining({ granted: true, reason: 'booking', door: 'salon', presence: null }),
      );
      expect(relay(site.gpio, SALON_RELAY)).toBe('1');
      expect(relay(site.gpio, FRONT_RELAY)).toBe('0');

      expect(await tap(url, 'salon-in', ALICE, booking.end + GRACE_MS)).toMatchObject({
        granted: false,
        reason: 'no_booking',
      });
      const occupancy = (await (await fetch(`${url}/occupancy`)).json()) as { count: number };
      expect(occupancy.count).toBe(0);
      const { events } = (await (await fetch(`${url}/events?limit=1000`)).json()) as {
        events: Array<{ type: string; data: Record<string, unknown> }>;
      };
      const roomTaps = events.filter((e) => e.data.reader === 'salon-in');
      expect(roomTaps.map((e) => [e.type, e.data.memberId, e.data.reason])).toEqual([
        ['access.denied', 'alice', 'no_booking'],
        ['access.denied', 'bob', 'no_booking'],
        ['access.granted', 'alice', 'booking'],
        ['access.denied', 'alice', 'no_booking'],
      ]);
      expect(roomTaps.every((e) => e.data.role === 'room' && e.data.resource === 'salon')).toBe(true);
      expect(events.some((e) => e.type === 'presence.in')).toBe(false);
    } finally {
      child.kill('SIGTERM');
      expect((await finished(child)).code).toBe(0);
    }
  });
});
