import type { Db } from '../../shared/platform/sqlite.js';

/**
 * What the site keeps of the hub's commands: the nonces already carried out, until they expire
 * (a replay after a restart is still a replay), and the lockdown in force.
 */
export class CommandRepo {
  private readonly seenNonce;
  private readonly addNonce;
  private readonly prune;
  private readonly readLockdown;
  private readonly setLockdown;
  private readonly clearLockdown;

  constructor(db: Db) {
    this.seenNonce = db.prepare<[string], { expires_at: number }>(
      'SELECT expires_at FROM command_nonces WHERE nonce = ?',
    );
    this.addNonce = db.prepare('INSERT INTO command_nonces (nonce, expires_at) VALUES (?, ?)');
    this.prune = db.prepare<[number]>('DELETE FROM command_nonces WHERE expires_at < ?');
    this.readLockdown = db.prepare<[], { since: number; command: string }>(
      'SELECT since, command FROM lockdown WHERE id = 1',
    );
    // A second lockdown keeps the first one's time: the site has been locked down since then.
    this.setLockdown = db.prepare('INSERT OR IGNORE INTO lockdown (id, since, command) VALUES (1, ?, ?)');
    this.clearLockdown = db.prepare('DELETE FROM lockdown WHERE id = 1');
  }

  seen(nonce: string): boolean {
    return this.seenNonce.get(nonce) !== undefined;
  }

  /** Records a nonce as used until `expiresAt`, and forgets those expired before `nowMs`. */
  use(nonce: string, expiresAt: number, nowMs: number): void {
    this.prune.run(nowMs);
    this.addNonce.run(nonce, expiresAt);
  }

  /** The lockdown in force: since when, and the nonce of the command that ordered it. */
  lockdown(): { since: number; command: string } | undefined {
    return this.readLockdown.get();
  }

  startLockdown(since: number, command: string): void {
    this.setLockdown.run(since, command);
  }

  liftLockdown(): void {
    this.clearLockdown.run();
  }
}
