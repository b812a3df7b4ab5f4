import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 (a free port) in front of a server, standing for the network
 * between a client and it: `pause()` stops forwarding both ways while every connection stays
 * open (a stalled network or server: nothing is refused, nothing answers), `resume()` forwards
 * again what was held, in order, `cutAll()` ends every connection at once (a cut link).
 * Connections made while paused are accepted and held like the others. `refuse()` closes every
 * connection made from then on at once (a server gone), `accept()` takes them again. With
 * `latencyMs`, what the client sends reaches the server that much later (a distant database).
 */
export interface TcpProxy {
  readonly port: number;
  /** Connections through the proxy, still open. */
  readonly connections: number;
  readonly paused: boolean;
  pause(): void;
  resume(): void;
  cutAll(): void;
  refuse(): void;
  accept(): void;
  /** Cuts everything and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

export async function tcpProxy(
  target: { host?: string; port: number },
  options: { latencyMs?: number } = {},
): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let paused = false;
  let refusing = false;
  const latency = options.latencyMs ?? 0;

  /** Forwards `from` to `to`, holding back when `to` is full or the proxy paused; `delayMs` later if given. */
  const forward = (from: Socket, to: Socket, delayMs = 0) => {
    from.on('data', (chunk: Buffer) => {
      // Timers of one duration fire in the order they were set: the stream keeps its order.
      if (delayMs > 0) return void setTimeout(() => to.destroyed || to.write(chunk), delayMs);
      if (to.write(chunk)) return;
      from.pause();
      to.once('drain', () => {
        if (!paused) from.resume();
      });
    });
    // A half-close is passed on: the other side may still answer.
    from.on('end', () => (delayMs > 0 ? setTimeout(() => to.end(), delayMs) : to.end()));
  };

  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (refusing) return void client.destroy();
    const upstream = connect({ host: target.host ?? '127.0.0.1', port: target.port, allowHalfOpen: true });
    upstream.pause();
    const pair = { client, upstream };
    pairs.add(pair);
    forward(client, upstream, latency);
    forward(upstream, client);
    const gone = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', gone);
    upstream.on('error', gone);
    client.on('close', () => {
      if (upstream.destroyed) pairs.delete(pair);
    });
    upstream.on('close', () => {
      if (client.destroyed) pairs.delete(pair);
    });
    if (!paused) {
      client.resume();
      upstream.resume();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const cutAll = () => {
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port,
    get connections() {
      return pairs.size;
    },
    get paused() {
      return paused;
    },
    pause() {
      paused = true;
      for (const { client, upstream } of pairs) {
        client.pause();
        upstream.pause();
      }
    },
    resume() {
      paused = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    cutAll,
    refuse() {
      refusing = true;
    },
    accept() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        cutAll();
        server.close(() => resolve());
      }),
  };
}
