import { Socket } from 'node:net';
import mqtt from 'mqtt';
import { describe, expect, it, vi } from 'vitest';
import { startBroker } from '../../cloud-sync/broker/embedded.js';
import { PacketLengthScanner } from '../../cloud-sync/broker/packet-limit.js';
import { silent } from '../support/logger.js';

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

describe("the embedded broker's connections", () => {
  it('send each packet at once (TCP_NODELAY): none waits behind an unacknowledged one for a delayed ACK', async () => {
    const noDelay = vi.spyOn(Socket.prototype, 'setNoDelay');
    const broker = await startBroker({ port: 0, log: silent });
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 0 });
    try {
      // The broker's end of this connection: the socket whose peer is the client's end.
      const local = (client.stream as Socket).localPort;
      const at = noDelay.mock.contexts.findIndex((s) => (s as Socket).remotePort === local);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(noDelay.mock.calls[at]).toEqual([true]);
    } finally {
      noDelay.mockRestore();
      await client.endAsync(true);
      await broker.close();
    }
  });
});
