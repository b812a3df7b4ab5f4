/**
 * The little of NDEF (NFC Forum Type 4 Tag) a SUN badge needs: its NDEF file holds NLEN (2 bytes,
 * big-endian) then one URI record. Only the query of the URL matters to us, so only the common
 * URI prefixes are expanded; any other prefix code is kept out of the text.
 */

const TNF_WELL_KNOWN = 0x01;
const URI_TYPE = 0x55; // 'U'
const FLAG = { MB: 0x80, ME: 0x40, CF: 0x20, SR: 0x10, IL: 0x08 } as const;

const URI_PREFIXES: readonly string[] = ['', 'http://www.', 'https://www.', 'http://', 'https://'];

interface NdefRecord {
  tnf: number;
  type: Buffer;
  payload: Buffer;
  last: boolean;
}

/** One record at `pos`, or undefined when its lengths run past the message. */
function readRecord(message: Buffer, pos: number): { record: NdefRecord; next: number } | undefined {
  const header = message[pos];
  const typeLength = message[pos + 1];
  if (header === undefined || typeLength === undefined) return undefined;
  let at = pos + 2;
  const short = (header & FLAG.SR) !== 0;
  if (at + (short ? 1 : 4) > message.length) return undefined;
  const payloadLength = short ? message[at]! : message.readUInt32BE(at);
  at += short ? 1 : 4;
  const idLength = header & FLAG.IL ? message[at++] : 0;
  if (idLength === undefined) return undefined;
  const typeStart = at;
  const payloadStart = typeStart + typeLength + idLength;
  const end = payloadStart + payloadLength;
  if (end > message.length) return undefined;
  const record = {
    tnf: header & 0x07,
    type: message.subarray(typeStart, typeStart + typeLength),
    payload: message.subarray(payloadStart, end),
    last: (header & FLAG.ME) !== 0,
  };
  return { record, next: end };
}

/** The URL of the first URI record of an NDEF message, if there is one and it is whole. */
export function findUri(message: Buffer): string | undefined {
  let pos = 0;
  while (pos < message.length) {
    const read = readRecord(message, pos);
    if (!read) return undefined;
    const { record } = read;
    if (
      record.tnf === TNF_WELL_KNOWN &&
      record.type.length === 1 &&
      record.type[0] === URI_TYPE &&
      record.payload.length > 0
    ) {
      const prefix = URI_PREFIXES[record.payload[0]!] ?? '';
      return prefix + record.payload.subarray(1).toString('utf8');
    }
    if (record.last) return undefined;
    pos = read.next;
  }
  return undefined;
}

/** A one-record NDEF message holding `url` as a short URI record, with the shortest prefix code that fits. */
export function uriMessage(url: string): Buffer {
  let code = 0;
  URI_PREFIXES.forEach((prefix, i) => {
    if (prefix.length > URI_PREFIXES[code]!.length && url.startsWith(prefix)) code = i;
  });
  const payload = Buffer.concat([Buffer.from([code]), Buffer.from(url.slice(URI_PREFIXES[code]!.length), 'utf8')]);
  if (payload.length > 255)
    throw new RangeError(`the URL is too long for a short NDEF record (${payload.length} bytes)`);
  return Buffer.concat([
    Buffer.from([FLAG.MB | FLAG.ME | FLAG.SR | TNF_WELL_KNOWN, 1, payload.length, URI_TYPE]),
    payload,
  ]);
}
