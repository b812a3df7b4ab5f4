import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../../shared/platform/clock.js';
import type { Alarm } from '../../../shared/protocol/api/hub-occupancy.js';
import type { MailMessage } from '../self-service/mailer.js';
import type { NotificationPlan, NotificationRule, Recipient } from './config.js';
import { type AlarmNotice, type Notification, mailOf, webhookBody } from './message.js';
import { quietUntil } from './quiet-hours.js';
import { WEBHOOK_RETRY, type WebhookRetry, postWebhook, safeUrl } from './webhook.js';

export interface NotifierDeps {
  plan: NotificationPlan;
  clock: Clock;
  log: Logger;
  /** Sends mail (self-service/mailer.ts): needed when a recipient is a list of addresses. */
  mailer?: { send(message: MailMessage): Promise<boolean> };
  /** The alarm as the hub holds it now: another instance may have cleared or acknowledged it meanwhile. */
  current?: (id: number) => Promise<Alarm | undefined>;
  retry?: Partial<WebhookRetry>;
  /** Deliveries under way at once; past it a notification is dropped, logged and counted. Default 64. */
  maxInFlight?: number;
}

/** What the notifier did since it started: deliveries that went, failed for good, were held for quiet hours, dropped. */
export interface NotifierStats {
  sent: number;
  failed: number;
  held: number;
  dropped: number;
}

interface Tracked {
  alarm: Alarm;
  rule: NotificationRule;
  timers: TimerHandle[];
  /** The recipients told of it: those a resolved notice goes to. */
  told: Set<string>;
  /** The highest level sent (0: none yet). */
  level: number;
}

const MINUTE = 60_000;

/**
 * Tells people of alarms (docs/notifications.md): each alarm the live side raises or changes is
 * matched to its rule, whose levels go out at once or after a delay while it is still active
 * and unacknowledged; its clearing is told to those who heard of it. Outside urgent rules,
 * what falls in the quiet hours is held and sent as one summary per recipient when they end.
 *
 * Nothing here waits on a delivery: `observe` only sets timers and starts promises, so ingest
 * and the event loop never wait on a receiver. A failure is logged (never a secret) and counted.
 */
export class AlarmNotifier {
  readonly stats: NotifierStats = { sent: 0, failed: 0, held: 0, dropped: 0 };
  private readonly tracked = new Map<number, Tracked>();
  private readonly held = new Map<string, AlarmNotice[]>();
  private heldSince: number | undefined;
  private flushTimer: TimerHandle | undefined;
  private readonly underWay = new Set<Promise<void>>();
  private deliveries = 0;
  private readonly stopping = new AbortController();
  private readonly retry: WebhookRetry;
  private readonly log: Logger;

  constructor(private readonly deps: NotifierDeps) {
    this.retry = { ...WEBHOOK_RETRY, ...deps.retry };
    this.log = deps.log.child({ module: 'notify' });
  }

  /** An alarm raised or changed (the live feed's `alarm` messages). */
  observe(alarm: Alarm): void {
    if (this.stopping.signal.aborted) return;
    const known = this.tracked.get(alarm.id);
    if (known) return this.changed(known, alarm);
    // Acknowledged and not followed: an alarm that ended (told, or not worth telling) acknowledged now.
    if (alarm.acknowledgedAt !== null) return;
    const rule = this.ruleOf(alarm);
    if (!rule) return;
    const t: Tracked = { alarm, rule, timers: [], told: new Set(), level: 0 };
    const raisedAt = Date.parse(alarm.raisedAt);
    rule.levels.forEach((level, i) => {
      // Raised already over (a one-off fault, or cleared in the same batch): only what goes at once.
      if (level.afterMinutes === 0) this.notify(t, i);
      else if (alarm.clearedAt === null) this.schedule(t, i, raisedAt + level.afterMinutes * MINUTE);
    });
    if (alarm.clearedAt === null) this.tracked.set(alarm.id, t);
  }

  /**
   * The active alarms at start: their later levels are scheduled again. A level whose time
   * passed while the hub was down is taken as sent (it may have been), so a restart repeats nothing.
   */
  resume(alarms: readonly Alarm[]): void {
    const now = this.deps.clock.now();
    for (const alarm of alarms) {
      const rule = this.ruleOf(alarm);
      if (!rule || alarm.clearedAt !== null || this.tracked.has(alarm.id)) continue;
      const t: Tracked = { alarm, rule, timers: [], told: new Set(), level: 0 };
      const raisedAt = Date.parse(alarm.raisedAt);
      rule.levels.forEach((level, i) => {
        const due = raisedAt + level.afterMinutes * MINUTE;
        if (due > now && alarm.acknowledgedAt === null) return this.schedule(t, i, due);
        if (due > now) return;
        t.level = i + 1;
        for (const name of level.notify) t.told.add(name);
      });
      this.tracked.set(alarm.id, t);
    }
  }

  /** Resolves once the deliveries and checks begun so far are done. */
  async settled(): Promise<void> {
    while (this.underWay.size > 0) await Promise.all([...this.underWay]);
  }

  /** Cancels what is waiting (levels, backoffs, the quiet-hours summary) and waits for calls under way. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const t of this.tracked.values()) for (const timer of t.timers) timer.cancel();
    this.tracked.clear();
    this.flushTimer?.cancel();
    const held = [...this.held.values()].reduce((n, list) => n + list.length, 0);
    if (held > 0) this.log.warn({ held }, 'notices held for quiet hours not sent: the hub stopped');
    this.held.clear();
    await this.settled();
  }

  private ruleOf(alarm: Alarm): NotificationRule | undefined {
    return this.deps.plan.rules.find(
      (r) => r.alarms.includes(alarm.kind) && (r.sites === undefined || r.sites.includes(alarm.site)),
    );
  }

  private changed(t: Tracked, alarm: Alarm): void {
    t.alarm = alarm;
    if (alarm.clearedAt !== null) {
      for (const timer of t.timers) timer.cancel();
      this.tracked.delete(alarm.id);
      if (t.rule.resolved && t.told.size > 0)
        this.send(this.notice(t, 'alarm.resolved', t.level), [...t.told], t.rule.urgent);
    } else if (alarm.acknowledgedAt !== null) {
      // Someone saw it: no further level, but those told still hear when it clears.
      for (const timer of t.timers) timer.cancel();
      t.timers = [];
    }
  }

  private schedule(t: Tracked, level: number, due: number): void {
    const fire = () => void this.track(this.due(t, level));
    t.timers.push(this.deps.clock.setTimeout(fire, Math.max(0, due - this.deps.clock.now())));
  }

  /** A level's time came: sent if the alarm is still active and unacknowledged, as the hub holds it now. */
  private async due(t: Tracked, level: number): Promise<void> {
    try {
      const now = this.deps.current ? await this.deps.current(t.alarm.id) : t.alarm;
      if (now && now !== t.alarm) this.changed(t, now);
    } catch (err) {
      this.log.warn({ err, alarm: t.alarm.id }, 'alarm not read again before notifying: notified as last seen');
    }
    if (this.tracked.get(t.alarm.id) !== t || t.alarm.acknowledgedAt !== null) return;
    this.notify(t, level);
  }

  private notify(t: Tracked, level: number): void {
    const names = t.rule.levels[level]?.notify ?? [];
    for (const name of names) t.told.add(name);
    t.level = level + 1;
    this.send(this.notice(t, level === 0 ? 'alarm.raised' : 'alarm.escalated', level + 1), names, t.rule.urgent);
  }

  private notice(t: Tracked, type: AlarmNotice['type'], level: number): AlarmNotice {
    const at = new Date(this.deps.clock.now()).toISOString();
    return { type, level, urgent: t.rule.urgent, at, alarm: t.alarm };
  }

  /** To each recipient now, or held until the quiet hours end (unless urgent). */
  private send(notice: AlarmNotice, names: readonly string[], urgent: boolean): void {
    const quiet = this.deps.plan.quietHours;
    const now = this.deps.clock.now();
    const end = quiet && !urgent ? quietUntil(now, quiet) : undefined;
    for (const name of names) {
      const recipient = this.deps.plan.recipients.get(name);
      if (!recipient) continue;
      if (end === undefined) {
        this.deliver(recipient, notice);
        continue;
      }
      this.held.set(name, [...(this.held.get(name) ?? []), notice]);
      this.stats.held++;
      this.heldSince ??= now;
      this.flushTimer ??= this.deps.clock.setTimeout(() => this.flush(), end - now);
    }
  }

  /** The quiet hours ended: one summary to each recipient of what was held. */
  private flush(): void {
    const at = new Date(this.deps.clock.now()).toISOString();
    const heldSince = new Date(this.heldSince ?? this.deps.clock.now()).toISOString();
    const held = [...this.held];
    this.held.clear();
    this.heldSince = undefined;
    this.flushTimer = undefined;
    for (const [name, notices] of held) {
      const recipient = this.deps.plan.recipients.get(name);
      if (recipient) this.deliver(recipient, { type: 'alarms.summary', at, heldSince, notices });
    }
  }

  private deliver(recipient: Recipient, n: Notification): void {
    if (this.deliveries >= (this.deps.maxInFlight ?? 64)) {
      this.stats.dropped++;
      this.log.warn({ recipient: recipient.name, type: n.type }, 'notification dropped: too many deliveries under way');
      return;
    }
    this.deliveries++;
    void this.track(this.deliverNow(recipient, n).finally(() => this.deliveries--));
  }

  private async deliverNow(recipient: Recipient, n: Notification): Promise<void> {
    const about = { recipient: recipient.name, type: n.type, ...('alarm' in n ? { alarm: n.alarm.id } : {}) };
    try {
      if ('webhook' in recipient) {
        const outcome = await postWebhook({ url: recipient.webhook, secret: recipient.secret }, webhookBody(n), {
          clock: this.deps.clock,
          retry: this.retry,
          stop: this.stopping.signal,
        });
        if (outcome.ok) return this.sent(about);
        return this.failed({ ...about, url: safeUrl(recipient.webhook), attempts: outcome.attempts }, outcome.reason);
      }
      const mailer = this.deps.mailer;
      if (!mailer) return this.failed(about, 'no SMTP server configured');
      if (await mailer.send(mailOf(n, recipient.email))) return this.sent(about);
      return this.failed(about, 'the SMTP server did not take it');
    } catch (err) {
      this.failed(about, String((err as Error).message));
    }
  }

  private sent(about: Record<string, unknown>): void {
    this.stats.sent++;
    this.log.info(about, 'alarm notification sent');
  }

  private failed(about: Record<string, unknown>, reason: string): void {
    this.stats.failed++;
    this.log.warn({ ...about, reason }, 'alarm notification failed');
  }

  private track(work: Promise<void>): Promise<void> {
    this.underWay.add(work);
    const done = () => void this.underWay.delete(work);
    work.then(done, done);
    return work;
  }
}
