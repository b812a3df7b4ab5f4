import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import { HOME_ASSISTANT_OBSERVER, observerRights, siteRights } from '../../shared/protocol/topics.js';
import { filtersOverlap, filterMatches } from './topic-filter.js';

/** Who is on the other end of a broker connection. */
export type BrokerIdentity = { kind: 'hub' } | { kind: 'site'; site: string } | { kind: 'observer'; name: string };

/** Who may connect to the embedded broker, and under which topic prefix their rights are. */
export interface BrokerAccess {
  /**
   * The identity these credentials prove, or undefined to refuse the connection; a rejection
   * (the hub's database unavailable) refuses it as "server unavailable", and the client retries.
   */
  identify(
    username: string | undefined,
    password: Buffer | undefined,
  ): BrokerIdentity | undefined | Promise<BrokerIdentity | undefined>;
  /** The one client id this identity may connect with: another identity's would take over its session. */
  clientIdOf(identity: BrokerIdentity): string;
  topicPrefix: string;
  /** Home Assistant's discovery prefix, for what observers may read (default `homeassistant`). */
  discoveryPrefix?: string | undefined;
  /** The hub takes Home Assistant's button presses: the `home-assistant` observer may publish them. */
  homeAssistantCommands?: boolean | undefined;
}

/** What the broker refused since it started: for /metrics and tests. */
export interface BrokerRefusals {
  connect: number;
  publish: number;
  subscribe: number;
}

/**
 * What one identity may do. A site subscribes to its exact topics only; an observer may
 * subscribe to any filter that can match a topic it may read (Home Assistant subscribes to
 * wildcards such as `homeassistant/+/+/+/config`), and receives only the topics it may read.
 */
type Rights = 'all' | { publish: string[]; read: string[]; wildcards: boolean };

/** MQTT 3.1.1 CONNACK return codes: 2 identifier rejected, 3 server unavailable, 4 bad user name or password. */
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_CREDENTIALS = 4;

const refusal = (message: string, returnCode: number) =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

/**
 * The Aedes hooks that enforce broker identities: a connection must prove an identity and use
 * that identity's own client id (checked before Aedes takes over an existing session of that
 * id, so a client holding another identity's id is refused and the holder is never
 * disconnected); the hub may do anything; a site may publish only its own events and status and
 * subscribe only to its own ack, directory, days elsewhere and commands (shared/protocol/topics.ts siteRights); an
 * observer publishes and reads only what observerRights names. Every message a
 * client receives, queued or retained included, passes `authorizeForward` against the same
 * read rights. A refused publish closes the connection (Aedes), a refused subscription is
 * granted as 128 (failure).
 */
export function accessHooks(
  access: BrokerAccess,
  log: Logger,
  refusals: BrokerRefusals,
): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'> {
  // Each connection's rights, worked out once when it proves its identity: every publish,
  // subscription and message forwarded to it is checked against them.
  const granted = new WeakMap<Client, Rights>();
  const rightsFor = (id: BrokerIdentity): Rights => {
    if (id.kind === 'hub') return 'all';
    if (id.kind === 'observer') {
      const commands = access.homeAssistantCommands === true && id.name === HOME_ASSISTANT_OBSERVER;
      return { ...observerRights(access.topicPrefix, access.discoveryPrefix, commands), wildcards: true };
    }
    const site = siteRights(id.site, access.topicPrefix);
    return { publish: site.publish, read: site.subscribe, wildcards: false };
  };
  const rightsOf = (client: Client | null): Rights | undefined => (client ? granted.get(client) : undefined);
  const mayRead = (rights: Rights | undefined, topic: string) =>
    rights === 'all' || (rights?.read.some((f) => filterMatches(f, topic)) ?? false);
  const decide = (
    client: Client,
    username: string | undefined,
    id: BrokerIdentity | undefined,
    done: (error: AuthenticateError | null, success: boolean | null) => void,
  ): void => {
    if (id && client.id === access.clientIdOf(id)) {
      granted.set(client, rightsFor(id));
      done(null, true);
      return;
    }
    refusals.connect++;
    const fields = { clientId: client.id, username: username ?? null };
    if (id) log.warn(fields, 'broker connection refused: not this identity’s client id');
    else log.warn(fields, 'broker connection refused: unknown username or wrong password');
    done(
      id
        ? refusal('client id of another identity', IDENTIFIER_REJECTED)
        : refusal('bad username or password', BAD_CREDENTIALS),
      false,
    );
  };
  return {
    authenticate(client, username, password, done) {
      Promise.resolve()
        .then(() => access.identify(username, password))
        .then(
          (id) => decide(client, username, id, done),
          (err: unknown) => {
            refusals.connect++;
            log.warn({ clientId: client.id, err }, 'broker connection refused: identities cannot be read now');
            done(refusal('server unavailable', SERVER_UNAVAILABLE), false);
          },
        );
    },
    authorizePublish(client, packet, done) {
      const rights = rightsOf(client);
      if (
        !packet.topic.startsWith('$SYS/') &&
        (rights === 'all' || rights?.publish.some((f) => filterMatches(f, packet.topic)))
      ) {
        done(null);
        return;
      }
      refusals.publish++;
      log.warn(
        { clientId: client?.id ?? null, topic: packet.topic },
        'broker publish refused: not this identity’s topic',
      );
      done(new Error(`not allowed to publish on ${packet.topic}`));
    },
    authorizeSubscribe(client, sub, done) {
      const rights = rightsOf(client);
      if (
        rights === 'all' ||
        rights?.read.some((f) => (rights.wildcards ? filtersOverlap(f, sub.topic) : f === sub.topic))
      ) {
        done(null, sub);
        return;
      }
      refusals.subscribe++;
      log.warn({ clientId: client.id, topic: sub.topic }, 'broker subscription refused: not this identity’s topic');
      done(null, null);
    },
    authorizeForward(client, packet) {
      return mayRead(rightsOf(client), packet.topic) ? packet : null;
    },
  };
}
