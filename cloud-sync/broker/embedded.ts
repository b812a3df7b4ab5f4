import type { EventEmitter } from 'node:events';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';
import { type BrokerAccess, type BrokerRefusals, accessHooks } from './access.js';
import { limitPacketSize } from './packet-limit.js';
import { indexRetained } from './retained-index.js';

/**
 * The largest packet by default: the hub's ingest takes payloads up to 4 MiB, plus room for the
 * longest topic (64 KiB) and the rest of the header. A larger one is refused from its header.
 */
export const DEFAULT_MAX_PACKET_BYTES = 4 * 1024 * 1024 + 64 * 1024 + 8;
/** A CONNECT carries a client id, credentials and a last will (a site's status): small. */
const MAX_CONNECT_BYTES = 64 * 1024;

export interface EmbeddedBroker {
  /** The port actually bound (the one asked for, or the free port picked for 0). */
  port: number;
  /** Disconnects every client, then stops listening. Idempotent. */
  close(): Promise<void>;
  aedes: Aedes;
  /** mqtt: or mqtts:, as the broker listens. */
  scheme: 'mqtt' | 'mqtts';
  /** Connections, publishes and subscriptions refused by the identity rules (zero without `access`), and oversized packets. */
  refusals: BrokerRefusals & { oversized: number };
}

export interface BrokerOptions {
  /** Default 127.0.0.1: the embedded broker is for loopback and a LAN placed in front of it. */
  host?: string;
  /** 0 picks a free port. */
  port: number;
  log: Logger;
  /** Broker identities to enforce (each site to its own topics: docs/security.md); without it every client may do anything. */
  access?: BrokerAccess;
  /** MQTT over TLS (mqtts): the server's certificate chain and key, PEM. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** A packet whose remaining length is larger closes its connection, unread (default DEFAULT_MAX_PACKET_BYTES). */
  maxPacketBytes?: number;
}

/**
 * The embedded MQTT broker, the hub's default (docs/decisions/0004-embedded-broker.md): Aedes 1.x over plain TCP, MQTT
 * 3.1.1 only (an MQTT 5 CONNECT is refused). Sessions and retained messages live in memory while it runs.
 */
export async function startBroker(opts: BrokerOptions): Promise<EmbeddedBroker> {
  const log = opts.log.child({ module: 'broker' });
  const host = opts.host ?? '127.0.0.1';
  const refusals = { connect: 0, publish: 0, subscribe: 0, oversized: 0 };
  const limits = {
    first: Math.min(MAX_CONNECT_BYTES, opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES),
    later: opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES,
  };
  const aedes = await Aedes.createBroker(opts.access ? accessHooks(opts.access, log, refusals) : {});
  // Set by createBroker (Aedes's memory persistence), though its types name it as an option only.
  indexRetained((aedes as unknown as { persistence: unknown }).persistence);
  // Aedes emits 'error' (e.g. from its will sweep) without typing it; unhandled, it would throw.
  const emitter: EventEmitter = aedes;
  emitter.on('error', (err: Error) => log.error({ err }, 'broker error'));
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
  aedes.on('connectionError', (client, err) =>
    log.debug({ clientId: client.id, err: err.message }, 'connection error'),
  );

  const sockets = new Set<Socket>();
  const onSocket = (socket: Socket) => {
    // Each packet goes out at once (TCP_NODELAY), as the clients' do (shared/platform/no-delay.ts):
    // with Nagle's algorithm here, a packet written while another is unacknowledged waited for
    // the peer's delayed ACK, up to 40 ms (a revocation's way to the door, a tap's to the hub).
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const guarded = limitPacketSize(socket, limits, (announced) => {
      refusals.oversized++;
      log.warn(
        { remoteAddress: socket.remoteAddress, announced, limit: limits.later },
        'broker connection closed: packet over the size limit',
      );
    });
    aedes.handle(guarded);
  };
  const server: Server = opts.tls
    ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onSocket)
    : createServer(onSocket);
  // A client that fails the TLS handshake is one log line, not a broker error.
  server.on('tlsClientError', (err: Error) => log.warn({ err: err.message }, 'TLS handshake refused'));

  try {
    await listen(server, host, opts.port);
  } catch (err) {
    await closeAedes(aedes);
    throw err;
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : opts.port;
  const scheme = opts.tls ? 'mqtts' : 'mqtt';
  log.info({ host, port, scheme, identities: opts.access !== undefined }, 'embedded MQTT broker listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    aedes,
    scheme,
    refusals,
    close() {
      closing ??= (async () => {
        await closeAedes(aedes);
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        log.info({ port }, 'embedded MQTT broker closed');
      })();
      return closing;
    },
  };
}

/** A server that could not listen, e.g. because its port is taken (`code` EADDRINUSE). */
export class ListenError extends Error {
  readonly code: string | undefined;
  constructor(
    readonly component: 'MQTT broker' | 'hub API',
    readonly host: string,
    readonly port: number,
    cause: NodeJS.ErrnoException,
  ) {
    super(
      `the ${component} cannot listen on ${host}:${port}: ${cause.code === 'EADDRINUSE' ? 'the port is in use' : cause.message}`,
      { cause },
    );
    this.name = 'ListenError';
    this.code = cause.code;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(new ListenError('MQTT broker', host, port, err));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function closeAedes(aedes: Aedes): Promise<void> {
  return new Promise((resolve) => aedes.close(() => resolve()));
}
