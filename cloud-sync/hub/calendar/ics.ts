/**
 * An iCalendar (RFC 5545) writer of our own, for the few properties a bookings feed needs:
 * lines end with CRLF, are folded at 75 octets, text values are escaped, and every time is
 * written in UTC (`...Z`), so no time-zone definition is needed and no client can misread one.
 */

export interface CalendarEvent {
  uid: string;
  /** When this version of the event was written (ms). */
  stampMs: number;
  startMs: number;
  endMs: number;
  summary: string;
  location: string;
  status: 'CONFIRMED' | 'CANCELLED';
}

export interface Calendar {
  /** The calendar's name, as clients show it (X-WR-CALNAME). */
  name: string;
  events: readonly CalendarEvent[];
}

const CRLF = '\r\n';
/** RFC 5545 3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break. */
const MAX_OCTETS = 75;

/** RFC 5545 3.3.11: backslash, semicolon and comma escaped, every line break written `\n`. */
export function escapeText(text: string): string {
  return text
    .replace(/\\/g, '\\\\')
    .replace(/;/g, '\\;')
    .replace(/,/g, '\\,')
    .replace(/\r\n|\r|\n/g, '\\n');
}

/** `YYYYMMDDTHHMMSSZ` (RFC 5545 3.3.5, form 2: UTC). */
export function utcDateTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}/, '')
    .replace(/[-:]/g, '');
}

/**
 * Folds a content line into lines of at most 75 octets, each continuation starting with one
 * space (which counts). Never inside a UTF-8 sequence: a character is moved whole to the next line.
 */
export function fold(line: string): string {
  const parts: string[] = [];
  let current = '';
  let octets = 0;
  for (const char of line) {
    const size = Buffer.byteLength(char, 'utf8');
    if (octets + size > MAX_OCTETS) {
      parts.push(current);
      current = ' ';
      octets = 1;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join(CRLF);
}

function eventLines(e: CalendarEvent): string[] {
  return [
    'BEGIN:VEVENT',
    `UID:${escapeText(e.uid)}`,
    `DTSTAMP:${utcDateTime(e.stampMs)}`,
    `DTSTART:${utcDateTime(e.startMs)}`,
    `DTEND:${utcDateTime(e.endMs)}`,
    `SUMMARY:${escapeText(e.summary)}`,
    `LOCATION:${escapeText(e.location)}`,
    `STATUS:${e.status}`,
    'END:VEVENT',
  ];
}

/** The whole VCALENDAR, every line folded and ended with CRLF. */
export function writeCalendar(cal: Calendar): string {
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//Tessera//Bookings//EN',
    'CALSCALE:GREGORIAN',
    'METHOD:PUBLISH',
    `X-WR-CALNAME:${escapeText(cal.name)}`,
    ...cal.events.flatMap(eventLines),
    'END:VCALENDAR',
  ];
  return lines.map((l) => fold(l) + CRLF).join('');
}
