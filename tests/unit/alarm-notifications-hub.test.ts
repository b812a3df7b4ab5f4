import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNotifications, parseNotifications, type NotificationPlan } from '../../cloud-sync/hub/notify/config.js';
import { hubCommand } from '../../cloud-sync/hub-process/cli.js';
import { createHub, type Hub } from '../../cloud-sync/hub-process/hub.js';
import { ManualClock } from '../../shared/platform/clock.js';
import { EXIT } from '../../shared/platform/command.js';
import { topics } from '../../shared/protocol/topics.js';
import { batchOf, json, statusOf } from '../harness/hub-fixtures.js';
import { testHubDb } from '../harness/hub-db.js';
import { startTestHub } from '../harness/network-hub.js';
import { webhookReceiver, type WebhookReceiver } from '../harness/webhook-receiver.js';
import { cleanupsAfterEach } from '../support/cleanups.js';
import { silent } from '../support/logger.js';

const MINUTE = 60_000;
const t = topics();

const planYaml = (hook: string) => `
recipients:
  ops: { webhook: "${hook}" }
rules:
  - { alarms: [door.forced], urgent: true, levels: [{ afterMinutes: 0, notify: [ops] }] }
  - { alarms: [site.offline], levels: [{ afterMinutes: 15, notify: [ops] }] }
`;

function planOf(yaml: string): NotificationPlan {
  const loaded = parseNotifications(yaml, 'notifications.yaml', {}, '/');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.value;
}

const types = (r: WebhookReceiver) =>
  r.calls.map((c) => {
    const body = JSON.parse(c.body) as { type: string; alarm: { site: string; kind: string } };
    return [body.type, body.alarm.kind, body.alarm.site];
  });

describe('alarm notifications from a hub', () => {
  const cleanups = cleanupsAfterEach();

  describe('site offline, judged on the hub clock', () => {
    let hub: Hub;
    let clock: ManualClock;
    let receiver: WebhookReceiver;
    afterEach(async () => {
      await hub.stop();
      await receiver.close();
    });

    async function start() {
      receiver = await webhookReceiver();
      clock = new ManualClock('2026-11-23T10:00:00Z');
      hub = await createHub({
        dbPath: await testHubDb(),
        clock,
        log: silent,
        notifications: planOf(planYaml(receiver.url)),
      });
    }
    async function report(online: boolean) {
      hub.ingest.onMessage(t.status('murat'), json(statusOf('murat', { online })));
      await hub.ingest.settled();
      await hub.live.settled();
    }
    async function advance(ms: number) {
      clock.advance(ms);
      await hub.live.settled();
      await hub.notifier?.settled();
    }

    it('is notified once offline for 15 minutes, then resolved when it comes back', async () => {
      await start();
      await report(false);
      await advance(15 * MINUTE - 1000);
      expect(receiver.calls).toHaveLength(0);
      await advance(1000);
      expect(types(receiver)).toEqual([['alarm.raised', 'site.offline', 'murat']]);
      await report(true);
      await hub.notifier?.settled();
      expect(types(receiver)).toEqual([
        ['alarm.raised', 'site.offline', 'murat'],
        ['alarm.resolved', 'site.offline', 'murat'],
      ]);
    });

    it('is not notified when it came back within the 15 minutes', async () => {
      await start();
      await report(false);
      await advance(10 * MINUTE);
      await report(true);
      await advance(5 * MINUTE + 1000);
      expect(receiver.calls).toHaveLength(0);
      expect(hub.notifier?.stats).toEqual({ sent: 0, failed: 0, held: 0, dropped: 0 });
    });
  });

  it('a door.forced event a site publishes reaches the hub and calls the webhook with the site and the door', async () => {
    const receiver = await webhookReceiver();
    cleanups.push(() => receiver.close());
    const { mqttUrl } = await startTestHub(cleanups, { notifications: planOf(planYaml(receiver.url)) });
    const site = await mqtt.connectAsync(mqttUrl, { protocolVersion: 4, reconnectPeriod: 0, clientId: 'site-murat' });
    cleanups.push(() => site.endAsync());
    await site.publishAsync(t.events('murat'), json(batchOf('murat', 1, 1)), { qos: 1 });
    await receiver.waitFor(1);
    expect(JSON.parse(receiver.calls[0]?.body ?? '')).toMatchObject({
      type: 'alarm.raised',
      alarm: { site: 'murat', kind: 'door.forced', subject: 'front' },
    });
  });

  it('a bad notifications file is refused with each error and its path, and the hub does not start', async () => {
    const bad = parseNotifications(
      `
recipients:
  ops: { webhook: "ftp://example.org/hook", secret: "in-the-file" }
  night: { webhook: "https://example.org/hook", secretEnv: NIGHT_SECRET }
  team: { email: [not-an-address] }
rules:
  - alarms: [door.smashed]
    levels: [{ afterMinutes: 0, notify: [ops] }]
quietHours: { timeZone: Europe/Atlantis, from: "22:00", to: "25:00" }
`,
      'notifications.yaml',
      {},
      '/',
    );
    expect(bad.ok).toBe(false);
    const errors = bad.ok ? [] : bad.errors.map((e) => `${e.path}: ${e.message}`);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^recipients\.ops\.webhook: expected an http:\/\/ or https:\/\/ URL/),
        'recipients.ops.secret: unknown key "secret"',
        expect.stringMatching(/^recipients\.team\.email\[0\]: expected a valid email/),
        expect.stringMatching(/^rules\[0\]\.alarms\[0\]: expected one of "door\.forced"/),
        expect.stringMatching(/^quietHours\.timeZone: expected an IANA time zone/),
        expect.stringMatching(/^quietHours\.to: expected a time HH:MM/),
      ]),
    );
    // Once each part is well formed, how they fit together is checked.
    const unfit = parseNotifications(
      `
recipients: { ops: { webhook: "https://example.org/h" } }
rules:
  - alarms: [door.held]
    levels: [{ afterMinutes: 10, notify: [ops] }, { afterMinutes: 5, notify: [nobody] }]
`,
      'notifications.yaml',
      {},
      '/',
    );
    expect(unfit.ok ? [] : unfit.errors).toEqual([
      { path: 'rules[0].levels[1].afterMinutes', message: 'expected more than the level before (10), got 5' },
      { path: 'rules[0].levels[1].notify[0]', message: 'no recipient named "nobody" under recipients' },
    ]);
    // Then a secret named but missing is refused too.
    const missing = parseNotifications(
      planYaml('https://example.org/h').replace('}', ', secretEnv: HOOK_SECRET }'),
      'n.yaml',
      {},
      '/',
    );
    expect(missing.ok ? [] : missing.errors).toEqual([
      { path: 'recipients.ops.secretEnv', message: 'the environment variable HOOK_SECRET is not set' },
    ]);

    const dir = mkdtempSync(join(tmpdir(), 'tessera-notify-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'notifications.yaml'), 'recipients: {}\nrules: []\n');
    const err: string[] = [];
    const code = await hubCommand.run(
      ['--db', join(dir, 'hub.db'), '--notifications', join(dir, 'notifications.yaml')],
      { out: () => undefined, err: (s) => err.push(s) },
    );
    expect(code).toBe(EXIT.FAILURE);
    expect(err.join('\n')).toContain('notifications.yaml refused:\n  rules: expected at least 1 item');
    expect(existsSync(join(dir, 'hub.key'))).toBe(false);
  });

  it('the example in deploy/ is a valid notifications file', () => {
    const loaded = loadNotifications('deploy/notifications.example.yaml', {
      TESSERA_WEBHOOK_SECRET: 'an-example-secret',
    });
    expect(loaded.ok ? [...loaded.value.recipients.keys()] : loaded.errors).toEqual([
      'ops-webhook',
      'on-call',
      'managers',
    ]);
  });
});
