import type { Db } from '../../shared/platform/sqlite.js';

export interface LockerRow {
  bank: string;
  number: number;
  member: string | null;
  since: number | null;
}

/** Who holds which locker. Rows exist for every configured locker; `member` null = free. */
export class LockerRepo {
  private readonly ensureRow;
  private readonly holder;
  private readonly held;
  private readonly free;
  private readonly set;
  private readonly bankRows;
  private readonly heldAll;

  constructor(db: Db) {
    this.ensureRow = db.prepare(
      'INSERT OR IGNORE INTO lockers (bank, number, member, since) VALUES (?, ?, NULL, NULL)',
    );
    this.holder = db.prepare<[string, number], LockerRow>('SELECT * FROM lockers WHERE bank = ? AND number = ?');
    this.held = db.prepare<[string, string], LockerRow>(
      'SELECT * FROM lockers WHERE bank = ? AND member = ? ORDER BY number LIMIT 1',
    );
    this.free = db.prepare<[string], LockerRow>(
      'SELECT * FROM lockers WHERE bank = ? AND member IS NULL ORDER BY number LIMIT 1',
    );
    this.set = db.prepare('UPDATE lockers SET member = ?, since = ? WHERE bank = ? AND number = ?');
    this.bankRows = db.prepare<[string], LockerRow>('SELECT * FROM lockers WHERE bank = ? ORDER BY number');
    this.heldAll = db.prepare<[string], LockerRow>('SELECT * FROM lockers WHERE member = ? ORDER BY bank, number');
  }

  ensure(bank: string, count: number): void {
    for (let n = 1; n <= count; n++) this.ensureRow.run(bank, n);
  }

  get(bank: string, number: number): LockerRow | undefined {
    return this.holder.get(bank, number);
  }

  heldBy(bank: string, member: string): LockerRow | undefined {
    return this.held.get(bank, member);
  }

  allHeldBy(member: string): LockerRow[] {
    return this.heldAll.all(member);
  }

  firstFree(bank: string): LockerRow | undefined {
    return this.free.get(bank);
  }

  assign(bank: string, number: number, member: string, atMs: number): void {
    this.set.run(member, atMs, bank, number);
  }

  release(bank: string, number: number): void {
    this.set.run(null, null, bank, number);
  }

  bank(bank: string): LockerRow[] {
    return this.bankRows.all(bank);
  }
}
