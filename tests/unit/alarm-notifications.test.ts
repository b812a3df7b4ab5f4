import { createHmac } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmNotifier, type NotifierDeps } from '../../cloud-sync/hub/notify/notifier.js';
import { parseNotifications, type NotificationPlan } from '../../cloud-sync/hub/notify/config.js';
import { Mailer } from '../../cloud-sync/hub/self-service/mailer.js';
import { type Clock, ManualClock, systemClock } from '../../shared/platform/clock.js';
import type { Alarm } from '../../shared/protocol/api/hub-occupancy.js';
import { LogCapture } from '../harness/log-capture.js';
import { closedPort, decoded, smtpServer, type TestSmtp } from '../harness/smtp.js';
import { webhookReceiver, type WebhookReceiver } from '../harness/webhook-receiver.js';
import { silent } from '../support/logger.js';

const MINUTE = 60_000;
const SECRET = 'a-shared-webhook-secret-0123456789';

/** Ops hear of forced doors at once (urgent), of held doors and offline sites after a while; managers later still. */
const planYaml = (hook: string, quiet = '') => `
recipients:
  ops: { webhook: "${hook}", secretEnv: HOOK_SECRET }
  oncall: { email: [oncall@tessera.test] }
  managers: { email: [boss@tessera.test, deputy@tessera.test] }
rules:
  - alarms: [door.forced]
    urgent: true
    levels:
      - { afterMinutes: 0, notify: [ops, oncall] }
      - { afterMinutes: 10, notify: [managers] }
  - alarms: [site.offline, door.held]
    levels:
      - { afterMinutes: 15, notify: [ops] }
${quiet}`;

const hookOnly = (hook: string) => `
recipients: { ops: { webhook: "${hook}", secretEnv: HOOK_SECRET } }
rules: [{ alarms: [door.forced], urgent: true, levels: [{ afterMinutes: 0, notify: [ops] }] }]
`;

function planOf(yaml: string): NotificationPlan {
  const loaded = parseNotifications(yaml, 'notifications.yaml', { HOOK_SECRET: SECRET }, '/');
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors));
  return loaded.value;
}

let nextId = 1;
const alarmAt = (at: number, over: Partial<Alarm> = {}): Alarm => ({
  id: nextId++,
  site: 'murat',
  kind: 'door.forced',
  subject: 'front',
  detail: null,
  raisedAt: new Date(at).toISOString(),
  count: 1,
  clearedAt: null,
  clearedBy: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  open: true,
  ...over,
});

const bodies = (r: WebhookReceiver) => r.calls.map((c) => JSON.parse(c.body) as Record<string, unknown>);

describe('alarm notifications', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setUp(
    opts: { clock?: Clock; quiet?: string; answers?: Array<number | 'hang'>; deps?: Partial<NotifierDeps> } = {},
  ) {
    const receiver = await webhookReceiver(opts.answers);
    const smtp: TestSmtp = await smtpServer();
    const mailer = new Mailer({ smtpUrl: smtp.url, from: 'Tessera <alarms@tessera.test>' }, silent);
    const clock = opts.clock ?? new ManualClock('2026-11-23T10:00:00Z');
    const notifier = new AlarmNotifier({
      plan: planOf(planYaml(receiver.url, opts.quiet)),
      clock,
      log: silent,
      mailer,
      retry: { backoffMs: 10, timeoutMs: 5_000 },
      ...opts.deps,
    });
    cleanups.push(
      () => receiver.close(),
      () => smtp.close(),
      () => mailer.close(),
      () => notifier.stop(),
    );
    return { receiver, smtp, notifier, clock };
  }

  it('a forced door goes out at once by webhook and email, naming the site and the door, signed', async () => {
    const { receiver, smtp, notifier, clock } = await setUp();
    notifier.observe(alarmAt(clock.now()));
    await notifier.settled();
    expect(receiver.calls).toHaveLength(1);
    const [call] = receiver.calls;
    expect(JSON.parse(call?.body ?? '')).toMatchObject({
      v: 1,
      type: 'alarm.raised',
      level: 1,
      urgent: true,
      alarm: { site: 'murat', kind: 'door.forced', subject: 'front' },
    });
    // What a receiver does: recompute the HMAC over "<timestamp>.<body>" with the shared secret.
    const timestamp = String(call?.headers['x-tessera-timestamp']);
    expect(Number(timestamp) * 1000).toBe(clock.now());
    const expected = createHmac('sha256', SECRET).update(`${timestamp}.${call?.body}`).digest('hex');
    expect(call?.headers['x-tessera-signature']).toBe(`sha256=${expected}`);
    const wrong = createHmac('sha256', 'another-secret').update(`${timestamp}.${call?.body}`).digest('hex');
    expect(call?.headers['x-tessera-signature']).not.toBe(`sha256=${wrong}`);
    expect(smtp.received.map((m) => m.to)).toEqual([['oncall@tessera.test']]);
    const mail = decoded(smtp.received[0]?.raw ?? '');
    expect(mail).toContain('Subject: [Tessera] door.forced at site murat, door front');
    expect(mail).toContain('Door: front');
    expect(notifier.stats).toEqual({ sent: 2, failed: 0, held: 0, dropped: 0 });
  });

  it('an alarm with a delay goes out only once it lasted, and not at all when it cleared before', async () => {
    const { receiver, notifier, clock } = await setUp();
    const clock_ = clock as ManualClock;
    const brief = alarmAt(clock.now(), { kind: 'site.offline', subject: 'murat' });
    const lasting = alarmAt(clock.now(), { kind: 'site.offline', site: 'lyon', subject: 'lyon' });
    notifier.observe(brief);
    notifier.observe(lasting);
    clock_.advance(14 * MINUTE);
    notifier.observe({ ...brief, clearedAt: new Date(clock.now()).toISOString(), clearedBy: 'site.online' });
    await notifier.settled();
    expect(receiver.calls).toHaveLength(0);
    clock_.advance(MINUTE);
    await notifier.settled();
    expect(bodies(receiver)).toMatchObject([{ type: 'alarm.raised', alarm: { site: 'lyon', kind: 'site.offline' } }]);
    // The one that cleared unseen gets no resolved notice either: nobody heard of it.
    clock_.advance(60 * MINUTE);
    await notifier.settled();
    expect(receiver.calls).toHaveLength(1);
  });

  it('an alarm still unacknowledged after the next delay goes to the second level; an acknowledged one does not', async () => {
    const { receiver, smtp, notifier, clock } = await setUp();
    const clock_ = clock as ManualClock;
    const seen = alarmAt(clock.now(), { subject: 'back' });
    notifier.observe(alarmAt(clock.now()));
    notifier.observe(seen);
    await notifier.settled();
    clock_.advance(5 * MINUTE);
    notifier.observe({ ...seen, acknowledgedAt: new Date(clock.now()).toISOString(), acknowledgedBy: 'ana' });
    clock_.advance(5 * MINUTE);
    await notifier.settled();
    expect(receiver.calls).toHaveLength(2);
    const toManagers = smtp.received.filter((m) => m.to.includes('boss@tessera.test'));
    expect(toManagers.map((m) => m.to)).toEqual([['boss@tessera.test', 'deputy@tessera.test']]);
    expect(decoded(toManagers[0]?.raw ?? '')).toContain('still active, unacknowledged (level 2)');
    expect(decoded(toManagers[0]?.raw ?? '')).toContain('door front');
  });

  it('a notified alarm that clears is told as resolved to everyone who heard of it', async () => {
    const { receiver, smtp, notifier, clock } = await setUp();
    const clock_ = clock as ManualClock;
    const forced = alarmAt(clock.now());
    notifier.observe(forced);
    clock_.advance(11 * MINUTE);
    await notifier.settled();
    notifier.observe({ ...forced, clearedAt: new Date(clock.now()).toISOString(), clearedBy: 'door.secured' });
    await notifier.settled();
    expect(bodies(receiver).map((b) => b.type)).toEqual(['alarm.raised', 'alarm.resolved']);
    expect(bodies(receiver)[1]).toMatchObject({ level: 2, alarm: { clearedBy: 'door.secured' } });
    const subjects = smtp.received.map((m) => /Subject: (.*)/.exec(decoded(m.raw))?.[1]);
    expect(subjects.filter((s) => s?.includes('resolved'))).toHaveLength(2); // oncall and the managers
    // Acknowledged once over, it is not told again.
    notifier.observe({
      ...forced,
      clearedAt: 'x',
      clearedBy: 'door.secured',
      acknowledgedAt: 'y',
      acknowledgedBy: 'ana',
    });
    await notifier.settled();
    expect(receiver.calls).toHaveLength(2);
  });

  it('in quiet hours a non-urgent alarm is held and summarised at their end, on the right hour across a DST change', async () => {
    const quiet = 'quietHours: { timeZone: Europe/Paris, from: "22:00", to: "07:00" }';
    // Spring forward (the night has 8 hours) and fall back (10 hours): 07:00 in Paris is 05:00 then 06:00 UTC.
    for (const [raised, end] of [
      ['2026-03-28T22:30:00Z', '2026-03-29T05:00:00Z'],
      ['2026-10-24T22:30:00Z', '2026-10-25T06:00:00Z'],
    ] as const) {
      const clock = new ManualClock(Date.parse(raised) - 15 * MINUTE);
      const { receiver, notifier } = await setUp({ clock, quiet });
      notifier.observe(alarmAt(clock.now(), { kind: 'site.offline', subject: 'murat' }));
      clock.advanceTo(Date.parse(end) - 1);
      await notifier.settled();
      expect(receiver.calls).toHaveLength(0);
      expect(notifier.stats.held).toBe(1);
      clock.advanceTo(end);
      await notifier.settled();
      expect(bodies(receiver)).toMatchObject([
        {
          type: 'alarms.summary',
          at: new Date(end).toISOString(),
          heldSince: raised.replace('Z', '.000Z'),
          notices: [{ type: 'alarm.raised', alarm: { kind: 'site.offline', site: 'murat' } }],
        },
      ]);
    }
  });

  it('an urgent alarm in quiet hours goes out at once', async () => {
    const clock = new ManualClock('2026-11-23T23:30:00Z');
    const { receiver, notifier } = await setUp({
      clock,
      quiet: 'quietHours: { timeZone: Europe/Paris, from: "22:00", to: "07:00" }',
    });
    notifier.observe(alarmAt(clock.now()));
    await notifier.settled();
    expect(bodies(receiver)).toMatchObject([{ type: 'alarm.raised', urgent: true }]);
    expect(notifier.stats.held).toBe(0);
  });

  it('a receiver answering 500 then 200 gets the notice once more, and it counts as sent once', async () => {
    const { receiver, notifier } = await setUp({ clock: systemClock, answers: [500, 200] });
    notifier.observe(alarmAt(systemClock.now()));
    await notifier.settled();
    expect(receiver.calls).toHaveLength(2);
    expect(receiver.calls[0]?.body).toBe(receiver.calls[1]?.body);
    expect(notifier.stats).toMatchObject({ sent: 2, failed: 0 });
  });

  it('a dead or silent receiver stalls nothing else; its failure is logged without the secret and counted', async () => {
    const capture = new LogCapture();
    const log = pino({ level: 'info' }, capture);
    const silentHook = await webhookReceiver(['hang']);
    cleanups.push(() => silentHook.close());
    const dead = `http://127.0.0.1:${await closedPort()}/hook?token=${SECRET}`;
    const { receiver, notifier } = await setUp({
      clock: systemClock,
      deps: { log, retry: { attempts: 2, backoffMs: 10, timeoutMs: 1_000 } },
    });
    for (const url of [dead, silentHook.url]) {
      const other = new AlarmNotifier({
        plan: planOf(hookOnly(url)),
        clock: systemClock,
        log,
        retry: { attempts: 2, backoffMs: 10, timeoutMs: 1_000 },
      });
      cleanups.push(() => other.stop());
      other.observe(alarmAt(systemClock.now()));
      // Told while the other one's receivers are still failing: nothing waits on them.
      notifier.observe(alarmAt(systemClock.now()));
      await receiver.waitFor(url === dead ? 1 : 2);
      await other.settled();
      expect(other.stats).toMatchObject({ failed: 1, sent: 0 });
    }
    await silentHook.waitFor(2);
    const failures = capture.lines().filter((l) => l.includes('alarm notification failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain('ECONNREFUSED');
    expect(failures[1]).toContain('no answer within 1000 ms');
    expect(capture.lines().filter((l) => l.includes(SECRET))).toEqual([]);
  });
});
