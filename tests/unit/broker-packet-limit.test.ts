import { describe, expect, it } from 'vitest';
import { PacketLengthScanner } from '../../cloud-sync/broker/packet-limit.js';

const limits = { first: 100, later: 1000 };

/** Feeds the bytes one chunk of `size` at a time; the first oversized length reported, if any. */
function scan(bytes: number[], size: number): number | undefined {
  const scanner = new PacketLengthScanner(limits);
  for (let i = 0; i < bytes.length; i += size) {
    const found = scanner.feed(Buffer.from(bytes.slice(i, i + size)));
    if (found !== undefined) return found;
  }
  return undefined;
}

const packet = (type: number, lengthBytes: number[], body: number) => [
  type,
  ...lengthBytes,
  ...new Array<number>(body).fill(0x30),
];

describe('the MQTT packet length scanner', () => {
  // 100 = [0x64]; 1000 = [0xe8, 0x07]; 1001 = [0xe9, 0x07]; 268,435,455 = the largest length.
  const cases: Array<[string, number[], number | undefined]> = [
    [
      'a CONNECT at its limit, then packets at theirs and of length 0',
      [...packet(0x10, [0x64], 100), ...packet(0x30, [0xe8, 0x07], 1000), 0xc0, 0x00, ...packet(0x30, [0x05], 5)],
      undefined,
    ],
    ['a CONNECT one byte over its limit', packet(0x10, [0x65], 101), 101],
    [
      'a later packet one byte over its limit, its body never sent',
      [...packet(0x10, [0x02], 2), 0x30, 0xe9, 0x07],
      1001,
    ],
    ['the largest length MQTT can announce', [...packet(0x10, [0x00], 0), 0x30, 0xff, 0xff, 0xff, 0x7f], 268_435_455],
    ['a length of five bytes (malformed)', [...packet(0x10, [0x00], 0), 0x30, 0xff, 0xff, 0xff, 0xff, 0x01], Infinity],
  ];
  for (const [what, bytes, expected] of cases) {
    it(`${what}: the same whole, byte by byte, or in chunks of 7`, () => {
      for (const size of [bytes.length, 1, 7]) expect(scan(bytes, size), `chunks of ${size}`).toBe(expected);
    });
  }
});
