import { randomBytes, type KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import {
  COMMAND_SCHEMA_VERSION,
  DEFAULT_COMMAND_TTL_MS,
  MAX_ENROL_TTL_MS,
  type CommandBody,
  type CommandRequest,
  type SignedCommand,
} from '../../shared/protocol/commands.js';
import { signBody } from '../../shared/protocol/signing.js';
import { DEFAULT_TOPIC_PREFIX, topics } from '../../shared/protocol/topics.js';

export interface CommandSenderDeps {
  key: KeyObject;
  clock: Clock;
  /** The hub's MQTT connection (HubIngest.publish): QoS 1, resolves on the broker's PUBACK. */
  publish: (topic: string, payload: string) => Promise<void>;
  log: Logger;
  topicPrefix?: string;
  /** How long a command stays valid (default 60 s). */
  ttlMs?: number;
  /** How long to wait for the broker to take it (default 5 s). */
  publishTimeoutMs?: number;
}

export type SendResult =
  { command: CommandBody; published: true } | { command: CommandBody; published: false; reason: string };

/**
 * The hub's end of the commands topic (shared/protocol/commands.ts): turns an operator's request into a
 * command for one site, with a fresh nonce and a short validity, signs it with the hub key and
 * publishes it QoS 1, not retained (a retained command would be obeyed by whoever subscribes
 * later, until it expires). Whether the site carried it out shows in its `command.executed` event.
 */
export class CommandSender {
  private readonly t;

  constructor(private readonly deps: CommandSenderDeps) {
    this.t = topics(deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
  }

  /** The signed command, not sent yet: the caller records it in the audit log first. */
  prepare(site: string, request: CommandRequest): SignedCommand {
    const now = this.deps.clock.now();
    const ttl = this.deps.ttlMs ?? DEFAULT_COMMAND_TTL_MS;
    const body = {
      v: COMMAND_SCHEMA_VERSION,
      site,
      nonce: randomBytes(16).toString('base64url'),
      issuedAt: new Date(now).toISOString(),
      // An enrol waits for a card only while the operator is at the screen: 60 s at most.
      expiresAt: new Date(now + (request.kind === 'enrol' ? Math.min(ttl, MAX_ENROL_TTL_MS) : ttl)).toISOString(),
      ...request,
    } as CommandBody;
    return { body, signature: signBody(body, this.deps.key) };
  }

  /** Publishes; never throws: a broker that refuses or does not answer in time gives `published: false`. */
  async send(signed: SignedCommand): Promise<SendResult> {
    const { body } = signed;
    const ms = this.deps.publishTimeoutMs ?? 5000;
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = this.deps.clock.setTimeout(() => reject(new Error(`no answer from the broker in ${ms} ms`)), ms);
    });
    try {
      await Promise.race([this.deps.publish(this.t.commands(body.site), JSON.stringify(signed)), timeout]);
      this.deps.log.info({ site: body.site, kind: body.kind, command: body.nonce }, 'command published');
      return { command: body, published: true };
    } catch (err) {
      const reason = (err as Error).message;
      this.deps.log.warn({ site: body.site, kind: body.kind, command: body.nonce, reason }, 'command not published');
      return { command: body, published: false, reason };
    } finally {
      timer?.cancel();
    }
  }
}
