import { Duplex } from 'node:stream';
import type { Socket } from 'node:net';

/** How large a packet may be, by its MQTT remaining length (everything after the fixed header). */
export interface PacketLimits {
  /** The first packet, the CONNECT: its client id, credentials and last will. */
  first: number;
  /** Every later packet. */
  later: number;
}

/**
 * Reads the MQTT fixed header of each packet as the bytes go by (MQTT 3.1.1, 2.2: a type byte,
 * then the remaining length in 1 to 4 bytes of 7 bits each, least significant first) and skips
 * the body by count, so it keeps no byte of it. `feed` answers the remaining length announced
 * past the limit (or Infinity for a malformed length) as soon as the header shows it.
 */
export class PacketLengthScanner {
  private packets = 0;
  /** Bytes of the current body still to come; -1 while reading a fixed header. */
  private body = -1;
  private length = 0;
  private lengthBytes = 0;
  private inHeader = false;

  constructor(private readonly limits: PacketLimits) {}

  /** The announced length over the limit, if this chunk completes such a header; else undefined. */
  feed(chunk: Buffer): number | undefined {
    let i = 0;
    while (i < chunk.length) {
      if (this.body > 0) {
        const take = Math.min(this.body, chunk.length - i);
        this.body -= take;
        i += take;
        if (this.body === 0) this.body = -1;
        continue;
      }
      const byte = chunk[i++] as number;
      if (!this.inHeader) {
        this.inHeader = true;
        this.length = 0;
        this.lengthBytes = 0;
        continue;
      }
      this.length += (byte & 0x7f) * 128 ** this.lengthBytes++;
      if (byte & 0x80) {
        if (this.lengthBytes === 4) return Infinity;
        continue;
      }
      this.inHeader = false;
      const limit = this.packets++ === 0 ? this.limits.first : this.limits.later;
      if (this.length > limit) return this.length;
      this.body = this.length === 0 ? -1 : this.length;
    }
    return undefined;
  }
}

/**
 * The socket as Aedes sees it, with every packet's size checked when its fixed header arrives:
 * a packet announced over the limit closes the connection before its body is read, so a client
 * can make the broker hold no more than one packet's limit (mqtt-packet, under Aedes, would
 * otherwise buffer the whole body, however large, before anything is checked).
 */
export function limitPacketSize(
  socket: Socket,
  limits: PacketLimits,
  onOversized: (announced: number) => void,
): Duplex {
  const scanner = new PacketLengthScanner(limits);
  const guarded: Duplex = new Duplex({
    allowHalfOpen: false,
    read: () => void socket.resume(),
    write(chunk: Buffer, _encoding, done) {
      if (socket.write(chunk)) done();
      else socket.once('drain', () => done());
    },
    final(done) {
      socket.end();
      done();
    },
    destroy(err, done) {
      socket.destroy();
      done(err);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    const oversized = scanner.feed(chunk);
    if (oversized !== undefined) {
      onOversized(oversized);
      guarded.destroy();
      return;
    }
    if (!guarded.push(chunk)) socket.pause();
  });
  socket.once('end', () => guarded.push(null));
  socket.once('close', () => guarded.destroy());
  socket.on('error', (err) => guarded.destroy(err));
  return guarded;
}
