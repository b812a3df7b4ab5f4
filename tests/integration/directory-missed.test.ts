import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { generateHubKeys, hubPrivateKey, signBody } from '../../shared/protocol/signing.js';
import type { DirectoryUpdate, SiteStatus } from '../../shared/protocol/sync.js';
import { topics } from '../../shared/protocol/topics.js';
import { startNetworkSite, startTestHub } from '../harness/network-hub.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { call } from '../support/http.js';
import { eventually } from '../support/eventually.js';

const cleanups = cleanupsAfterEach();
const t = topics();

describe('a site that missed a directory update', () => {
  it('says so in its status, with the revision it refused, until it has caught up', async () => {
    const keys = generateHubKeys();
    const { hub, mqttUrl, apiUrl, auth } = await startTestHub(cleanups, { privateKeyPem: keys.privateKeyPem });
    const site = await startNetworkSite(cleanups, 'murat', mqttUrl, hub.publicKeyPem);
    const put = await call('PUT', `${apiUrl}/directory/plans/always`, { name: '24/7', access: 'always' }, auth);
    const { revision } = put.json as { revision: number };
    await eventually(() => site.edge.store.directory.describe()?.revision === revision, 'the site holds the plan');

    const statuses: SiteStatus[] = [];
    const watcher = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0 });
    cleanups.push(() => watcher.endAsync());
    watcher.on('message', (_topic, payload) => statuses.push(JSON.parse(payload.toString()) as SiteStatus));
    await watcher.subscribeAsync(t.status('murat'), { qos: 1 });

    // A delta signed by the hub's key that does not follow on from the site's revision: the one before it was lost.
    const body: DirectoryUpdate = {
      v: 1,
      site: 'murat',
      kind: 'delta',
      from: revision + 5,
      to: revision + 6,
      issuedAt: new Date().toISOString(),
      changes: [],
    };
    const signed = JSON.stringify({ body, signature: signBody(body, hubPrivateKey(keys.privateKeyPem)) });
    await watcher.publishAsync(t.directory('murat'), signed, { qos: 1 });
    await eventually(
      () => statuses.some((s) => s.directory.missed === revision + 6),
      'the site tells the hub which revision it refused',
    );
    expect(site.edge.store.directory.describe()?.revision).toBe(revision);

    // Caught up (a change from the hub follows on from the site's revision): no longer said.
    const after = await call('PUT', `${apiUrl}/directory/plans/day`, { name: 'Day', access: 'always' }, auth);
    const next = (after.json as { revision: number }).revision;
    await eventually(() => site.edge.store.directory.describe()?.revision === next, 'the site holds the next change');
    await eventually(
      () => statuses.at(-1)?.directory.revision === next && statuses.at(-1)?.directory.missed === undefined,
      'its status no longer names a missed revision',
    );
  });
});
