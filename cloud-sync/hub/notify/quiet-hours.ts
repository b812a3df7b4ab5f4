import { DateTime } from 'luxon';
import type { QuietHours } from './config.js';

type HourMinute = QuietHours['from'];

const minutesOf = (t: { hour: number; minute: number }) => t.hour * 60 + t.minute;
const at = (day: DateTime, t: HourMinute) => day.set({ hour: t.hour, minute: t.minute, second: 0, millisecond: 0 });

/**
 * When the quiet hours around `nowMs` end (epoch ms), or undefined outside them. The window is
 * wall-clock time in its zone: luxon places its end on the right day and offset, so a night
 * that loses or gains an hour to daylight saving ends at the local time it names.
 */
export function quietUntil(nowMs: number, quiet: QuietHours): number | undefined {
  const local = DateTime.fromMillis(nowMs, { zone: quiet.timeZone });
  const now = minutesOf(local);
  const from = minutesOf(quiet.from);
  const to = minutesOf(quiet.to);
  if (from < to) return now >= from && now < to ? at(local, quiet.to).toMillis() : undefined;
  // Across midnight: the evening part ends tomorrow, the morning part today.
  if (now >= from) return at(local.plus({ days: 1 }), quiet.to).toMillis();
  if (now < to) return at(local, quiet.to).toMillis();
  return undefined;
}
