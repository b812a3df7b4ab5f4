import type { Logger } from 'pino';
import type { SyncStore } from './site-store.js';

export interface LostLogDeps {
  store: SyncStore;
  log: Logger;
  /** The log was renumbered: send again from the hub's ack + 1, skipping what is now parked. */
  resume(): void;
  /** The state changed: publish the site's status now. */
  tell(): void;
}

/**
 * Watches for a site log that lost events the hub holds: the hub's ack is beyond the last seq
 * this database ever appended (it was deleted or replaced, and numbers again from 1, numbers the
 * hub already holds). Sending would only have them refused at the hub as conflicts, never stored,
 * so the worker stops sending and says so (log, status, /health) until the operator continues the
 * numbering after the hub's seq (`tessera edge renumber`, maybe from another process).
 */
export class LostLogWatch {
  private hubSeq: number | undefined;

  constructor(private readonly deps: LostLogDeps) {}

  /** The hub acknowledged `seq`, beyond this log. */
  hubAhead(seq: number): void {
    this.deps.store.events.recordHubAhead(seq);
    this.behind();
  }

  /** Whether nothing may be sent; notices a renumbering done since the last call. */
  behind(): boolean {
    const now = this.deps.store.events.behindHub();
    if (now !== this.hubSeq) {
      this.hubSeq = now;
      if (now === undefined) this.resumed();
      else this.stopped(now);
    }
    return now !== undefined;
  }

  private stopped(hubSeq: number): void {
    const lastSeq = this.deps.store.events.lastSeq();
    this.deps.log.error(
      { code: 'sync.log_behind_hub', hubSeq, lastSeq },
      `the hub holds this site's events up to ${hubSeq}, this database only up to ${lastSeq} (lost or replaced?): nothing is sent until \`tessera edge renumber --after ${hubSeq} --config FILE\` is run at the site (docs/edge.md)`,
    );
    this.deps.tell();
  }

  private resumed(): void {
    this.deps.resume();
    const { store } = this.deps;
    this.deps.log.warn(
      { from: store.events.ackedSeq() + 1, lastSeq: store.events.lastSeq() },
      "the event log continues after the hub's last seq: sending again",
    );
    this.deps.tell();
  }
}
