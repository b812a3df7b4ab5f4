import type { AedesOptions, AuthenticateError, Client } from 'aedes';
import type { Logger } from 'pino';
import { siteRights } from '../../shared/topics.js';
import type { BrokerIdentity } from '../hub/broker-identities.js';

/** Who may connect to the embedded broker, and under which topic prefix their rights are. */
export interface BrokerAccess {
  /** The identity these credentials prove, or undefined to refuse the connection. */
  identify(username: string | undefined, password: Buffer | undefined): BrokerIdentity | undefined;
  topicPrefix: string;
}

/** What the broker refused since it started: for /metrics and tests. */
export interface BrokerRefusals {
  connect: number;
  publish: number;
  subscribe: number;
}

/** MQTT 3.1.1 CONNACK return code 4: bad user name or password. */
const BAD_CREDENTIALS = 4;

/**
 * The Aedes hooks that enforce broker identities (DESIGN: Security): a connection must prove an
 * identity; the hub may do anything; a site may publish only its own events and status and
 * subscribe only to its own ack, directory, days elsewhere and commands (shared/topics.ts siteRights). A refused
 * publish closes the connection (Aedes), a refused subscription is granted as 128 (failure).
 */
export function accessHooks(access: BrokerAccess, log: Logger, refusals: BrokerRefusals): Pick<AedesOptions, 'authenticate' | 'authorizePublish' | 'authorizeSubscribe'> {
  const who = new WeakMap<Client, BrokerIdentity>();
  const rightsOf = (client: Client | null) => {
    const id = client ? who.get(client) : undefined;
    return id === undefined ? undefined : id.kind === 'hub' ? 'all' : siteRights(id.site, access.topicPrefix);
  };
  return {
    authenticate(client, username, password, done) {
      const id = access.identify(username, password);
      if (id) {
        who.set(client, id);
        done(null, true);
        return;
      }
      refusals.connect++;
      log.warn({ clientId: client.id, username: username ?? null }, 'broker connection refused: unknown username or wrong password');
      done(Object.assign(new Error('bad username or password'), { returnCode: BAD_CREDENTIALS }) as AuthenticateError, false);
    },
    authorizePublish(client, packet, done) {
      const rights = rightsOf(client);
      if (!packet.topic.startsWith('$SYS/') && (rights === 'all' || rights?.publish.includes(packet.topic))) {
        done(null);
        return;
      }
      refusals.publish++;
      log.warn({ clientId: client?.id ?? null, topic: packet.topic }, 'broker publish refused: not this identity’s topic');
      done(new Error(`not allowed to publish on ${packet.topic}`));
    },
    authorizeSubscribe(client, sub, done) {
      const rights = rightsOf(client);
      if (rights === 'all' || rights?.subscribe.includes(sub.topic)) {
        done(null, sub);
        return;
      }
      refusals.subscribe++;
      log.warn({ clientId: client.id, topic: sub.topic }, 'broker subscription refused: not this identity’s topic');
      done(null, null);
    },
  };
}
