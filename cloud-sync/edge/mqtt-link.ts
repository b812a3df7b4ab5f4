import mqtt from 'mqtt';
import type { IClientOptions, MqttClient, Packet } from 'mqtt';
import type { Logger } from 'pino';
import { mqttSendsAtOnce } from '../../shared/platform/no-delay.js';

export type ConnectFn = (url: string, opts: IClientOptions) => MqttClient;

export interface LinkOptions {
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  /** For mqtts: the CA that signed the broker's certificate (PEM); without it, the system's CAs. */
  ca?: string | undefined;
  will: { topic: string; payload: () => Buffer };
  /** Topics subscribed QoS 1 after every (re)connect: the broker re-sends their retained message. */
  subscriptions: string[];
  log: Logger;
  connect?: ConnectFn;
  /** First reconnect delay; doubled on each failed attempt up to `maxReconnectMs`. */
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** Refusals in a row before the link drops one of its own (status) messages. Default 3. */
  refusalLimit?: number;
  /** MQTT keepalive in seconds (broker.keepaliveSeconds). */
  keepaliveSeconds: number;
}

export interface LinkEvents {
  /** The session is up and the client has re-sent what it had queued: publishing may go on. */
  ready(): void;
  down(): void;
  message(topic: string, payload: Buffer): void;
  /**
   * The connection closed after a CONNACK while `token` was the oldest publish of that session
   * still awaiting its PUBACK: what a broker refusing that message looks like (Aedes closes the
   * connection; mqtt.js would re-send the same message first, forever).
   */
  refusedLike(token: number): void;
  /** One of the link's own (status) messages was refused `refusalLimit` times in a row and dropped. */
  ownDropped(): void;
}

/**
 * The MQTT connection of a site (MQTT 3.1.1, persistent session): the message handler is attached
 * before connecting (else messages queued for the persistent session arrive unheard), reconnects back off exponentially, and each QoS 1 publish carries a
 * caller's token so a PUBACK, an error or a refusal can be told apart per message.
 */
export class MqttLink {
  private readonly client: MqttClient;
  private readonly tokenOf = new Map<number, number>();
  private readonly messageOf = new Map<number, number>();
  /** Tokens written since the last CONNACK and not yet PUBACKed, in the order they went out. */
  private readonly sessionSent = new Set<number>();
  private sending: number | undefined;
  /** Tokens of the link's own publishes (statuses) are negative; their refusals in a row. */
  private nextOwnToken = -1;
  private readonly ownRefusals = new Map<number, number>();
  private connacked = false;
  private isReady = false;
  private attempt = 0;
  /** Errors are logged once per outage at warn level (a week offline must not flood the log). */
  private warned = false;
  private readonly reconnectMs: number;
  private readonly maxReconnectMs: number;

  constructor(
    private readonly opts: LinkOptions,
    private readonly on: LinkEvents,
  ) {
    this.reconnectMs = opts.reconnectMs ?? 1000;
    this.maxReconnectMs = opts.maxReconnectMs ?? 30_000;
    const connect = opts.connect ?? ((url, o) => mqtt.connect(url, o));
    this.client = connect(opts.url, {
      clientId: opts.clientId,
      protocolVersion: 4,
      clean: false,
      keepalive: opts.keepaliveSeconds,
      connectTimeout: 10_000,
      reconnectPeriod: this.reconnectMs,
      manualConnect: true,
      // We subscribe on every connect ourselves (for the retained ack): no second SUBSCRIBE.
      resubscribe: false,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      will: { topic: opts.will.topic, payload: opts.will.payload(), qos: 1, retain: true },
    });
    mqttSendsAtOnce(this.client);
    this.wire();
  }

  get ready(): boolean {
    return this.isReady;
  }

  /** Opens the connection; every handler is already attached. */
  start(): void {
    this.client.connect();
  }

  /**
   * Publishes QoS 1; `done` gets the PUBACK (no error) or the reason it will not come. With a
   * token, a refusal is reported to the caller (`refusedLike`); without one (status messages) the
   * link drops the message itself after `refusalLimit` refusals in a row, so it cannot stall the link.
   */
  publish(
    token: number | undefined,
    topic: string,
    payload: Buffer,
    retain: boolean,
    done: (err?: Error) => void,
  ): void {
    const own = token ?? this.nextOwnToken--;
    this.sending = own;
    try {
      this.client.publish(topic, payload, { qos: 1, retain }, (err) => {
        this.forget(own);
        this.ownRefusals.delete(own);
        done(err ?? undefined);
      });
    } finally {
      this.sending = undefined;
    }
  }

  /** Drops a queued publish from the client, so it is not re-sent on reconnect; its `done` gets an error. */
  drop(token: number): void {
    const messageId = this.messageOf.get(token);
    this.forget(token);
    if (messageId !== undefined) this.client.removeOutgoingMessage(messageId);
  }

  /** The caller's publishes still queued in the client (awaiting PUBACK, or to re-send on reconnect). */
  queued(): number {
    let n = 0;
    for (const token of this.messageOf.keys()) if (token > 0) n++;
    return n;
  }

  /** Ends the connection: a clean DISCONNECT (no last will) if nothing is queued, else a forced close. */
  end(): Promise<void> {
    this.isReady = false;
    const force = !this.client.connected || this.queued() > 0;
    return new Promise((resolve) => this.client.end(force, {}, () => resolve()));
  }

  private forget(token: number): void {
    const messageId = this.messageOf.get(token);
    this.messageOf.delete(token);
    this.sessionSent.delete(token);
    if (messageId !== undefined && this.tokenOf.get(messageId) === token) this.tokenOf.delete(messageId);
  }

  private wire(): void {
    const c = this.client;
    c.on('message', (topic, payload) => this.on.message(topic, payload));
    c.on('packetsend', (packet: Packet) => this.sent(packet));
    c.on('packetreceive', (packet: Packet) => {
      if (packet.cmd !== 'connack' || packet.returnCode !== 0) return;
      this.connacked = true;
      this.attempt = 0;
      this.warned = false;
      c.options.reconnectPeriod = this.reconnectMs;
    });
    c.on('connect', () => {
      this.isReady = true;
      // A SUBSCRIBE makes the broker send the topic's retained message again: the latest ack.
      c.subscribe(this.opts.subscriptions, { qos: 1 }, (err) => {
        if (err) this.opts.log.warn({ err: err.message }, 'subscribe failed');
      });
      this.on.ready();
    });
    c.on('reconnect', () => {
      this.attempt++;
      c.options.reconnectPeriod = Math.min(this.maxReconnectMs, this.reconnectMs * 2 ** this.attempt);
      // The last will is read at each CONNECT: keep its numbers current.
      if (c.options.will) c.options.will.payload = this.opts.will.payload();
    });
    c.on('close', () => this.closed());
    c.on('error', (err) => {
      this.opts.log[this.warned ? 'debug' : 'warn'](
        { err: err.message, url: this.opts.url },
        'MQTT error: retrying with backoff',
      );
      this.warned = true;
    });
  }

  private sent(packet: Packet): void {
    if (packet.cmd !== 'publish' || packet.qos !== 1 || packet.messageId === undefined) return;
    if (this.sending !== undefined) {
      this.tokenOf.set(packet.messageId, this.sending);
      this.messageOf.set(this.sending, packet.messageId);
    }
    const token = this.tokenOf.get(packet.messageId);
    if (token !== undefined) this.sessionSent.add(token);
  }

  private closed(): void {
    this.isReady = false;
    const oldest = this.connacked ? this.sessionSent.values().next() : undefined;
    this.connacked = false;
    this.sessionSent.clear();
    if (oldest && !oldest.done) {
      if (oldest.value > 0) this.on.refusedLike(oldest.value);
      else this.ownRefused(oldest.value);
    }
    this.on.down();
  }

  private ownRefused(token: number): void {
    const count = (this.ownRefusals.get(token) ?? 0) + 1;
    this.ownRefusals.set(token, count);
    if (count < (this.opts.refusalLimit ?? 3)) return;
    this.ownRefusals.delete(token);
    this.drop(token);
    this.on.ownDropped();
  }
}
