import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { TesseraError } from '../../shared/platform/errors.js';
import type { EmbeddedBroker } from '../broker/embedded.js';
import { ListenError, startBroker } from '../broker/embedded.js';
import { buildHubApi } from '../hub/api.js';
import { openHubDatabase, type HubDb } from '../hub/db.js';
import { isPostgresUrl, type Tx } from '../hub/storage/hub-db.js';
import type { PostgresOptions } from '../hub/storage/postgres.js';
import { SqliteHubDb } from '../hub/storage/sqlite.js';
import type { SiteEvent } from '../../shared/protocol/events.js';
import { PeerListener, peerAnnouncer } from '../hub/peers.js';
import { DEFAULT_HUB_CLIENT_ID, HubIngest } from '../hub/ingest.js';
import { HubStore } from '../hub/store.js';
import { startWalCheckpointer } from '../../shared/platform/wal-checkpointer.js';
import { HubDirectory } from '../hub/directory.js';
import { HubSites } from '../hub/sites.js';
import { AuditLog, registerAdminRoutes } from '../hub/admin/index.js';
import { registerApiDocs } from './api-docs.js';
import { DirectoryPublisher } from '../hub/directory-publisher.js';
import { DaysElsewherePublisher } from '../hub/days-elsewhere.js';
import { recoverImport } from '../hub/directory-import.js';
import { createPublicKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { BrokerAccess } from '../broker/access.js';
import { DEFAULT_DISCOVERY_PREFIX, DEFAULT_TOPIC_PREFIX, edgeClientId, topics } from '../../shared/protocol/topics.js';
import { BrokerIdentities, HUB_BROKER_USERNAME, observerUsername } from '../hub/broker-identities.js';
import { DEFAULT_HUB_RETENTION_DAYS, HubRetention } from '../hub/retention.js';
import { generateHubKeys, hubPrivateKey } from '../../shared/protocol/signing.js';
import { createJsonApi } from '../../shared/platform/json-api.js';
import { HubAuth, registerAuth, type InitialAdmin } from '../hub/auth/index.js';
import type { ScryptCost } from '../hub/auth/password.js';
import { HubLive } from '../hub/occupancy/live.js';
import { registerLiveRoutes } from '../hub/occupancy/routes.js';
import { registerHubMetrics } from '../hub/occupancy/metrics.js';
import { registerDashboard } from '../dashboard/register.js';
import { dashboardAssets, type DashboardAssets } from '../dashboard/static.js';
import { BillingLedger } from '../billing/ledger.js';
import { registerBillingRoutes } from '../billing/api.js';
import { BillingAccounting } from '../billing/accounting.js';
import { registerFecRoutes } from '../billing/fec-api.js';
import { BillingPacks } from '../billing/packs.js';
import { Payments } from '../billing/payments/service.js';
import { registerPaymentRoutes } from '../billing/payments/api.js';
import type { MailSettings } from '../hub/self-service/index.js';
import { type AlarmNotifier, type NotificationPlan, startAlarmNotifications } from '../hub/notify/index.js';
import { CommandSender } from '../hub/commands.js';
import { registerCommandRoutes } from '../hub/admin/command-routes.js';
import { bookingsOfMember } from '../hub/bookings/routes.js';
import {
  HomeAssistantBridge,
  homeAssistantPress,
  homeAssistantSites,
  homeAssistantSubscriptions,
} from '../hub/home-assistant/index.js';
import { VERSION } from '../../shared/platform/package-root.js';
import { registerMemberServices } from './member-services.js';

export interface HubDeps {
  dbPath: string;
  clock: Clock;
  log: Logger;
  /** An external broker (e.g. `mqtt://127.0.0.1:1883`); without it the hub embeds Aedes. */
  mqttUrl?: string;
  /**
   * The password of the external broker's login (the username is the URL's): kept out of the URL,
   * which is printed and logged. The CLI reads it from TESSERA_MQTT_PASSWORD_FILE.
   */
  mqttPassword?: string;
  /** Port of the embedded broker: default 1883, 0 = a free port. */
  brokerPort?: number;
  /** Default 127.0.0.1. */
  apiHost?: string;
  /** Default 8080, 0 = a free port. */
  apiPort?: number;
  topicPrefix?: string;
  /** The hub's MQTT client id, stable across restarts (default `tessera-hub`). */
  clientId?: string;
  /** The hub's Ed25519 private key (PEM) that signs directory updates; sites pin its public key. */
  privateKeyPem?: string;
  /** The operator account made when the hub has none; without it, `admin` with a one-time password (Hub.oneTimeAdmin). */
  initialAdmin?: InitialAdmin;
  /** scrypt's cost for new password hashes (auth/password.ts PASSWORD_COST by default); tests ask for less. */
  passwordCost?: ScryptCost;
  /** How long a login session lasts (default 12 h). */
  sessionTtlMs?: number;
  /**
   * Home Assistant MQTT discovery (docs/hub.md "Home Assistant"): a device per site, with its
   * occupancy, capacity, connectivity, doors and alarms (off without it). With `commands`, also
   * locks and buttons whose presses the hub signs and sends as the dashboard's commands.
   */
  homeAssistant?: { discoveryPrefix?: string; commands?: boolean; refreshMs?: number };
  /**
   * The embedded broker admits only the hub and the sites provisioned with `tessera site
   * provision`, each to its own topics (docs/security.md). `tessera hub` turns it on unless told
   * `--open-broker`; off here by default so that tests may speak to the broker with plain clients.
   */
  brokerIdentities?: boolean;
  /** The embedded broker speaks MQTT over TLS (mqtts): its certificate chain and key, PEM. */
  brokerTls?: { cert: string | Buffer; key: string | Buffer };
  /** Days access and presence events stay after the close that billed them (default 400; retention.ts). */
  retentionDays?: number;
  /**
   * This hub is one of several instances sharing one PostgreSQL database and one external MQTT 5
   * broker (docs/scaling.md): its name, unique among them (its MQTT client id is
   * `tessera-hub-NAME` unless `clientId` says otherwise).
   */
  instance?: string;
  /** A hub on PostgreSQL: its pool's bounds (storage/postgres.ts; tests give small ones). */
  postgres?: PostgresOptions;
  /** Where people open the dashboard (`https://hub.example.org`), for invitation links; default: the inviting request's address. */
  publicUrl?: string;
  /** SMTP settings: invitations are emailed (without them, only answered as links). */
  mail?: MailSettings;
  /** Alarms told by webhook and email (docs/notifications.md); off without it. */
  notifications?: NotificationPlan;
}

export interface Hub {
  /** Starts broker (if embedded), ingest and API; on failure stops what it started and throws. */
  start(): Promise<{ mqttUrl: string; apiUrl: string }>;
  /** API, ingest client, broker, SQLite, in that order. Idempotent. */
  stop(): Promise<void>;
  store: HubStore;
  ingest: HubIngest;
  api: FastifyInstance;
  directory: HubDirectory;
  /** The sites the operator declared (name, time zone, capacity). */
  sites: HubSites;
  /** The public half of the hub key, PEM: what each site pins as broker.hubPublicKey. */
  publicKeyPem: string;
  /** Accounts, sessions and login throttling. */
  auth: HubAuth;
  /** Live occupancy, site health, alarms and the feed of the dashboard (docs/dashboard.md). */
  live: HubLive;
  /** Alarm notifications, when configured. */
  notifier: AlarmNotifier | undefined;
  /** Prices, period closes and frozen invoices (docs/billing.md). */
  billing: BillingLedger;
  /** Payments, receivables, reminders, and the overdue policy that closes doors (docs/billing.md "Payments"). */
  payments: Payments;
  /** On the first start without `initialAdmin`: the generated admin and its one-time password, to print once. */
  oneTimeAdmin: InitialAdmin | undefined;
  /** The sites' credentials on the embedded broker. */
  brokerIdentities: BrokerIdentities;
  /** Deletes access and presence events past their retention after billing. */
  retention: HubRetention;
  /** The embedded broker while it runs (undefined with an external one). */
  broker(): EmbeddedBroker | undefined;
}

/**
 * The hub's composition root (docs/architecture.md, "Layers"): everything passed in, `start` and
 * `stop` out. Opens the database (and brings its schema up to date) and reads what the live
 * side needs; on failure closes what it opened and throws.
 */
export async function createHub(deps: HubDeps): Promise<Hub> {
  checkInstance(deps);
  // The dashboard's files, bundled while the database opens; a hub that cannot serve them does not start.
  const dashboard = dashboardAssets();
  const db = await openHubDatabase(deps.dbPath, deps.postgres);
  try {
    return await composeHub(deps, db, await dashboard);
  } catch (err) {
    await db.close();
    throw err;
  }
}

async function composeHub(deps: HubDeps, db: HubDb, dashboard: DashboardAssets): Promise<Hub> {
  const log = deps.log.child({ module: 'hub' });
  const store = new HubStore(db, deps.instance === undefined ? undefined : peerAnnouncer(deps.instance));
  const checkpointer = db instanceof SqliteHubDb ? startWalCheckpointer(db.raw, log) : undefined;
  let broker: EmbeddedBroker | undefined;
  let mqttUrl = deps.mqttUrl;
  const key = hubKey(deps.privateKeyPem, log);
  const directory = new HubDirectory(store.db, () => deps.clock.now());
  if (await recoverImport(store.db, deps.instance ?? ''))
    log.warn('a members import left half-written by the last run was rolled back');
  // Aborted first thing in stop(): long work (an import, a snapshot) stops at its next slice.
  const stopAll = new AbortController();
  const sites = new HubSites(store.db, () => deps.clock.now());
  const brokerIdentities = new BrokerIdentities(store.db, () => deps.clock.now());
  // The hub's own password on its embedded broker: new at every start, never stored.
  const hubCredentials = { username: HUB_BROKER_USERNAME, password: randomBytes(24).toString('base64url') };
  const hubClientId =
    deps.clientId ??
    (deps.instance === undefined ? DEFAULT_HUB_CLIENT_ID : `${DEFAULT_HUB_CLIENT_ID}-${deps.instance}`);
  // Made once the live side and the command sender are (below); ingest hands it its messages.
  const made: { ha?: HomeAssistantBridge } = {};
  const homeAssistant = (): HomeAssistantBridge => {
    if (!made.ha) throw new Error('Home Assistant bridge not made yet');
    return made.ha;
  };
  const ingest = new HubIngest({
    ...(deps.mqttUrl === undefined
      ? { credentials: hubCredentials, ...(deps.brokerTls ? { tlsLoopback: true } : {}) }
      : deps.mqttPassword !== undefined
        ? { credentials: { username: decodeURIComponent(new URL(deps.mqttUrl).username), password: deps.mqttPassword } }
        : {}),
    store,
    clock: deps.clock,
    log: deps.log,
    ...(deps.topicPrefix !== undefined ? { topicPrefix: deps.topicPrefix } : {}),
    clientId: hubClientId,
    ...(deps.instance !== undefined ? { shared: true } : {}),
    onSiteStatus: (status) => {
      publisher.onStatus(status);
      daysElsewhere.onSite(status.site);
      void live.onStatus(status); // never rejects: logs its own failures
    },
    // Each listener in a savepoint of the ingest transaction: one failing rolls back its own writes only.
    onApplied: async (tx, events) => {
      const after: Array<void | (() => void)> = [];
      for (const listener of appliedListeners) after.push(await inSavepoint(tx, listener, events, log));
      return () => after.forEach((tell) => tell?.());
    },
    pseudonymise: (tx, batch) => directory.erasures.pseudonymise(tx, batch),
    ...(deps.homeAssistant
      ? {
          will: { topic: topics(deps.topicPrefix).hubStatus, payload: 'offline' },
          extra: {
            ...homeAssistantSubscriptions(
              {
                topicPrefix: deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX,
                discoveryPrefix: deps.homeAssistant.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX,
              },
              deps.homeAssistant.commands === true,
            ),
            onMessage: (topic, payload) => homeAssistant().onMessage(topic, payload),
          },
          onConnect: () => homeAssistant().onConnect(),
        }
      : {}),
  });
  const publisher = new DirectoryPublisher({
    directory,
    db: store.db,
    publish: (topic, payload) => ingest.publish(topic, payload),
    key: key.privateKey,
    clock: deps.clock,
    log,
    ...(deps.topicPrefix !== undefined ? { topicPrefix: deps.topicPrefix } : {}),
  });
  const daysElsewhere = new DaysElsewherePublisher({
    db: store.db,
    directory,
    publish: (topic, payload) => ingest.publish(topic, payload, true, 1),
    key: key.privateKey,
    clock: deps.clock,
    log,
    sites: async () => [...new Set([...(await store.siteIds()), ...(await sites.list()).map((s) => s.id)])],
    ...(deps.topicPrefix !== undefined ? { topicPrefix: deps.topicPrefix } : {}),
  });
  await daysElsewhere.load();
  const live = new HubLive({
    db: store.db,
    store,
    clock: deps.clock,
    log: deps.log,
    declaredSites: (q) => sites.declared(q),
    memberNames: (q, ids) => directory.memberNames(q, ids),
    publish: (topic, payload, o) => ingest.publish(topic, payload, o.retain, o.qos),
    ...(deps.topicPrefix !== undefined ? { topicPrefix: deps.topicPrefix } : {}),
  });
  const appliedListeners: ReadonlyArray<{
    name: string;
    onApplied: (tx: Tx, events: readonly SiteEvent[]) => Promise<void | (() => void)>;
  }> = [
    { name: 'live', onApplied: (tx, events) => live.onApplied(tx, events) },
    { name: 'days elsewhere', onApplied: (tx, events) => daysElsewhere.onApplied(tx, events) },
  ];
  const notifications =
    deps.notifications &&
    startAlarmNotifications({
      plan: deps.notifications,
      mail: deps.mail,
      clock: deps.clock,
      log: deps.log,
      feed: live.feed,
      current: (id) => live.alarms.get(id),
    });
  await live.recover();
  notifications?.notifier.resume(await live.alarms.list({ open: true }));
  live.watchHeartbeats();
  const peers =
    deps.instance === undefined
      ? undefined
      : new PeerListener({
          url: deps.dbPath,
          instance: deps.instance,
          log,
          onNotices: async (notices) => {
            const events: SiteEvent[] = [];
            for (const n of notices)
              for (const [from, to] of n.ranges)
                events.push(...(await store.events(n.site, from - 1, to - from + 1)).map((e) => e.event));
            await live.onPeerApplied(events);
            daysElsewhere.applied(events);
          },
          onResync: () => live.resync(),
        });
  publisher.seed(
    (await store.sites()).flatMap((s) => (s.status ? [{ site: s.site, revision: s.status.directory.revision }] : [])),
  );
  const audit = new AuditLog(store.db, () => deps.clock.now(), log.child({ module: 'admin' }));
  const auth = await HubAuth.open({
    db: store.db,
    clock: deps.clock,
    log: deps.log,
    onOwnPasswordChange: (tx, account) =>
      audit.record(tx, account, 'change_password', 'account', account.id, null, { mustChangePassword: false }),
    ...(deps.initialAdmin ? { initialAdmin: deps.initialAdmin } : {}),
    ...(deps.sessionTtlMs !== undefined ? { sessionTtlMs: deps.sessionTtlMs } : {}),
    ...(deps.passwordCost ? { passwordCost: deps.passwordCost } : {}),
  });
  const api = createJsonApi(deps.log);
  registerAuth(api, auth);
  registerApiDocs(api);
  buildHubApi({ store, ingest, log: deps.log, clock: deps.clock, startedAt: deps.clock.now() }, api);
  const onDirectoryChange = () => {
    publisher.onChange();
    daysElsewhere.onDirectoryChange();
  };
  registerAdminRoutes(api, {
    db: store.db,
    directory,
    sites,
    audit,
    auth,
    onDirectoryChange,
    publicKeyPem: key.publicKeyPem,
    log,
    now: () => deps.clock.now(),
    // Answered once both have read their state again: the erased name is gone from what they show.
    onMemberErased: async () => {
      await Promise.all([
        live.projection
          .reload()
          .catch((err: unknown) => log.error({ err }, 'occupancy not read again after an erasure')),
        daysElsewhere
          .reload()
          .catch((err: unknown) => log.error({ err }, 'days elsewhere not read again after an erasure')),
      ]);
    },
    memberBookings: bookingsOfMember,
    importOwner: deps.instance ?? '',
    stopping: stopAll.signal,
  });
  const retention = new HubRetention(
    store.db,
    deps.clock,
    log.child({ module: 'retention' }),
    deps.retentionDays ?? DEFAULT_HUB_RETENTION_DAYS,
  );
  const billing = new BillingLedger({
    db: store.db,
    directory,
    sites,
    now: () => deps.clock.now(),
    log: deps.log,
    audit: (tx, actor, action, entity, id, before, after) => audit.record(tx, actor, action, entity, id, before, after),
    // A credit note may settle an overdue invoice: its account's hold is lifted at once.
    onCreditNotes: () => payments.receivablesChanged(),
  });
  registerBillingRoutes(
    api,
    billing,
    new BillingPacks({ db: store.db, directory, ledger: billing, now: () => deps.clock.now() }),
  );
  registerFecRoutes(api, new BillingAccounting({ db: store.db, now: () => deps.clock.now(), log: deps.log }));
  const payments = new Payments({ db: store.db, directory, audit, clock: deps.clock, log, onDirectoryChange });
  registerPaymentRoutes(api, payments);
  const members = registerMemberServices(api, {
    db: store.db,
    directory,
    sites,
    audit,
    auth,
    billing,
    clock: deps.clock,
    log,
    onDirectoryChange,
    occupancyNow: async () => (await live.projection.network()).sites,
    publicUrl: deps.publicUrl,
    mail: deps.mail,
  });
  registerLiveRoutes(api, { live, store, now: () => deps.clock.now() });
  registerHubMetrics(api, { live, ingest, store });
  const commands = new CommandSender({
    key: key.privateKey,
    clock: deps.clock,
    publish: (topic, payload) => ingest.publish(topic, payload),
    log,
    ...(deps.topicPrefix !== undefined ? { topicPrefix: deps.topicPrefix } : {}),
  });
  registerCommandRoutes(api, { db: store.db, commands, audit, sites, store });
  const ha = deps.homeAssistant
    ? new HomeAssistantBridge({
        publish: (topic, payload, o) => ingest.publish(topic, payload, o.retain, o.qos),
        sites: homeAssistantSites({ live, store, db: store.db }),
        ...(deps.homeAssistant.refreshMs !== undefined ? { refreshMs: deps.homeAssistant.refreshMs } : {}),
        clock: deps.clock,
        log: log.child({ module: 'home-assistant' }),
        discovery: {
          topicPrefix: deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX,
          discoveryPrefix: deps.homeAssistant.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX,
          version: VERSION,
          supportUrl: deps.publicUrl,
          commands: deps.homeAssistant.commands === true,
        },
        press:
          deps.homeAssistant.commands === true
            ? homeAssistantPress({ db: store.db, store, audit, commands })
            : undefined,
      })
    : undefined;
  if (ha) made.ha = ha;
  const haOnLive = ha ? live.feed.subscribe(() => ha.changed()) : undefined;
  registerDashboard(api, { live, auth, clock: deps.clock, log: deps.log, assets: dashboard });
  let stopping: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      stopAll.abort();
      live.stop();
      await daysElsewhere.stop();
      await peers?.stop();
      retention.stop();
      await retention.settled();
      await members.noShows.stop();
      await payments.stop();
      await api.close().catch((err: unknown) => log.warn({ err }, 'API close failed'));
      members.close();
      await publisher.stop();
      haOnLive?.();
      await ha?.stop();
      await ingest.stop().catch((err: unknown) => log.warn({ err }, 'ingest stop failed'));
      await live.settled();
      await notifications?.stop();
      await broker?.close();
      await checkpointer?.stop();
      await store.db.close();
      log.info('hub stopped');
    })();
    return stopping;
  };

  return {
    store,
    ingest,
    api,
    directory,
    sites,
    publicKeyPem: key.publicKeyPem,
    auth,
    live,
    notifier: notifications?.notifier,
    billing,
    payments,
    oneTimeAdmin: auth.oneTimeAdmin,
    brokerIdentities,
    retention,
    broker: () => broker,
    stop,
    async start() {
      try {
        if (mqttUrl === undefined) {
          broker = await startBroker({
            port: deps.brokerPort ?? 1883,
            log: deps.log,
            ...(deps.brokerIdentities === true
              ? {
                  access: embeddedBrokerAccess(
                    brokerIdentities,
                    { ...hubCredentials, clientId: hubClientId },
                    {
                      topicPrefix: deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX,
                      discoveryPrefix: deps.homeAssistant?.discoveryPrefix,
                      homeAssistantCommands: deps.homeAssistant?.commands === true,
                    },
                  ),
                }
              : {}),
            ...(deps.brokerTls ? { tls: deps.brokerTls } : {}),
          });
          mqttUrl = `${broker.scheme}://127.0.0.1:${broker.port}`;
        }
        await peers?.start();
        await ingest.start(mqttUrl);
        const apiUrl = await listenApi(api, deps.apiHost ?? '127.0.0.1', deps.apiPort ?? 8080);
        live.announce();
        ha?.start();
        retention.start();
        members.noShows.start();
        payments.start();
        log.info({ mqttUrl, apiUrl, embeddedBroker: broker !== undefined }, 'hub started');
        return { mqttUrl, apiUrl };
      } catch (err) {
        await stop();
        throw err;
      }
    },
  };
}

/** Several instances need what they share: one PostgreSQL database and one external broker. */
function checkInstance(deps: HubDeps): void {
  if (deps.instance === undefined) return;
  const problems = [
    ...(/^[A-Za-z0-9_-]{1,32}$/.test(deps.instance)
      ? []
      : [{ path: 'instance', message: 'letters, digits, - and _, at most 32' }]),
    ...(isPostgresUrl(deps.dbPath)
      ? []
      : [{ path: 'db', message: 'several hub instances share one PostgreSQL database (postgres://...)' }]),
    ...(deps.mqttUrl !== undefined
      ? []
      : [
          {
            path: 'mqtt',
            message:
              'several hub instances share one external MQTT 5 broker (the embedded one has no shared subscriptions)',
          },
        ]),
  ];
  if (problems.length > 0)
    throw new TesseraError('config.invalid', `hub instance ${JSON.stringify(deps.instance)} cannot start`, problems);
}

async function listenApi(api: FastifyInstance, host: string, port: number): Promise<string> {
  try {
    return await api.listen({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES')
      throw new ListenError('hub API', host, port, err as NodeJS.ErrnoException);
    throw err;
  }
}

/** The hub's signing key; without one, an ephemeral key (sites pinned to another key will refuse it). */
function hubKey(privateKeyPem: string | undefined, log: Logger): { privateKey: KeyObject; publicKeyPem: string } {
  let pem = privateKeyPem;
  if (pem === undefined) {
    log.warn('no hub key given: directory updates are signed with an ephemeral key that no site has pinned');
    pem = generateHubKeys().privateKeyPem;
  }
  const privateKey = hubPrivateKey(pem);
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString() };
}

/** The hub by its per-start secret, a site or an observer by its provisioned credentials. */
function embeddedBrokerAccess(
  identities: BrokerIdentities,
  hub: { username: string; password: string; clientId: string },
  prefixes: { topicPrefix: string; discoveryPrefix: string | undefined; homeAssistantCommands: boolean },
): BrokerAccess {
  const hubSecret = Buffer.from(hub.password);
  return {
    ...prefixes,
    identify(username, password) {
      if (username === hub.username)
        return password !== undefined && password.length === hubSecret.length && timingSafeEqual(password, hubSecret)
          ? { kind: 'hub' }
          : undefined;
      return identities.verify(username, password);
    },
    clientIdOf(identity) {
      if (identity.kind === 'hub') return hub.clientId;
      return identity.kind === 'site' ? edgeClientId(identity.site) : observerUsername(identity.name);
    },
  };
}

/** Runs one ingest listener in a savepoint: its failure is logged and undoes its own writes only. */
async function inSavepoint(
  tx: Tx,
  listener: { name: string; onApplied: (tx: Tx, events: readonly SiteEvent[]) => Promise<void | (() => void)> },
  events: readonly SiteEvent[],
  log: Logger,
): Promise<void | (() => void)> {
  try {
    return await tx.transaction((sp) => listener.onApplied(sp, events));
  } catch (err) {
    log.error({ err, listener: listener.name }, 'ingest listener failed: its writes were rolled back');
    return undefined;
  }
}
