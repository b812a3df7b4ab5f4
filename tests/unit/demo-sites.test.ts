import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { portOr0 } from '../../demo/hub-setup.js';
import { DEMO_SITES } from '../../demo/network.js';
import { networkedSiteYaml } from '../../demo/sites.js';
import { parseSiteConfig } from '../../firmware-config/load.js';
import { generateHubKeys, hubPublicKey } from '../../shared/signing.js';
import { createPublicKey } from 'node:crypto';

const publicKeyPem = createPublicKey(generateHubKeys().privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();

describe('the demo centres', () => {
  for (const site of DEMO_SITES) {
    it(`turns the ${site.example} example into a valid networked site on simulated hardware, hub key pinned, with its own broker identity`, () => {
      const example = readFileSync(join('firmware-config', 'examples', `${site.example}.yaml`), 'utf8');
      const { yaml, facts } = networkedSiteYaml(example, { brokerUrl: 'mqtt://127.0.0.1:40000', hubPublicKeyPem: publicKeyPem, dir: '/tmp/demo', id: site.id, identity: { username: site.id, password: 'pw-of-the-site' } });
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
      expect(facts).toMatchObject({ name: config.site.name, timeZone: config.site.timeZone, capacity: config.site.capacity });
      // The readers the simulator taps exist at that site.
      const readers = config.readers.map((r) => r.id);
      for (const reader of [site.entry, site.exit, site.lockerReader].filter((r) => r !== undefined)) expect(readers).toContain(reader);
      expect(config.doors.map((d) => d.id)).toContain(site.door);
      expect(config.doors.find((d) => d.id === site.door)?.contact).toBeDefined();
    });
  }
});

describe('the demo ports', () => {
  it('keeps the preferred port when it is free, and takes any free port when something listens there', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = server.address();
    const taken = typeof address === 'object' && address ? address.port : -1;
    expect(await portOr0(taken)).toBe(0);
    await new Promise<void>((r) => server.close(() => r()));
    expect(await portOr0(taken)).toBe(taken);
  });
});
