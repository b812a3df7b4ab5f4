import type { Account } from '../auth/account.js';
import type { AuditLog } from '../admin/audit.js';
import type { CommandSender } from '../commands.js';
import type { HubDb } from '../db.js';
import type { HubLive } from '../occupancy/live.js';
import { devicesFrom } from '../occupancy/devices.js';
import type { HubStore } from '../store.js';
import { HOME_ASSISTANT_OBSERVER } from '../../../shared/protocol/topics.js';
import type { HomeAssistantPress, HomeAssistantSite } from './discovery.js';

export { HomeAssistantBridge, homeAssistantSubscriptions } from './bridge.js';

/** The recent events a site's doors are read from, as GET /site-health/:site reads them. */
const DEVICE_EVENTS = 500;

/** Who the audit log names for a command pressed in Home Assistant. */
const HOME_ASSISTANT_ACTOR: Account = {
  id: HOME_ASSISTANT_OBSERVER,
  username: HOME_ASSISTANT_OBSERVER,
  role: 'operator',
  sites: [],
};

/**
 * The sites as Home Assistant shows them, read from the hub's live side: those of the network
 * occupancy (declared, or with someone in), their health and the alarms not cleared yet, their
 * doors from their last status and recent events (read again only when a site's events moved on).
 */
export function homeAssistantSites(deps: {
  live: HubLive;
  store: HubStore;
  db: HubDb;
}): () => Promise<HomeAssistantSite[]> {
  const doorsOf = new Map<string, { maxSeen: number; doors: HomeAssistantSite['doors'] }>();
  return async () => {
    const network = await deps.live.projection.network();
    const health = new Map((await deps.live.healthAll()).map((h) => [h.site, h.online]));
    const views = new Map((await deps.store.sites()).map((v) => [v.site, v]));
    const active = new Map(
      (
        await deps.db.all<{ site: string; n: number }>(
          'SELECT site, COUNT(*) AS n FROM alarms WHERE cleared_at IS NULL GROUP BY site',
        )
      ).map((r) => [r.site, Number(r.n)]),
    );
    const out: HomeAssistantSite[] = [];
    for (const s of network.sites) {
      const view = views.get(s.site);
      const maxSeen = view?.maxSeen ?? 0;
      let known = doorsOf.get(s.site);
      if (known?.maxSeen !== maxSeen) {
        const recent =
          maxSeen > 0 ? await deps.store.events(s.site, Math.max(0, maxSeen - DEVICE_EVENTS), DEVICE_EVENTS) : [];
        const doors = devicesFrom(recent.map((e) => e.event)).doors.map((d) => ({
          door: d.door,
          open: d.alarm !== null,
          mode: d.mode,
        }));
        doorsOf.set(s.site, (known = { maxSeen, doors }));
      }
      const seen = new Map(known.doors.map((d) => [d.door, d]));
      const declared = view?.status?.doors ?? [];
      const doors = [...new Set([...declared, ...seen.keys()])]
        .sort()
        .map((door) => seen.get(door) ?? { door, open: false, mode: null });
      out.push({
        site: s.site,
        name: s.name,
        present: s.present,
        capacity: s.capacity ?? null,
        online: health.get(s.site) ?? null,
        activeAlarms: active.get(s.site) ?? 0,
        doors,
      });
    }
    return out;
  };
}

/**
 * Carries out a press of a Home Assistant button or lock as the dashboard's `POST
 * /sites/:site/commands` does: an unlock only of a door the site named in its last status, the
 * signed command in the audit log (actor `home-assistant`) before it is published.
 */
export function homeAssistantPress(deps: {
  db: HubDb;
  store: HubStore;
  audit: AuditLog;
  commands: CommandSender;
}): (site: string, press: Exclude<HomeAssistantPress, { kind: 'lock' }>) => Promise<void> {
  return async (site, press) => {
    const view = await deps.store.site(site);
    if (!view) throw new Error(`site "${site}" has never been heard from`);
    if (press.kind === 'unlock' && !(view.status?.doors ?? []).includes(press.door))
      throw new Error(`site "${site}" has not named a door ${JSON.stringify(press.door)} in its status`);
    const signed = deps.commands.prepare(site, press);
    await deps.db.transaction((tx) =>
      deps.audit.record(tx, HOME_ASSISTANT_ACTOR, 'create', 'command', site, null, signed.body),
    );
    const result = await deps.commands.send(signed);
    if (!result.published) throw new Error(`command not taken by the broker: ${result.reason}`);
  };
}
