import type { Clock, TimerHandle } from '../shared/platform/clock.js';
import type { HubSession } from '../shared/platform/hub-client.js';
import { clockTime, DAY_END, DAY_START, planDay, type DayAction, type SiteId } from './day-plan.js';
import type { DemoMember } from './network.js';
import { MEMBERS } from './network.js';
import type { RunningSite } from './sites.js';

/**
 * Plays simulated days against the running sites (their simulation API: taps, doors, printer)
 * and the hub (its admin API: revocations; its occupancy: the hourly line). Simulated time runs
 * `hourMs` real milliseconds per hour; the sites stamp events with real time, so the console
 * shows both: `[day 1 08:12]` is the simulator's clock.
 */
export interface SimulatorDeps {
  sites: ReadonlyMap<SiteId, RunningSite>;
  hub: HubSession;
  hourMs: number;
  out: (line: string) => void;
  clock: Clock;
}

type Step = DayAction | { at: number; kind: 'summary' };

export class DemoSimulator {
  private stopped = false;
  private readonly revoked = new Set<string>();
  private running: Promise<void> | undefined;
  /** Pending waits and door timers, cancelled by stop(); a wait's `end` settles it. */
  private readonly timers = new Map<TimerHandle, () => void>();

  constructor(private readonly deps: SimulatorDeps) {}

  start(): void {
    this.running ??= this.playDays().catch((err: unknown) => {
      if (!this.stopped) this.deps.out(`simulator stopped: ${(err as Error).message}`);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const [handle, end] of this.timers) {
      handle.cancel();
      end();
    }
    this.timers.clear();
    await this.running;
  }

  /** Resolves after `ms` of the clock's time, or at once when stopped. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.deps.clock.setTimeout(() => {
        this.timers.delete(handle);
        resolve();
      }, ms);
      this.timers.set(handle, resolve);
    });
  }

  private async playDays(): Promise<void> {
    for (let day = 1; !this.stopped; day++) {
      const started = this.deps.clock.now();
      const steps: Step[] = [
        ...planDay({
          day,
          members: MEMBERS,
          sites: [...this.deps.sites.values()].map((s) => s.site),
          revoked: this.revoked,
        }),
      ];
      for (let hour = DAY_START + 60; hour <= DAY_END; hour += 60) steps.push({ at: hour, kind: 'summary' });
      steps.sort((a, b) => a.at - b.at || (a.kind === 'summary' ? -1 : 0) - (b.kind === 'summary' ? -1 : 0));
      this.deps.out(
        `\n=== day ${day}: ${clockTime(DAY_START)} to ${clockTime(DAY_END)}, one simulated hour every ${this.deps.hourMs / 1000} s ===`,
      );
      for (const step of steps) {
        const due = started + ((step.at - DAY_START) * this.deps.hourMs) / 60;
        await this.wait(Math.max(0, due - this.deps.clock.now()));
        if (this.stopped) return;
        await this.play(day, step).catch((err: unknown) =>
          this.say(day, step.at, '', `failed: ${(err as Error).message}`),
        );
      }
    }
  }

  private say(day: number, at: number, site: string, text: string): void {
    this.deps.out(`[day ${day} ${clockTime(at)}] ${site.padEnd(10)} ${text}`);
  }

  private async play(day: number, step: Step): Promise<void> {
    const say = (site: string, text: string) => this.say(day, step.at, site, text);
    switch (step.kind) {
      case 'summary':
        return this.deps.out(`[day ${day} ${clockTime(step.at)}] ${await this.summary()}`);
      case 'arrive':
      case 'leave':
      case 'locker':
        return say(step.site, await this.tap(step.kind, step.member, step.site));
      case 'print': {
        const res = await this.post(this.site(step.site).url, '/simulate/print', {
          badge: step.member.uid,
          pages: step.pages,
        });
        return say(
          step.site,
          `${step.member.name} prints ${step.pages} page(s)${res.ok ? '' : `: refused (${res.code})`}`,
        );
      }
      case 'revoke': {
        const res = await this.deps.hub.fetch(`/directory/badges/${step.member.uid}/revoke`, { method: 'POST' });
        if (res.ok) this.revoked.add(step.member.id);
        return say(
          'hub',
          `badge of ${step.member.name} revoked at the hub (reported lost)${res.ok ? ': every site refuses it within seconds' : `: ${res.status}`}`,
        );
      }
      case 'exit-button':
        return say(step.site, await this.exitButton(step.member, step.site));
      case 'hold-door':
        return say(step.site, await this.holdDoor(step.site));
      case 'cut-link':
      case 'restore-link': {
        const cut = step.kind === 'cut-link';
        this.site(step.site).link.setCut(cut);
        return say(
          step.site,
          cut
            ? 'internet link cut: the door still decides alone, events wait in the outbox'
            : 'internet link back: the site catches up with the hub',
        );
      }
    }
  }

  private site(id: SiteId): RunningSite {
    const site = this.deps.sites.get(id);
    if (!site) throw new Error(`no running site ${id}`);
    return site;
  }

  private async tap(kind: 'arrive' | 'leave' | 'locker', member: DemoMember, id: SiteId): Promise<string> {
    const { site, url } = this.site(id);
    const reader =
      kind === 'locker' ? (site.lockerReader ?? site.entry) : kind === 'leave' ? (site.exit ?? site.entry) : site.entry;
    const res = await this.post(url, '/simulate/tap', { reader, uid: member.uid });
    const body = res.body as {
      granted?: boolean;
      reason?: string;
      presence?: string;
      locker?: { number?: number } | null;
    };
    const what = kind === 'arrive' ? 'arrives' : kind === 'leave' ? 'leaves' : 'taps the lockers';
    if (!res.ok) return `${member.name} ${what}: error ${res.code}`;
    if (!body.granted) return `${member.name} ${what}: refused (${body.reason ?? 'unknown'})`;
    const locker = body.locker?.number !== undefined ? `, locker ${body.locker.number}` : '';
    return `${member.name} ${what}: ${body.presence ?? 'granted'}${locker}`;
  }

  private async exitButton(member: DemoMember, id: SiteId): Promise<string> {
    const { site, url } = this.site(id);
    const res = await this.post(url, `/simulate/exit/${site.door}`, {});
    if (!res.ok) return `${member.name} could not press the exit button: ${res.code}`;
    return `${member.name} leaves by the exit button (the badge is lost): the door cannot tell who left, so unless they were alone inside the site counts them until its automatic check-out`;
  }

  private async holdDoor(id: SiteId): Promise<string> {
    const { site, url, facts } = this.site(id);
    const res = await this.post(url, `/simulate/doors/${site.door}`, { open: true });
    if (!res.ok) return `door ${site.door} could not be held open: ${res.code}`;
    // Real seconds: the site's held-open alarm counts real time, whatever the simulated clock.
    void this.wait((facts.heldOpenSeconds + 10) * 1000)
      .then(async () => {
        if (this.stopped) return;
        await this.post(url, `/simulate/doors/${site.door}`, { open: false });
        this.deps.out(`${''.padEnd(17)} ${id.padEnd(10)} door ${site.door} closed again: the alarm ends by itself`);
      })
      .catch((err: unknown) => this.deps.out(`door ${site.door} could not be closed again: ${(err as Error).message}`));
    return `door ${site.door} held open (a delivery): "door held" alarm after ${facts.heldOpenSeconds} s`;
  }

  private async summary(): Promise<string> {
    const [occ, sites] = await Promise.all([this.hubJson('/occupancy'), this.hubJson('/sites')]);
    const occupancy = occ as {
      sites: Array<{ site: string; present: number; capacity: number | null }>;
      total: { present: number; capacity: number };
    };
    const health = new Map(
      (sites as { sites: Array<{ site: string; online: boolean; backlog: number | null }> }).sites.map((s) => [
        s.site,
        s,
      ]),
    );
    const parts = occupancy.sites.map((s) => {
      const h = health.get(s.site);
      const state = !h?.online ? ' offline' : h.backlog ? ` ${h.backlog} to send` : '';
      return `${s.site} ${s.present}/${s.capacity ?? '?'}${state}`;
    });
    return `hub: ${parts.join(' · ')} · network ${occupancy.total.present}/${occupancy.total.capacity}`;
  }

  private async hubJson(path: string): Promise<unknown> {
    const res = await this.deps.hub.fetch(path);
    if (!res.ok) throw new Error(`hub ${path}: ${res.status}`);
    return res.json();
  }

  private async post(base: string, path: string, body: unknown): Promise<{ ok: boolean; code: string; body: unknown }> {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    const json = (await res.json().catch(() => ({}))) as { code?: string };
    return { ok: res.ok, code: json.code ?? String(res.status), body: json };
  }
}
