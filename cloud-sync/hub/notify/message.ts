import type { Alarm } from '../../../shared/protocol/api/hub-occupancy.js';
import type { MailMessage } from '../self-service/mailer.js';

/** One thing to tell about one alarm: it was raised (level 1), is still on (later levels), or cleared. */
export interface AlarmNotice {
  type: 'alarm.raised' | 'alarm.escalated' | 'alarm.resolved';
  /** The rule's level (1 = first); for a resolved notice, the highest level that was sent. */
  level: number;
  urgent: boolean;
  /** Hub time the notice was made (ISO). */
  at: string;
  alarm: Alarm;
}

/** What one webhook call or one mail carries: a notice, or those held through quiet hours. */
export type Notification =
  AlarmNotice | { type: 'alarms.summary'; at: string; heldSince: string; notices: AlarmNotice[] };

/** The JSON body a webhook receives (docs/notifications.md). */
export const webhookBody = (n: Notification): string => JSON.stringify({ v: 1, ...n });

/** What an alarm's subject is (docs/dashboard.md "Alarms"); none for those about the whole site. */
const SUBJECT: Record<Alarm['kind'], string | null> = {
  'door.forced': 'door',
  'door.held': 'door',
  'relay.failed': 'door',
  'reader.lost': 'reader',
  'reader.unreadable': 'reader',
  'sync.rejected': 'device',
  'command.rejected': 'subject',
  'directory.rejected': 'source',
  'site.offline': null,
  'sync.log_behind': null,
  'directory.stale_soon': null,
};

/** `door.forced at site murat, door front`. */
function alarmTitle(a: Alarm): string {
  const label = SUBJECT[a.kind];
  return `${a.kind} at site ${a.site}${label === null ? '' : `, ${label} ${a.subject}`}`;
}

const capitalised = (s: string) => `${s.charAt(0).toUpperCase()}${s.slice(1)}`;

function noticeLine(n: AlarmNotice): string {
  const a = n.alarm;
  switch (n.type) {
    case 'alarm.raised':
      return `${alarmTitle(a)}`;
    case 'alarm.escalated':
      return `still active, unacknowledged (level ${n.level}): ${alarmTitle(a)}`;
    case 'alarm.resolved':
      return `resolved (${a.clearedBy ?? 'cleared'}; it had been notified, up to level ${n.level}): ${alarmTitle(a)}`;
  }
}

function alarmLines(a: Alarm): string[] {
  return [
    `Alarm ${a.id}: ${a.kind}`,
    `Site: ${a.site}`,
    ...(SUBJECT[a.kind] === null ? [] : [`${capitalised(SUBJECT[a.kind] ?? '')}: ${a.subject}`]),
    ...(a.detail !== null ? [`Detail: ${a.detail}`] : []),
    `Raised: ${a.raisedAt}${a.count > 1 ? ` (raised ${a.count} times)` : ''}`,
    ...(a.clearedAt !== null ? [`Cleared: ${a.clearedAt} by ${a.clearedBy ?? '?'}`] : []),
    ...(a.acknowledgedAt !== null ? [`Acknowledged: ${a.acknowledgedAt} by ${a.acknowledgedBy ?? '?'}`] : []),
  ];
}

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The mail of a notification to `to` (addresses joined). */
export function mailOf(n: Notification, to: readonly string[]): MailMessage {
  const { subject, blocks } =
    n.type === 'alarms.summary'
      ? {
          subject: `[Tessera] ${n.notices.length} alarm notice${n.notices.length === 1 ? '' : 's'} held during quiet hours`,
          blocks: n.notices.map((x) => [noticeLine(x), ...alarmLines(x.alarm)]),
        }
      : { subject: `[Tessera] ${noticeLine(n)}`, blocks: [alarmLines(n.alarm)] };
  const text = `${blocks.map((b) => b.join('\n')).join('\n\n')}\n`;
  const html = blocks.map((b) => `<p>${b.map(escapeHtml).join('<br>')}</p>`).join('\n');
  return { to: to.join(', '), subject, text, html };
}
