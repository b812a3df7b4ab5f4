import type { Logger } from 'pino';
import { z } from 'zod';
import type { Clock, TimerHandle } from '../../../shared/platform/clock.js';
import { SITE_ID_PATTERN, homeAssistantTopics, topics } from '../../../shared/protocol/topics.js';
import { filterMatches } from '../../broker/topic-filter.js';
import {
  type DiscoveryOptions,
  type HomeAssistantPress,
  type HomeAssistantSite,
  homeAssistantState,
  siteDiscovery,
} from './discovery.js';

export interface HomeAssistantBridgeDeps {
  /** On the hub's MQTT connection (HubIngest.publish). */
  publish: (topic: string, payload: string, o: { qos: 0 | 1; retain: boolean }) => Promise<void>;
  /** Every site Home Assistant shows now (those the network occupancy lists). */
  sites: () => Promise<HomeAssistantSite[]>;
  clock: Clock;
  log: Logger;
  discovery: DiscoveryOptions;
  /** Carries out a press (commands on): signs, audits and publishes the command; rejects with why not. */
  press?: ((site: string, press: Exclude<HomeAssistantPress, { kind: 'lock' }>) => Promise<void>) | undefined;
  /** Everything is looked at again this often (default 10 s): a site declared, renamed or deleted. */
  refreshMs?: number;
  /** At most one look per this many ms (default 1000), always at the latest state. */
  intervalMs?: number;
}

const Door = z.string().min(1).max(64);
const Press = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('unlock'), door: Door }),
  z.strictObject({ kind: z.literal('lock'), door: Door }),
  z.strictObject({ kind: z.literal('lockdown') }),
  z.strictObject({ kind: z.literal('lift_lockdown') }),
]);

/** What the hub subscribes to for Home Assistant: its discovery topics and birth, and with commands the presses. */
export function homeAssistantSubscriptions(
  o: Pick<DiscoveryOptions, 'topicPrefix' | 'discoveryPrefix'>,
  commands: boolean,
): { filters: string[]; shared: string[] } {
  const ha = homeAssistantTopics(o.discoveryPrefix);
  return {
    filters: [ha.allDeviceConfigs, ha.legacySensorConfigs, ha.birth],
    shared: commands ? [topics(o.topicPrefix).allHomeAssistantCommands] : [],
  };
}

/**
 * The hub's side of Home Assistant's MQTT discovery (docs/hub.md "Home Assistant"): the hub's
 * status (`online` at each connection, `offline` as its last will and at shutdown), one retained
 * device config per site and its retained state, published when they change; the configs of
 * sites no longer there (and of older hubs' per-site sensors) cleared with an empty retained
 * payload. The hub listens to its own discovery topics, so it knows what the broker holds, after
 * a restart too. With `press`, a press of a Home Assistant button or lock (on the site's command
 * topic, which only the Home Assistant identity may publish) becomes a signed command.
 */
export class HomeAssistantBridge {
  /** Topics the hub subscribes to for this bridge, on each instance. */
  readonly filters: string[];
  /** Topics one instance of several takes (the presses: each carried out once). */
  readonly shared: string[];
  private readonly t;
  private readonly ha;
  /** What the broker holds on our discovery topics, as last seen or published. */
  private readonly held = new Map<string, string>();
  /** Each site's state as last published, without its time. */
  private readonly states = new Map<string, string>();
  /** The config topics of the sites there at the last look: undefined before the first. */
  private current: Set<string> | undefined;
  private lastAt = -Infinity;
  private timer: TimerHandle | undefined;
  private refresh: TimerHandle | undefined;
  private running = false;
  private again = false;
  private failing = false;
  private stopped = false;

  constructor(private readonly deps: HomeAssistantBridgeDeps) {
    this.t = topics(deps.discovery.topicPrefix);
    this.ha = homeAssistantTopics(deps.discovery.discoveryPrefix);
    ({ filters: this.filters, shared: this.shared } = homeAssistantSubscriptions(
      deps.discovery,
      deps.press !== undefined,
    ));
  }

  /** Looks at the sites now, then at each change and every refresh interval. */
  start(): void {
    if (this.stopped || this.refresh !== undefined) return;
    this.refresh = this.deps.clock.setInterval(() => this.changed(), this.deps.refreshMs ?? 10_000);
    this.changed();
  }

  /** At each connection: the hub is online (again: the broker may have published its last will). */
  onConnect(): void {
    if (this.stopped) return;
    this.deps
      .publish(this.t.hubStatus, 'online', { qos: 1, retain: true })
      .catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'hub status not published'));
  }

  /** Something changed (a site's occupancy, health, alarms, events): looked at within the interval. */
  changed(): void {
    if (this.stopped || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastAt + (this.deps.intervalMs ?? 1000) - this.deps.clock.now());
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      void this.look();
    }, wait);
  }

  /** A message on one of `filters` or `shared`; never throws. */
  onMessage(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    if (topic === this.ha.birth) {
      // Home Assistant (re)started: everything again, as its discovery documentation asks.
      if (payload.toString() === 'online') {
        this.held.clear();
        this.states.clear();
        this.changed();
      }
      return;
    }
    if (filterMatches(this.t.allHomeAssistantCommands, topic)) return void this.onPress(topic, payload);
    const text = payload.toString();
    this.held.set(topic, text);
    if (text !== '' && this.current !== undefined && !this.current.has(topic)) this.clear(topic);
  }

  /** Stops looking and says the hub is offline (retained): Home Assistant shows every entity unavailable. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.refresh?.cancel();
    await this.deps
      .publish(this.t.hubStatus, 'offline', { qos: 1, retain: true })
      .catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'hub status not published'));
  }

  private async look(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.lastAt = this.deps.clock.now();
    try {
      const sites = await this.deps.sites();
      if (this.stopped) return;
      const current = new Set<string>();
      const work: Array<Promise<void>> = [];
      for (const s of sites) {
        const { topic, config } = siteDiscovery(s, this.deps.discovery);
        current.add(topic);
        const text = JSON.stringify(config);
        if (this.held.get(topic) !== text) {
          this.held.set(topic, text);
          work.push(this.put(topic, text, () => this.held.delete(topic)));
        }
        const { at, ...state } = homeAssistantState(s, this.deps.clock.now());
        const key = JSON.stringify(state);
        if (this.states.get(s.site) !== key) {
          this.states.set(s.site, key);
          work.push(
            this.put(this.t.homeAssistantState(s.site), JSON.stringify({ ...state, at }), () =>
              this.states.delete(s.site),
            ),
          );
        }
      }
      this.current = current;
      for (const [topic, text] of this.held) if (text !== '' && !current.has(topic)) this.clear(topic);
      await Promise.all(work);
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.deps.log.warn({ err }, 'Home Assistant not told: tried again at the next change');
      this.failing = true;
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        this.changed();
      }
    }
  }

  /** A site no longer there: its discovery config cleared, so Home Assistant removes its device. */
  private clear(topic: string): void {
    this.held.set(topic, '');
    this.deps.log.info({ topic }, 'Home Assistant discovery cleared: no such site now');
    void this.put(topic, '', () => this.held.delete(topic));
  }

  /** Publishes retained, QoS 1; a failure is logged and `undo` makes the next look publish it again. */
  private put(topic: string, payload: string, undo: () => void): Promise<void> {
    return this.deps.publish(topic, payload, { qos: 1, retain: true }).catch((err: unknown) => {
      undo();
      if (!this.failing)
        this.deps.log.warn({ err: (err as Error).message, topic }, 'Home Assistant topic not published');
      this.failing = true;
    });
  }

  private onPress(topic: string, payload: Buffer): void {
    const site = topic.split('/').at(-2) ?? '';
    const press = this.deps.press;
    let parsed: HomeAssistantPress;
    try {
      parsed = Press.parse(JSON.parse(payload.toString()));
    } catch {
      this.deps.log.warn({ topic }, 'Home Assistant press refused: not a press this hub publishes');
      return;
    }
    if (!press || !SITE_ID_PATTERN.test(site)) return;
    if (parsed.kind === 'lock') {
      // A door locks itself again after an unlock: nothing to send; the lock shows its state again.
      this.states.delete(site);
      this.changed();
      return;
    }
    press(site, parsed).then(
      () => this.changed(),
      (err: unknown) =>
        this.deps.log.warn(
          { site, kind: parsed.kind, err: (err as Error).message },
          'Home Assistant press not carried out',
        ),
    );
  }
}
