/** MQTT topic names (docs/architecture.md, "The protocol"). The prefix is configurable per network. */
export const DEFAULT_TOPIC_PREFIX = 'tessera/v1';

const SITE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

function siteTopic(prefix: string, site: string, leaf: string): string {
  if (!SITE_ID.test(site)) throw new Error(`invalid site id for a topic: ${JSON.stringify(site)}`);
  return `${prefix}/sites/${site}/${leaf}`;
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

/** The Home Assistant discovery topics the hub publishes: one sensor config per site. */
export function homeAssistantTopics(discoveryPrefix: string = DEFAULT_DISCOVERY_PREFIX) {
  return {
    sensorConfig: (site: string) => `${discoveryPrefix}/sensor/tessera/${site}_occupancy/config`,
    allSensorConfigs: `${discoveryPrefix}/sensor/tessera/#`,
  };
}

/**
 * What an observer's broker identity (a display, Home Assistant) may read, as topic filters: the
 * network's occupancy and the hub's Home Assistant discovery configs. It publishes nothing. The
 * embedded broker enforces it, and the Mosquitto ACL lines are written from it.
 */
export function observerReadFilters(
  prefix: string = DEFAULT_TOPIC_PREFIX,
  discoveryPrefix: string = DEFAULT_DISCOVERY_PREFIX,
): string[] {
  return [topics(prefix).occupancy, homeAssistantTopics(discoveryPrefix).allSensorConfigs];
}

export { SITE_ID as SITE_ID_PATTERN };
