import type { Logger } from 'pino';
import type { Clock } from '../../../shared/platform/clock.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { describeIssues } from '../../../shared/platform/validation.js';
import type { HubDb, Tx } from '../db.js';
import type { Account } from './account.js';
import { AccountStore, Username, type AccountRecord } from './accounts.js';
import { LoginThrottle } from './login-throttle.js';
import {
  hashIsAtCost,
  hashPassword,
  NewPassword,
  PASSWORD_COST,
  passwordIsUsername,
  randomPassword,
  verifyPassword,
  type ScryptCost,
} from './password.js';
import { MonitorTokenStore } from './monitor-tokens.js';
import { SessionStore } from './sessions.js';
import { checkUntrusted } from '../../../shared/platform/check-untrusted.js';

export interface InitialAdmin {
  username: string;
  password: string;
}

export interface HubAuthDeps {
  db: HubDb;
  clock: Clock;
  log: Logger;
  /** The operator made when the hub has no account yet; without it, `admin` with a one-time password. */
  initialAdmin?: InitialAdmin;
  sessionTtlMs?: number;
  /** scrypt's cost for new hashes (default PASSWORD_COST); only tests ask for less, to run fast. */
  passwordCost?: ScryptCost;
  /** Called in the transaction that changes an account's own password (its writes through `tx`): the audit row. */
  onOwnPasswordChange?: (tx: Tx, account: Account) => Promise<void>;
}

export type LoginResult =
  | { ok: true; account: AccountRecord; token: string; expiresAt: number }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** Accounts, sessions and login throttling: what `registerAuth` puts in front of the API. */
export class HubAuth {
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  /** Metrics scrapers' long-lived tokens (role monitor). */
  readonly monitorTokens: MonitorTokenStore;
  readonly throttle: LoginThrottle;
  /** The database the accounts and sessions are in. */
  readonly db: HubDb;
  private readonly log: Logger;
  private readonly deps: HubAuthDeps;
  private readonly cost: ScryptCost;
  private firstStartAdmin: InitialAdmin | undefined;
  /** Verified against when the username is unknown, so that an unknown name takes as long as a wrong password. */
  private dummyHash: Promise<string> | undefined;

  /** Opens the hub's authentication, making the first operator account when there is none. */
  static async open(deps: HubAuthDeps): Promise<HubAuth> {
    const auth = new HubAuth(deps);
    auth.firstStartAdmin = await auth.firstAdmin(deps.initialAdmin);
    return auth;
  }

  private constructor(deps: HubAuthDeps) {
    this.deps = deps;
    this.db = deps.db;
    this.cost = deps.passwordCost ?? PASSWORD_COST;
    const now = () => deps.clock.now();
    this.log = deps.log.child({ module: 'auth' });
    this.accounts = new AccountStore(now);
    this.sessions = new SessionStore(now, deps.sessionTtlMs);
    this.monitorTokens = new MonitorTokenStore(now);
    this.throttle = new LoginThrottle(deps.clock);
  }

  /** The first start's generated admin, to print once; undefined on any later start or with `initialAdmin`. */
  get oneTimeAdmin(): InitialAdmin | undefined {
    return this.firstStartAdmin;
  }

  private async firstAdmin(given: InitialAdmin | undefined): Promise<InitialAdmin | undefined> {
    const all = await this.accounts.list(this.db);
    if (all.length === 1 && all[0]?.mustChangePassword && given === undefined) return this.renewFirstPassword(all[0]);
    if (all.length > 0) return undefined;
    const admin = given ?? { username: 'admin', password: randomPassword() };
    const problems = [
      ...describe(Username, admin.username, 'initialAdmin.username'),
      ...describe(NewPassword, admin.password, 'initialAdmin.password'),
      ...passwordIsUsername(admin.password, admin.username, 'initialAdmin.password'),
    ];
    if (problems.length > 0)
      throw new TesseraError(
        'config.invalid',
        `invalid initial admin: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
        problems,
      );
    const passwordHash = await this.hashPassword(admin.password);
    try {
      await this.accounts.create(this.db, {
        username: admin.username,
        role: 'operator',
        sites: [],
        passwordHash,
        mustChangePassword: given === undefined,
      });
    } catch (err) {
      if (!(err instanceof TesseraError && err.code === 'conflict')) throw err;
      // Another hub on the same database made it while this one was hashing: that one tells.
      this.log.info({ username: admin.username }, 'the first operator account was made by another hub instance');
      return undefined;
    }
    this.log.warn(
      { username: admin.username, oneTime: given === undefined },
      given
        ? 'made the first operator account'
        : 'made the first operator account with a one-time password (printed once on stdout)',
    );
    return given ? undefined : admin;
  }

  /**
   * The only account still has the one-time password of the first start: nobody has taken the
   * hub over yet, and that password may never have been seen (the first start failed to listen,
   * the terminal was lost). Each start gives it a new one, printed again; not if the admin set
   * their own meanwhile (on another hub instance of the same database).
   */
  private async renewFirstPassword(admin: AccountRecord): Promise<InitialAdmin | undefined> {
    const stored = await this.accounts.passwordHash(this.db, admin.id);
    const password = randomPassword();
    const hash = await this.hashPassword(password);
    const renewed =
      stored !== undefined &&
      (await this.db.transaction(async (tx) => {
        if (!(await this.accounts.replacePasswordHash(tx, admin.id, stored, hash, true))) return false;
        await this.sessions.closeAll(tx, admin.id);
        return true;
      }));
    if (!renewed) return undefined;
    this.log.warn(
      { username: admin.username },
      'the first operator has not set a password yet: a new one-time password (printed once on stdout)',
    );
    return { username: admin.username, password };
  }

  async login(username: string, password: string, address: string): Promise<LoginResult> {
    const retryAfterMs = this.throttle.retryAfterMs(username, address);
    if (retryAfterMs > 0) {
      this.log.warn({ username, address }, 'login refused: too many failures');
      return { ok: false, reason: 'throttled', retryAfterMs };
    }
    // Counted before the (slow) check, so that parallel guesses cannot all slip under the limit.
    this.throttle.failed(username, address);
    const found = await this.uncountedIfUnread(username, address, () => this.accounts.credentials(this.db, username));
    const matches = await verifyPassword(password, found?.passwordHash ?? (await this.dummy()));
    if (!found || !matches || found.account.disabled) {
      this.log.warn(
        { username, address, reason: !found ? 'unknown user' : matches ? 'disabled' : 'wrong password' },
        'login failed',
      );
      return { ok: false, reason: 'invalid' };
    }
    this.throttle.succeeded(username, address);
    const hash = hashIsAtCost(found.passwordHash, this.cost)
      ? found.passwordHash
      : await this.rehash(found.account, found.passwordHash, password);
    // Only while the password checked is still the account's and it is enabled.
    const session = await this.sessions.open(this.db, found.account.id, hash);
    if (!session) {
      this.log.warn({ username, address }, 'login failed: the password changed or the account was disabled meanwhile');
      return { ok: false, reason: 'invalid' };
    }
    this.log.info({ username: found.account.username, address }, 'logged in');
    return { ok: true, account: found.account, ...session };
  }

  /** New passwords are hashed here, at the hub's cost. */
  hashPassword(password: string): Promise<string> {
    return hashPassword(password, this.cost);
  }

  /**
   * A hash stored at an older cost, stored again at today's with the password just proven right,
   * unless it was changed meanwhile. The hash the account has now.
   */
  private async rehash(account: AccountRecord, stored: string, password: string): Promise<string> {
    const hash = await this.hashPassword(password);
    if (!(await this.accounts.replacePasswordHash(this.db, account.id, stored, hash))) return stored;
    this.log.info({ username: account.username }, 'password hash raised to the current cost');
    return hash;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomPassword(), this.cost);
    return this.dummyHash;
  }

  /**
   * `read`, for an attempt whose failure was counted beforehand: a store that cannot answer
   * checked no password, so that failure is taken back (an outage does not lock anyone out).
   */
  private async uncountedIfUnread<T>(username: string, address: string, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      this.throttle.withdraw(username, address);
      throw err;
    }
  }

  /** The live, enabled account behind a session token (await it: a pending answer is no account). */
  sessionAccount(token: string): Promise<AccountRecord | undefined> {
    return this.accounts.ofSession(this.db, token, this.deps.clock.now());
  }

  /** The monitor a metrics scraper's token stands for, or undefined if it is unknown or revoked. */
  monitorAccount(token: string): Promise<Account | undefined> {
    return this.monitorTokens.account(this.db, token);
  }

  /** The account `id` as it is now. */
  account(id: string): Promise<AccountRecord | undefined> {
    return this.accounts.get(this.db, id);
  }

  /** Ends the session of `token`, if any. */
  logout(token: string): Promise<void> {
    return this.sessions.close(this.db, token);
  }

  /**
   * A user sets their own password, knowing the current one; their other sessions end. Written
   * only if, once the account's row is locked, the password is still the one checked and the
   * session still live: two changes at once cannot both use the same current password.
   */
  async changeOwnPassword(
    account: Account,
    token: string,
    current: string,
    next: string,
    address: string,
  ): Promise<'changed' | 'wrong_password' | 'throttled'> {
    if (this.throttle.retryAfterMs(account.username, address) > 0) return 'throttled';
    this.throttle.failed(account.username, address);
    const stored =
      (await this.uncountedIfUnread(account.username, address, () =>
        this.accounts.passwordHash(this.db, account.id),
      )) ?? '';
    if (!(await verifyPassword(current, stored))) return 'wrong_password';
    this.throttle.succeeded(account.username, address);
    const hash = await this.hashPassword(next);
    const outcome = await this.db.transaction(async (tx) => {
      const now = await this.accounts.lock(tx, account.id);
      if (!now || now.account.disabled || !(await this.sessions.live(tx, account.id, token))) return 'ended';
      if (now.passwordHash !== stored) return 'wrong_password';
      await this.accounts.setPasswordHash(tx, account.id, hash, false);
      await this.sessions.closeAll(tx, account.id, token);
      await this.deps.onOwnPasswordChange?.(tx, account);
      return 'changed';
    });
    if (outcome === 'ended') throw new TesseraError('auth.invalid', 'this session has ended: log in again');
    if (outcome === 'wrong_password') {
      this.log.warn({ username: account.username }, 'password not changed: it was changed meanwhile');
      return outcome;
    }
    this.log.info({ username: account.username }, 'password changed');
    return 'changed';
  }
}

function describe(schema: typeof Username | typeof NewPassword, value: string, path: string) {
  const r = checkUntrusted(schema, value);
  return r.success
    ? []
    : describeIssues(r.error, value, undefined, { secret: schema === NewPassword }).map((d) => ({ ...d, path }));
}
