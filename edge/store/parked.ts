import type { Db } from '../../shared/platform/sqlite.js';

export interface ParkedRange {
  from: number;
  to: number;
  reason: string;
  at: number;
}

/** Events the broker kept refusing: kept here with the reason, skipped by the outbound stream. */
export class ParkedEvents {
  private readonly insert;
  private readonly all;

  constructor(db: Db) {
    this.insert = db.prepare('INSERT OR REPLACE INTO parked (from_seq, to_seq, reason, at) VALUES (?, ?, ?, ?)');
    this.all = db.prepare<[], { from_seq: number; to_seq: number; reason: string; at: number }>(
      'SELECT * FROM parked ORDER BY from_seq',
    );
  }

  park(from: number, to: number, reason: string, atMs: number): void {
    this.insert.run(from, to, reason.slice(0, 500), atMs);
  }

  list(): ParkedRange[] {
    return this.all.all().map((r) => ({ from: r.from_seq, to: r.to_seq, reason: r.reason, at: r.at }));
  }
}
