import type { Logger } from 'pino';
import type { Clock } from '../../../shared/platform/clock.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import type { Alarm, LiveMessage } from '../../../shared/protocol/api/hub-occupancy.js';
import { Mailer, type MailSettings } from '../self-service/mailer.js';
import type { NotificationPlan } from './config.js';
import { AlarmNotifier, type NotifierDeps } from './notifier.js';

export { loadNotifications, type NotificationPlan } from './config.js';
export type { AlarmNotifier } from './notifier.js';

export interface AlarmNotificationsDeps {
  plan: NotificationPlan;
  /** SMTP settings (TESSERA_SMTP_URL, TESSERA_MAIL_FROM): needed when a recipient is a list of addresses. */
  mail: MailSettings | undefined;
  clock: Clock;
  log: Logger;
  /** The live feed whose `alarm` messages are notified. */
  feed: { subscribe(listener: (message: LiveMessage) => void): () => void };
  current: (id: number) => Promise<Alarm | undefined>;
  retry?: NotifierDeps['retry'];
}

/** The hub's alarm notifications: a notifier listening to the live feed, and its mailer. */
export function startAlarmNotifications(deps: AlarmNotificationsDeps): {
  notifier: AlarmNotifier;
  stop: () => Promise<void>;
} {
  const mails = [...deps.plan.recipients.values()].some((r) => 'email' in r);
  if (mails && !deps.mail)
    throw new TesseraError(
      'config.invalid',
      'the notifications file has email recipients: set TESSERA_SMTP_URL and TESSERA_MAIL_FROM',
    );
  const mailer = mails && deps.mail ? new Mailer(deps.mail, deps.log.child({ module: 'notify-mail' })) : undefined;
  const notifier = new AlarmNotifier({
    plan: deps.plan,
    clock: deps.clock,
    log: deps.log,
    current: deps.current,
    ...(mailer ? { mailer } : {}),
    ...(deps.retry ? { retry: deps.retry } : {}),
  });
  const unsubscribe = deps.feed.subscribe((m) => {
    if (m.kind === 'alarm') notifier.observe(m.data);
  });
  return {
    notifier,
    async stop() {
      unsubscribe();
      await notifier.stop();
      mailer?.close();
    },
  };
}
