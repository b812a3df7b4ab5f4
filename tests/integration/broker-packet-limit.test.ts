import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../support/cleanups.js';

const MB = 1024 * 1024;
const cleanups = cleanupsAfterEach();

/** The broker in a child process (tests/fixtures/broker-child.mjs), and a way to read its memory. */
async function brokerChild(): Promise<{ port: number; memory: () => Promise<{ rss: number; peak: number }> }> {
  const child: ChildProcess = spawn(process.execPath, ['tests/fixtures/broker-child.mjs'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  cleanups.push(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  const line = async (pattern: RegExp): Promise<RegExpMatchArray> => {
    const start = Date.now();
    for (;;) {
      const m = pattern.exec(output);
      if (m) {
        output = output.slice((m.index ?? 0) + m[0].length);
        return m;
      }
      if (Date.now() - start > 20_000 || child.exitCode !== null)
        throw new Error(`no ${pattern} from the broker child:\n${output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const port = Number((await line(/port (\d+)\n/))[1]);
  return {
    port,
    async memory() {
      child.stdin?.write('\n');
      const m = await line(/rss (\d+) peak (\d+)\n/);
      return { rss: Number(m[1]), peak: Number(m[2]) };
    },
  };
}

/** The MQTT 3.1.1 remaining-length varint. */
function varint(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([
    Buffer.from([0, 4, ...Buffer.from('MQTT'), 4, 0x02, 0, 60, id.length >> 8, id.length & 0xff]),
    id,
  ]);
  return Buffer.concat([Buffer.from([0x10]), varint(body.length), body]);
}

function drainOrClose(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.once('drain', done);
    socket.once('close', done);
  });
}

/**
 * A client that announces a QoS 0 PUBLISH of `announced` bytes and streams zeros, 1 MB at a time,
 * until all is sent or the broker closes the connection. Returns the bytes it got to write and
 * the socket, still open if the broker did not close it.
 */
async function streamOversized(
  port: number,
  announced: number,
  clientId: string,
): Promise<{ sent: number; socket: Socket }> {
  const socket = connect({ host: '127.0.0.1', port });
  cleanups.push(() => socket.destroy());
  let closed = false;
  socket.on('error', () => undefined);
  socket.once('close', () => (closed = true));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const topic = Buffer.from('tessera/v1/sites/murat/events');
  socket.write(connectPacket(clientId));
  socket.write(
    Buffer.concat([
      Buffer.from([0x30]),
      varint(announced),
      Buffer.from([topic.length >> 8, topic.length & 0xff]),
      topic,
    ]),
  );
  const chunk = Buffer.alloc(MB);
  let sent = 0;
  for (let i = 0; i < Math.ceil(announced / MB) && !closed; i++) {
    const more = socket.write(chunk);
    sent += chunk.length;
    if (!more) await drainOrClose(socket);
  }
  return { sent, socket };
}

describe('packets over the size limit on the embedded broker', () => {
  it('are refused at their header: the connection closes and the broker’s memory stays bounded', async () => {
    const broker = await brokerChild();
    const before = await broker.memory();
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await streamOversized(broker.port, 200 * MB, `oversized-${i}`));
    const after = await broker.memory();
    process.stdout.write(
      `broker child RSS: ${Math.round(before.rss / MB)} MB before, ${Math.round(after.rss / MB)} MB after, peak ${Math.round(after.peak / MB)} MB, three 200 MB packets announced\n`,
    );
    expect(after.peak - before.rss).toBeLessThan(64 * MB);
    for (const c of clients) expect(c.sent).toBeLessThan(200 * MB);
  });
});
