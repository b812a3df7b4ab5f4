import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/clock.js';
import { signBody } from '../../shared/signing.js';
import { SYNC_SCHEMA_VERSION, type DirectoryChange, type DirectoryUpdate, type SiteStatus } from '../../shared/sync.js';
import { DEFAULT_TOPIC_PREFIX, topics } from '../../shared/topics.js';
import type { HubDirectory } from './directory.js';

/** Changes per message: a longer delta, or a site starting from nothing, gets a chunked snapshot. */
const MAX_CHANGES = 1000;

export interface DirectoryPublisherDeps {
  directory: HubDirectory;
  publish: (topic: string, payload: string) => Promise<void>;
  key: KeyObject;
  clock: Clock;
  log: Logger;
  topicPrefix?: string;
  /** A site whose directory is older than this is sent an empty delta that confirms it. */
  confirmAfterSeconds?: number;
}

/**
 * Sends each site what it lacks of the directory, signed with the hub key (invariant 5): on each
 * change, to every site known, and on each site status that shows it behind or aging. The hub
 * assumes a site applied what it was sent; its next status corrects that if not.
 */
export class DirectoryPublisher {
  private readonly assumed = new Map<string, number>();
  private readonly t;
  private lastIssued = 0;

  constructor(private readonly deps: DirectoryPublisherDeps) {
    this.t = topics(deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
  }

  /** Sites heard from before, with the revision they last reported. */
  seed(sites: ReadonlyArray<{ site: string; revision: number }>): void {
    for (const s of sites) this.assumed.set(s.site, s.revision);
  }

  onStatus(status: SiteStatus): void {
    const have = status.directory.revision;
    this.assumed.set(status.site, have);
    if (!status.online) return;
    if (have < this.deps.directory.revision()) this.send(status.site, have);
    else if ((status.directory.ageSeconds ?? Infinity) > (this.deps.confirmAfterSeconds ?? 3600)) this.send(status.site, have);
  }

  /** After a directory change: every known site gets its delta at once. */
  onChange(): void {
    for (const [site, have] of this.assumed) this.send(site, have);
  }

  private send(site: string, from: number): void {
    const { directory } = this.deps;
    const to = directory.revision();
    const changes = from === 0 ? undefined : directory.changesFor(site, from);
    const bodies = changes && changes.length <= MAX_CHANGES ? [this.delta(site, from, to, changes)] : this.snapshot(site, to);
    this.assumed.set(site, to);
    for (const body of bodies) {
      this.deps.publish(this.t.directory(site), JSON.stringify({ body, signature: signBody(body, this.deps.key) })).then(
        () => this.deps.log.debug({ site, kind: body.kind, to }, 'directory update published'),
        (err: unknown) => {
          this.deps.log.warn({ site, err: (err as Error).message }, 'directory update not published: the next status asks again');
          this.assumed.set(site, from);
        },
      );
    }
  }

  private delta(site: string, from: number, to: number, changes: DirectoryChange[]): DirectoryUpdate {
    return { v: SYNC_SCHEMA_VERSION, site, kind: 'delta', from, to, issuedAt: this.issuedAt(), changes };
  }

  private snapshot(site: string, to: number): DirectoryUpdate[] {
    const all = this.deps.directory.snapshotFor(site);
    const chunks = Math.max(1, Math.ceil(all.length / MAX_CHANGES));
    const issuedAt = this.issuedAt();
    return Array.from({ length: chunks }, (_, chunk) => ({
      v: SYNC_SCHEMA_VERSION,
      site,
      kind: 'snapshot' as const,
      to,
      issuedAt,
      chunk,
      chunks,
      changes: all.slice(chunk * MAX_CHANGES, (chunk + 1) * MAX_CHANGES),
    }));
  }

  /** Strictly increasing: a site refuses an update issued no later than the one in force. */
  private issuedAt(): string {
    this.lastIssued = Math.max(this.deps.clock.now(), this.lastIssued + 1);
    return new Date(this.lastIssued).toISOString();
  }
}
