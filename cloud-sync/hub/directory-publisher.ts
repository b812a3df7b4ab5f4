import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../shared/platform/clock.js';
import { signBody } from '../../shared/protocol/signing.js';
import {
  SYNC_SCHEMA_VERSION,
  type DirectoryChange,
  type DirectoryUpdate,
  type SiteStatus,
} from '../../shared/protocol/sync.js';
import { DEFAULT_TOPIC_PREFIX, topics } from '../../shared/protocol/topics.js';
import { importUnderWay, type HubDirectory } from './directory.js';
import type { HubDb } from './db.js';
import { Slices } from './slices.js';

/** Changes per message: a longer delta, or a site starting from nothing, gets a chunked snapshot. */
const MAX_CHANGES = 1000;
/** How long a site may take to report the revision it was sent before a status showing it behind asks again. */
const DEFAULT_CONFIRM_WITHIN_SECONDS = 60;

export interface DirectoryPublisherDeps {
  directory: HubDirectory;
  /** The hub database: while a members import is written there, sites are sent nothing. */
  db: HubDb;
  publish: (topic: string, payload: string) => Promise<void>;
  key: KeyObject;
  clock: Clock;
  log: Logger;
  topicPrefix?: string;
  /** A site whose directory is older than this is sent an empty delta that confirms it. */
  confirmAfterSeconds?: number;
  /** See DEFAULT_CONFIRM_WITHIN_SECONDS. */
  confirmWithinSeconds?: number;
}

/** What the hub knows of one site's directory, and what it is sending it. */
interface SiteLink {
  /** The revision the site holds, or will once what was sent arrives. */
  assumed: number;
  /** The send under way: at most one per site. */
  sending?: Promise<void>;
  /** Asked again while sending: one more send follows, worked out then (older requests are dropped). */
  again: boolean;
  /** The last send done, until the site reports its revision: statuses still behind it meanwhile are in transit. */
  awaiting?: { to: number; at: number };
}

/**
 * Sends each site what it lacks of the directory, signed with the hub key: on each change, to
 * every site known, and on each site status that shows it behind or aging. One send at a time
 * per site: a request during a send becomes one send after it, computed then against the newest
 * revision, so a site that reconnects a hundred times during a 200-chunk snapshot gets that
 * snapshot once (then a delta), not a hundred. A snapshot is read, signed and published a slice
 * at a time, each chunk after the broker took the one before, so the hub keeps answering and
 * holds one chunk per site in memory. The hub assumes a site applied what it was sent; if its
 * statuses still say otherwise once it has had time, or say it refused what was sent (it missed
 * an update before), it is sent again.
 */
export class DirectoryPublisher {
  private readonly links = new Map<string, SiteLink>();
  private readonly t;
  private readonly stopping = new AbortController();
  private lastIssued = 0;

  constructor(private readonly deps: DirectoryPublisherDeps) {
    this.t = topics(deps.topicPrefix ?? DEFAULT_TOPIC_PREFIX);
  }

  /** Sites heard from before, with the revision they last reported. */
  seed(sites: ReadonlyArray<{ site: string; revision: number }>): void {
    for (const s of sites) this.link(s.site).assumed = s.revision;
  }

  onStatus(status: SiteStatus): void {
    const link = this.link(status.site);
    const have = status.directory.revision;
    if (link.sending) return; // the send under way answers it; later statuses tell whether it arrived
    const waitMs = (this.deps.confirmWithinSeconds ?? DEFAULT_CONFIRM_WITHIN_SECONDS) * 1000;
    // Behind what was just sent: in transit, unless the site says it refused that send (it missed one before).
    const refused = link.awaiting !== undefined && (status.directory.missed ?? 0) >= link.awaiting.to;
    if (link.awaiting && have < link.awaiting.to && !refused && this.deps.clock.now() - link.awaiting.at < waitMs)
      return;
    link.awaiting = undefined;
    link.assumed = have;
    if (!status.online) return;
    if ((status.directory.ageSeconds ?? Infinity) > (this.deps.confirmAfterSeconds ?? 3600)) this.request(status.site);
    else void this.requestIfBehind(status.site, have);
  }

  /** A send to `site` if the directory is past revision `have`. */
  private async requestIfBehind(site: string, have: number): Promise<void> {
    try {
      if (have < (await this.deps.directory.revision(this.deps.db))) this.request(site);
    } catch (err) {
      this.deps.log.warn(
        { site, err: (err as Error).message },
        'directory revision not read: the next status asks again',
      );
    }
  }

  /** After a directory change: every known site gets its delta. */
  onChange(): void {
    for (const site of this.links.keys()) this.request(site);
  }

  /** Sends under way stop at their next slice; nothing new starts. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all([...this.links.values()].map((l) => l.sending));
  }

  private link(site: string): SiteLink {
    let link = this.links.get(site);
    if (!link) this.links.set(site, (link = { assumed: 0, again: false }));
    return link;
  }

  private request(site: string): void {
    const link = this.link(site);
    if (this.stopping.signal.aborted) return;
    if (link.sending) {
      link.again = true;
      return;
    }
    link.sending = this.sendWhileAsked(site, link).finally(() => (link.sending = undefined));
  }

  private async sendWhileAsked(site: string, link: SiteLink): Promise<void> {
    do {
      link.again = false;
      const from = link.assumed;
      try {
        if (await importUnderWay(this.deps.db)) return; // the import's commit calls onChange
        const to = await this.send(site, from);
        link.assumed = to;
        link.awaiting = { to, at: this.deps.clock.now() };
      } catch (err) {
        link.assumed = from;
        link.awaiting = undefined;
        this.deps.log.warn(
          { site, err: (err as Error).message },
          'directory update not published: the next status asks again',
        );
        return;
      }
    } while (link.again && !this.stopping.signal.aborted);
  }

  /** Publishes, one message after the other, what takes the site from `from` to now; returns that revision. */
  private async send(site: string, from: number): Promise<number> {
    const { directory, db } = this.deps;
    if (from > 0) {
      // The revision and the changes up to it in one transaction. On PostgreSQL a change committed meanwhile
      // may come along, under the revision before it: sent again with the next delta, it does no harm.
      const delta = await db.transaction(async (tx) => {
        const to = await directory.revision(tx);
        const few = (await directory.changedSince(tx, from, MAX_CHANGES)) <= MAX_CHANGES;
        return { to, changes: few ? await directory.changesFor(tx, site, from) : undefined };
      });
      if (delta.changes && delta.changes.length <= MAX_CHANGES) {
        await this.publish(site, {
          v: SYNC_SCHEMA_VERSION,
          site,
          kind: 'delta',
          from,
          to: delta.to,
          issuedAt: this.issuedAt(),
          changes: delta.changes,
        });
        return delta.to;
      }
    }
    // Read before the snapshot: what changes while it is read reaches the site in the next delta.
    const to = await directory.revision(db);
    const slices = new Slices(this.stopping.signal);
    const all = await directory.snapshotFor(site, slices);
    const chunks = Math.max(1, Math.ceil(all.length / MAX_CHANGES));
    const issuedAt = this.issuedAt();
    for (let chunk = 0; chunk < chunks; chunk++) {
      const part: DirectoryChange[] = all.slice(chunk * MAX_CHANGES, (chunk + 1) * MAX_CHANGES);
      await this.publish(site, {
        v: SYNC_SCHEMA_VERSION,
        site,
        kind: 'snapshot',
        to,
        issuedAt,
        chunk,
        chunks,
        changes: part,
      });
      slices.check();
    }
    return to;
  }

  private async publish(site: string, body: DirectoryUpdate): Promise<void> {
    await this.deps.publish(this.t.directory(site), JSON.stringify({ body, signature: signBody(body, this.deps.key) }));
    this.deps.log.debug({ site, kind: body.kind, to: body.to }, 'directory update published');
  }

  /** Strictly increasing: a site refuses an update issued no later than the one in force. */
  private issuedAt(): string {
    this.lastIssued = Math.max(this.deps.clock.now(), this.lastIssued + 1);
    return new Date(this.lastIssued).toISOString();
  }
}
