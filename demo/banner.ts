import type { InitialAdmin } from '../cloud-sync/hub/auth/index.js';
import type { PortChoice } from './hub-setup.js';
import type { RunningSite } from './sites.js';

export interface BannerFacts {
  oneTimeAdmin: InitialAdmin | undefined;
  /** A member's one-time link to their own space (bookings, visits, a lost badge). */
  invitation?: { member: string; link: string };
  apiUrl: string;
  mqttUrl: string;
  ports: { api: PortChoice; broker: PortChoice };
  sites: ReadonlyArray<Pick<RunningSite, 'site' | 'facts' | 'url' | 'pid'>>;
  dir: string;
  hourMs: number;
}

/** Only when the default port was wanted and taken: a port asked for is no surprise. */
const portNote = (choice: PortChoice) =>
  choice.defaultTaken === undefined ? '' : `  (${choice.defaultTaken} was taken: any free port)`;

/** What the demo prints once it runs: where to look, how to log in, which ports it used. */
export function demoBanner(b: BannerFacts): string {
  const admin = b.oneTimeAdmin;
  return [
    '',
    'Tessera network demo: one hub, three centres, simulated members',
    '',
    `Dashboard:    ${b.apiUrl}/${portNote(b.ports.api)}`,
    admin
      ? `Log in as:    ${admin.username} / ${admin.password}   (one-time password: the dashboard asks for a new one)`
      : 'Log in as:    admin, with the password set on an earlier run of this --dir',
    ...(b.invitation
      ? [`A member:     ${b.invitation.member}'s own space (book a room, declare a lost badge): ${b.invitation.link}`]
      : []),
    `MQTT broker:  ${b.mqttUrl} (embedded; provisioned sites only, each with its own identity)${portNote(b.ports.broker)}`,
    ...b.sites.map((s) => `Site:         ${s.site.id.padEnd(10)} ${s.facts.name}, local API ${s.url} (pid ${s.pid})`),
    `Logs, stores: ${b.dir}`,
    '',
    `One simulated hour every ${b.hourMs / 1000} s; the sites stamp events with the real time. Ctrl-C stops everything.`,
  ].join('\n');
}
