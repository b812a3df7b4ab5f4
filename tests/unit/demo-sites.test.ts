import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { demoBanner, type BannerFacts } from '../../demo/banner.js';
import { choosePort, portOr0, type PortChoice } from '../../demo/hub-setup.js';
import { DEMO_SITES } from '../../demo/network.js';
import { networkedSiteYaml } from '../../demo/sites.js';
import { parseSiteConfig } from '../../firmware-config/load.js';
import { generateHubKeys, hubPublicKey } from '../../shared/protocol/signing.js';
import { createPublicKey } from 'node:crypto';

const publicKeyPem = createPublicKey(generateHubKeys().privateKeyPem)
  .export({ type: 'spki', format: 'pem' })
  .toString();

describe('the demo centres', () => {
  for (const site of DEMO_SITES) {
    it(`turns the ${site.example} example into a valid networked site on simulated hardware, hub key pinned, with its own broker identity`, () => {
      const example = readFileSync(join('firmware-config', 'examples', `${site.example}.yaml`), 'utf8');
      const { yaml, facts } = networkedSiteYaml(example, {
        brokerUrl: 'mqtt://127.0.0.1:40000',
        hubPublicKeyPem: publicKeyPem,
        dir: '/tmp/demo',
        id: site.id,
        identity: { username: site.id, password: 'pw-of-the-site' },
      });
      const parsed = parseSiteConfig(yaml, `${site.id}.yaml`, '/tmp/demo');
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      const config = parsed.value;
      expect(config.site.id).toBe(site.id);
      expect(config.directory.source).toBe('hub');
      expect(config.broker?.url).toBe('mqtt://127.0.0.1:40000');
      expect(config.broker).toMatchObject({ username: site.id, password: 'pw-of-the-site' });
      expect(() => hubPublicKey(config.broker?.hubPublicKey ?? '')).not.toThrow();
      expect(config.hardware).toMatchObject({ readers: 'simulated', gpio: 'simulated' });
      expect(config.api.port).toBe(0);
      expect(config.storage.path).toBe(`/tmp/demo/${site.id}.db`);
      expect(facts).toMatchObject({
        name: config.site.name,
        timeZone: config.site.timeZone,
        capacity: config.site.capacity,
      });
      // The readers the simulator taps exist at that site.
      const readers = config.readers.map((r) => r.id);
      for (const reader of [site.entry, site.exit, site.lockerReader].filter((r) => r !== undefined))
        expect(readers).toContain(reader);
      expect(config.doors.map((d) => d.id)).toContain(site.door);
      expect(config.doors.find((d) => d.id === site.door)?.contact).toBeDefined();
      expect(
        config.doors.find((d) => d.id === site.door)?.exitButton !== undefined,
        'exitButton as the config has it',
      ).toBe(site.exitButton);
    });
  }
});

/** A port something listens on, for as long as the test needs it taken. */
async function occupiedPort(): Promise<{ port: number; release: () => Promise<void> }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : -1;
  return { port, release: () => new Promise<void>((r) => server.close(() => r())) };
}

const banner = (api: PortChoice, broker: PortChoice) => {
  const facts: BannerFacts = {
    oneTimeAdmin: undefined,
    apiUrl: 'http://127.0.0.1:9000',
    mqttUrl: 'mqtt://127.0.0.1:9001',
    ports: { api, broker },
    sites: [],
    dir: '/tmp/demo',
    hourMs: 60_000,
  };
  return demoBanner(facts);
};

describe('the demo ports', () => {
  it('keeps the preferred port when it is free, and takes any free port when something listens there', async () => {
    const { port: taken, release } = await occupiedPort();
    expect(await portOr0(taken)).toBe(0);
    await release();
    expect(await portOr0(taken)).toBe(taken);
  });

  it('takes the port asked for as is, without looking at the default', async () => {
    const { port: taken, release } = await occupiedPort();
    try {
      expect(await choosePort(9000, taken)).toEqual({ port: 9000 });
      expect(await choosePort(0, taken)).toEqual({ port: 0 });
      expect(await choosePort(undefined, taken)).toEqual({ port: 0, defaultTaken: taken });
    } finally {
      await release();
    }
    expect(await choosePort(undefined, taken)).toEqual({ port: taken });
  });

  it('says a default port was taken only when the default was wanted and taken', async () => {
    const { port: taken, release } = await occupiedPort();
    try {
      const [api, broker] = [await choosePort(undefined, taken), await choosePort(9001, 1883)];
      const text = banner(api, broker);
      expect(text).toMatch(
        new RegExp(`Dashboard: +http://127\\.0\\.0\\.1:9000/  \\(${taken} was taken: any free port\\)\\n`),
      );
      expect(text).toMatch(/MQTT broker: +mqtt:\/\/127\.0\.0\.1:9001 \(embedded; provisioned sites only[^\n(]*\)\n/);
    } finally {
      await release();
    }
    // --api-port 9000, --broker-port 9001: ports asked for, nothing was taken.
    expect(banner(await choosePort(9000, 8080), await choosePort(9001, 1883))).not.toContain('was taken');
  });
});
