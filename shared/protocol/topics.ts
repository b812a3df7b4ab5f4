/** MQTT topic names (docs/architecture.md, "The protocol"). The prefix is configurable per network. */
export const DEFAULT_TOPIC_PREFIX = 'tessera/v1';

const SITE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function siteTopic(prefix: string, site: string, leaf: string): string {
  if (!SITE_ID.test(site)) throw new Error(`invalid site id for a topic: ${JSON.stringify(site)}`);
  return `${prefix}/sites/${site}/${leaf}`;
}

function haSite(prefix: string, site: string): string {
  if (!SITE_ID.test(site)) throw new Error(`invalid site id for a topic: ${JSON.stringify(site)}`);
  return `${prefix}/home-assistant/${site}`;
}

export function topics(prefix: string = DEFAULT_TOPIC_PREFIX) {
  return {
    events: (site: string) => siteTopic(prefix, site, 'events'),
    ack: (site: string) => siteTopic(prefix, site, 'ack'),
    status: (site: string) => siteTopic(prefix, site, 'status'),
    directory: (site: string) => siteTopic(prefix, site, 'directory'),
    commands: (site: string) => siteTopic(prefix, site, 'commands'),
    /** The days each member came to the network's other sites this week and last (hub → site). */
    days: (site: string) => siteTopic(prefix, site, 'days'),
    allEvents: `${prefix}/sites/+/events`,
    allStatus: `${prefix}/sites/+/status`,
    occupancy: `${prefix}/network/occupancy`,
    /** The hub's own state, retained: `online`, or `offline` (its last will, and what it says on shutdown). */
    hubStatus: `${prefix}/hub/status`,
    /** A site as Home Assistant's entities read it (hub → Home Assistant, retained JSON). */
    homeAssistantState: (site: string) => `${haSite(prefix, site)}/state`,
    /** Where Home Assistant's buttons and locks of a site publish their press (Home Assistant → hub). */
    homeAssistantCommand: (site: string) => `${haSite(prefix, site)}/command`,
    allHomeAssistantCommands: `${prefix}/home-assistant/+/command`,
    /** The site id in a site topic, or undefined if the topic is not one of ours. */
    siteOf(topic: string): string | undefined {
      const rest = topic.startsWith(`${prefix}/sites/`) ? topic.slice(prefix.length + 7) : undefined;
      const site = rest?.split('/')[0];
      return site !== undefined && SITE_ID.test(site) ? site : undefined;
    },
  };
}

/**
 * What a site's broker identity may do (docs/security.md): publish its own events and status
 * (its last will is its status), read its own ack, directory, days elsewhere and commands; nothing
 * else. The
 * embedded broker enforces it, and the Mosquitto ACL lines are written from it.
 */
export function siteRights(
  site: string,
  prefix: string = DEFAULT_TOPIC_PREFIX,
): { publish: string[]; subscribe: string[] } {
  const t = topics(prefix);
  return {
    publish: [t.events(site), t.status(site)],
    subscribe: [t.ack(site), t.directory(site), t.days(site), t.commands(site)],
  };
}

/**
 * The MQTT client id of a site's edge: stable, so the broker keeps the site's session across
 * reconnects. The embedded broker admits this client id only with this site's own identity.
 */
export function edgeClientId(site: string): string {
  return `tessera-edge-${site}`;
}

/** Where Home Assistant looks for MQTT discovery configs unless told otherwise. */
export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';

/**
 * The Home Assistant discovery topics: one device config per site (device-based discovery, its
 * entities under `cmps`); the per-site sensor configs of older hubs, only to clear them; the topic
 * where Home Assistant says it (re)started.
 */
export function homeAssistantTopics(discoveryPrefix: string = DEFAULT_DISCOVERY_PREFIX) {
  return {
    deviceConfig: (site: string) => {
      if (!SITE_ID.test(site)) throw new Error(`invalid site id for a topic: ${JSON.stringify(site)}`);
      return `${discoveryPrefix}/device/tessera/${site}/config`;
    },
    allDeviceConfigs: `${discoveryPrefix}/device/tessera/+/config`,
    /** Older hubs announced one sensor per site here: cleared at start. */
    legacySensorConfigs: `${discoveryPrefix}/sensor/tessera/+/config`,
    /** Home Assistant's birth (`online`) and last will (`offline`). */
    birth: `${discoveryPrefix}/status`,
  };
}

/** The observer whose identity may press Home Assistant's buttons, when the hub takes them (`--home-assistant-commands`). */
export const HOME_ASSISTANT_OBSERVER = 'home-assistant';

/**
 * What an observer's broker identity (a display, Home Assistant) may do, as topic filters: read
 * the network's occupancy, the hub's status, the sites' statuses, the Home Assistant discovery
 * configs and states; publish Home Assistant's own birth and last will. With `commands`, also
 * publish on the sites' Home Assistant command topics (given only to HOME_ASSISTANT_OBSERVER).
 * The embedded broker enforces it, and the Mosquitto ACL lines are written from it.
 */
export function observerRights(
  prefix: string = DEFAULT_TOPIC_PREFIX,
  discoveryPrefix: string = DEFAULT_DISCOVERY_PREFIX,
  commands = false,
): { publish: string[]; read: string[] } {
  const t = topics(prefix);
  const ha = homeAssistantTopics(discoveryPrefix);
  return {
    publish: [ha.birth, ...(commands ? [t.allHomeAssistantCommands] : [])],
    read: [
      t.occupancy,
      t.hubStatus,
      t.allStatus,
      `${prefix}/home-assistant/+/state`,
      ha.birth,
      ha.allDeviceConfigs,
      ha.legacySensorConfigs,
    ],
  };
}

export { SITE_ID as SITE_ID_PATTERN };
