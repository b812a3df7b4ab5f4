import ICAL from 'ical.js';
import { describe, expect, it } from 'vitest';
import { escapeText, fold, utcDateTime, writeCalendar } from '../../cloud-sync/hub/calendar/ics.js';

/** The VEVENTs of a feed as a real iCalendar parser reads them. */
function parsed(text: string) {
  const cal = new ICAL.Component(ICAL.parse(text));
  return {
    name: cal.getFirstPropertyValue('x-wr-calname'),
    events: cal.getAllSubcomponents('vevent').map((v) => ({
      uid: v.getFirstPropertyValue('uid'),
      summary: v.getFirstPropertyValue('summary'),
      location: v.getFirstPropertyValue('location'),
      status: v.getFirstPropertyValue('status'),
      start: v.getFirstProperty('dtstart')?.getFirstValue() as ICAL.Time,
      end: v.getFirstProperty('dtend')?.getFirstValue() as ICAL.Time,
    })),
  };
}

const event = {
  uid: 'bk-1@tessera',
  stampMs: Date.parse('2026-11-01T08:00:00Z'),
  startMs: Date.parse('2026-11-03T09:00:00+01:00'),
  endMs: Date.parse('2026-11-03T10:30:00+01:00'),
  summary: 'Booked',
  location: 'Salle Vosges, Reichstett',
  status: 'CONFIRMED' as const,
};

describe('the iCalendar writer', () => {
  it('escapes backslash, semicolon, comma and line breaks, and a parser gives the text back', () => {
    const nasty = 'Board; budget, Q4 \\ review\nroom 2\r\nend';
    expect(escapeText(nasty)).toBe('Board\\; budget\\, Q4 \\\\ review\\nroom 2\\nend');
    const text = writeCalendar({ name: 'A, B; C', events: [{ ...event, summary: nasty }] });
    const cal = parsed(text);
    // An X- property is left raw by the parser (its value type unknown to it): written as TEXT.
    expect(cal.name).toBe('A\\, B\\; C');
    expect(cal.events[0]?.summary).toBe('Board; budget, Q4 \\ review\nroom 2\nend');
  });

  it('folds a long line at 75 octets, never inside a UTF-8 character, and a parser unfolds it', () => {
    const long = `Salle de réunion « Les Vosges du Nord » — ${'é'.repeat(60)} ${'x'.repeat(80)}`;
    const text = writeCalendar({ name: 'Rooms', events: [{ ...event, summary: long, location: long }] });
    for (const line of text.split('\r\n')) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(75);
    const summary = text.split('\r\n').findIndex((l) => l.startsWith('SUMMARY:'));
    expect(text.split('\r\n')[summary + 1]?.startsWith(' ')).toBe(true);
    // Every line's octets, folded or not, are valid UTF-8 on their own: no character was cut in two.
    const strict = new TextDecoder('utf-8', { fatal: true });
    const bytes = Buffer.from(text, 'utf8');
    for (let at = 0, end = bytes.indexOf('\r\n'); end >= 0; at = end + 2, end = bytes.indexOf('\r\n', at))
      expect(() => strict.decode(bytes.subarray(at, end))).not.toThrow();
    expect(parsed(text).events[0]).toMatchObject({ summary: long, location: long });
    expect(fold('a'.repeat(75))).toBe('a'.repeat(75));
    expect(fold('a'.repeat(76))).toBe(`${'a'.repeat(75)}\r\n a`);
    expect(fold(`${'a'.repeat(74)}é`)).toBe(`${'a'.repeat(74)}\r\n é`);
  });

  it('ends every line with CRLF and writes every time in UTC', () => {
    const text = writeCalendar({ name: 'Rooms', events: [event] });
    expect(text.endsWith('END:VCALENDAR\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(text).toContain('\r\nDTSTART:20261103T080000Z\r\nDTEND:20261103T093000Z\r\n');
    expect(text).toContain('\r\nDTSTAMP:20261101T080000Z\r\n');
    expect(utcDateTime(Date.parse('2026-10-25T01:30:00+02:00'))).toBe('20261024T233000Z');
    const [e] = parsed(text).events;
    expect(e?.start.zone?.tzid).toBe('UTC');
    expect(e?.start.toUnixTime()).toBe(event.startMs / 1000);
    expect(e?.end.toUnixTime()).toBe(event.endMs / 1000);
    expect(e).toMatchObject({ uid: 'bk-1@tessera', status: 'CONFIRMED', location: 'Salle Vosges, Reichstett' });
  });
});
