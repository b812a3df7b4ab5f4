import { createHash } from 'node:crypto';
import { homeAssistantTopics, topics } from '../../../shared/protocol/topics.js';

/** What Home Assistant shows of one site: read from the hub's live side (occupancy, health, alarms, doors). */
export interface HomeAssistantSite {
  site: string;
  name: string;
  present: number;
  capacity: number | null;
  /** The hub's verdict (its last status and heartbeat); null before any status. */
  online: boolean | null;
  /** Alarms raised and not cleared yet. */
  activeAlarms: number;
  /**
   * The site's doors (its config's, and those its events name), each open while the site
   * reports it forced or held open (a door opened by a granted badge is not reported), and its
   * mode as its last `door.mode` event said.
   */
  doors: Array<{ door: string; open: boolean; mode: 'locked' | 'free_access' | 'lockdown' | null }>;
}

/** The retained JSON of `{prefix}/home-assistant/{site}/state`: what the entities' templates read. */
export interface HomeAssistantState {
  v: 1;
  at: string;
  present: number;
  capacity: number | null;
  online: boolean;
  problem: boolean;
  alarms: number;
  lockdown: boolean;
  doors: Record<string, { open: boolean; locked: boolean; mode: string | null }>;
}

export function homeAssistantState(s: HomeAssistantSite, nowMs: number): HomeAssistantState {
  return {
    v: 1,
    at: new Date(nowMs).toISOString(),
    present: s.present,
    capacity: s.capacity,
    online: s.online === true,
    problem: s.activeAlarms > 0,
    alarms: s.activeAlarms,
    lockdown: s.doors.some((d) => d.mode === 'lockdown'),
    doors: Object.fromEntries(
      s.doors.map((d) => [d.door, { open: d.open, locked: d.mode !== 'free_access', mode: d.mode }]),
    ),
  };
}

/** The payloads a press of a Home Assistant button or lock publishes on the site's command topic. */
export type HomeAssistantPress =
  { kind: 'unlock'; door: string } | { kind: 'lock'; door: string } | { kind: 'lockdown' } | { kind: 'lift_lockdown' };

export interface DiscoveryOptions {
  topicPrefix: string;
  discoveryPrefix: string;
  /** The hub's version: the origin's `sw`. */
  version: string;
  /** Where people open the hub's dashboard: the origin's support URL. */
  supportUrl?: string | undefined;
  /** Locks and buttons for the signed commands (`--home-assistant-commands`). */
  commands: boolean;
}

/** A key Home Assistant accepts in a component id, a unique id and an entity id: lowercase letters, digits, `_`. */
function slug(id: string): string {
  const plain = id.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  // Two ids that differ only by case or punctuation must not share a key.
  return plain === id ? plain : `${plain}_${createHash('sha256').update(id).digest('hex').slice(0, 6)}`;
}

/** A Jinja string literal of `s` (JSON's escapes are Jinja's). */
const literal = (s: string) => JSON.stringify(s);

/**
 * The device-based discovery config of one site (retained on
 * `{discoveryPrefix}/device/tessera/{site}/config`): one device, its entities under `cmps`. Each
 * entity is available while the hub is online (its status topic, the hub's last will) and the
 * site is (its status topic, the site's last will), `availability_mode: all`; the connectivity
 * sensor only needs the hub, so that it shows a site offline instead of unavailable.
 */
export function siteDiscovery(
  s: Pick<HomeAssistantSite, 'site' | 'name'> & { doors: ReadonlyArray<{ door: string }> },
  o: DiscoveryOptions,
): { topic: string; config: Record<string, unknown> } {
  const t = topics(o.topicPrefix);
  const stateTopic = t.homeAssistantState(s.site);
  const commandTopic = t.homeAssistantCommand(s.site);
  // Site ids have no `_`: turning `-` into it keeps them apart.
  const key = s.site.replace(/-/g, '_');
  const id = (what: string) => `tessera_${key}_${what}`;
  const hub = { topic: t.hubStatus, payload_available: 'online', payload_not_available: 'offline' };
  const site = {
    topic: t.status(s.site),
    value_template: "{{ 'online' if value_json.online else 'offline' }}",
    payload_available: 'online',
    payload_not_available: 'offline',
  };
  const onOff = (test: string) => `{{ 'ON' if ${test} else 'OFF' }}`;
  const cmps: Record<string, Record<string, unknown>> = {
    occupancy: {
      p: 'sensor',
      name: 'Occupancy',
      unique_id: id('occupancy'),
      default_entity_id: `sensor.${id('occupancy')}`,
      value_template: '{{ value_json.present }}',
      unit_of_measurement: 'people',
      state_class: 'measurement',
      icon: 'mdi:account-group',
    },
    capacity: {
      p: 'sensor',
      name: 'Capacity',
      unique_id: id('capacity'),
      default_entity_id: `sensor.${id('capacity')}`,
      value_template: '{{ value_json.capacity }}',
      unit_of_measurement: 'people',
      entity_category: 'diagnostic',
      icon: 'mdi:account-multiple-check',
    },
    online: {
      p: 'binary_sensor',
      name: 'Online',
      unique_id: id('online'),
      default_entity_id: `binary_sensor.${id('online')}`,
      device_class: 'connectivity',
      value_template: onOff('value_json.online'),
      entity_category: 'diagnostic',
      availability: [hub],
    },
    problem: {
      p: 'binary_sensor',
      name: 'Alarm',
      unique_id: id('problem'),
      default_entity_id: `binary_sensor.${id('problem')}`,
      device_class: 'problem',
      value_template: onOff('value_json.problem'),
      json_attributes_topic: stateTopic,
      json_attributes_template: '{{ {"active_alarms": value_json.alarms} | tojson }}',
    },
  };
  for (const d of s.doors) {
    const door = literal(d.door);
    const of = `value_json.doors.get(${door}, {})`;
    cmps[`door_${slug(d.door)}`] = {
      p: 'binary_sensor',
      name: `Door ${d.door}`,
      unique_id: id(`door_${slug(d.door)}`),
      default_entity_id: `binary_sensor.${id(`door_${slug(d.door)}`)}`,
      device_class: 'door',
      value_template: onOff(`${of}.get('open', false)`),
    };
    if (o.commands)
      cmps[`lock_${slug(d.door)}`] = {
        p: 'lock',
        name: `Door ${d.door} lock`,
        unique_id: id(`lock_${slug(d.door)}`),
        default_entity_id: `lock.${id(`lock_${slug(d.door)}`)}`,
        command_topic: commandTopic,
        payload_unlock: JSON.stringify({ kind: 'unlock', door: d.door } satisfies HomeAssistantPress),
        payload_lock: JSON.stringify({ kind: 'lock', door: d.door } satisfies HomeAssistantPress),
        value_template: `{{ 'LOCKED' if ${of}.get('locked', true) else 'UNLOCKED' }}`,
        state_locked: 'LOCKED',
        state_unlocked: 'UNLOCKED',
        optimistic: false,
      };
  }
  if (o.commands) {
    const button = (kind: 'lockdown' | 'lift_lockdown', name: string, icon: string) => ({
      p: 'button',
      name,
      unique_id: id(kind),
      default_entity_id: `button.${id(kind)}`,
      command_topic: commandTopic,
      payload_press: JSON.stringify({ kind } satisfies HomeAssistantPress),
      icon,
    });
    cmps.lockdown = button('lockdown', 'Lockdown', 'mdi:lock-alert');
    cmps.lift_lockdown = button('lift_lockdown', 'Lift lockdown', 'mdi:lock-open-variant');
    cmps.in_lockdown = {
      p: 'binary_sensor',
      name: 'In lockdown',
      unique_id: id('in_lockdown'),
      default_entity_id: `binary_sensor.${id('in_lockdown')}`,
      device_class: 'lock',
      // The lock device class is on when unlocked: a site in lockdown shows locked.
      value_template: onOff('not value_json.lockdown'),
    };
  }
  return {
    topic: homeAssistantTopics(o.discoveryPrefix).deviceConfig(s.site),
    config: {
      dev: { ids: [`tessera_${key}`], name: s.name, mf: 'Tessera', mdl: 'Site', sw: o.version },
      o: { name: 'Tessera hub', sw: o.version, ...(o.supportUrl !== undefined ? { url: o.supportUrl } : {}) },
      availability: [hub, site],
      availability_mode: 'all',
      state_topic: stateTopic,
      qos: 1,
      cmps,
    },
  };
}
