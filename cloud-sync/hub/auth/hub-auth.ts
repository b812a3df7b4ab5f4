import type { Logger } from 'pino';
import type { Clock } from '../../../shared/platform/clock.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { describeIssues } from '../../../shared/platform/validation.js';
import type { HubDb } from '../db.js';
import type { Account } from './account.js';
import { AccountStore, Username, type AccountRecord } from './accounts.js';
import { LoginThrottle } from './login-throttle.js';
import {
  hashIsAtCost,
  hashPassword,
  hashPasswordSync,
  NewPassword,
  PASSWORD_COST,
  passwordIsUsername,
  randomPassword,
  verifyPassword,
  type ScryptCost,
} from './password.js';
import { SessionStore } from './sessions.js';

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
  /** Called in the transaction that changes an account's own password: the audit row. */
  onOwnPasswordChange?: (account: Account) => void;
}

export type LoginResult =
  | { ok: true; account: AccountRecord; token: string; expiresAt: number }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'throttled'; retryAfterMs: number };

/** Accounts, sessions and login throttling: what `registerAuth` puts in front of the API. */
export class HubAuth {
  readonly accounts: AccountStore;
  readonly sessions: SessionStore;
  readonly throttle: LoginThrottle;
  /** The first start's generated admin, to print once; undefined on any later start or with `initialAdmin`. */
  readonly oneTimeAdmin: InitialAdmin | undefined;
  private readonly log: Logger;
  private readonly deps: HubAuthDeps;
  private readonly cost: ScryptCost;
  /** Verified against when the username is unknown, so that an unknown name takes as long as a wrong password. */
  private dummyHash: string | undefined;

  constructor(deps: HubAuthDeps) {
    this.deps = deps;
    this.cost = deps.passwordCost ?? PASSWORD_COST;
    const now = () => deps.clock.now();
    this.log = deps.log.child({ module: 'auth' });
    this.accounts = new AccountStore(deps.db, now);
    this.sessions = new SessionStore(deps.db, now, deps.sessionTtlMs);
    this.throttle = new LoginThrottle(deps.clock);
    this.oneTimeAdmin = this.firstAdmin(deps.initialAdmin);
  }

  private firstAdmin(given: InitialAdmin | undefined): InitialAdmin | undefined {
    const all = this.accounts.list();
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
    this.accounts.create({
      username: admin.username,
      role: 'operator',
      sites: [],
      passwordHash: hashPasswordSync(admin.password, this.cost),
      mustChangePassword: given === undefined,
    });
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
   * the terminal was lost). Each start gives it a new one, printed again.
   */
  private renewFirstPassword(admin: AccountRecord): InitialAdmin {
    const password = randomPassword();
    this.accounts.setPasswordHash(admin.id, hashPasswordSync(password, this.cost), true);
    this.sessions.closeAll(admin.id);
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
    const found = this.accounts.credentials(username);
    const matches = await verifyPassword(
      password,
      found?.passwordHash ?? (this.dummyHash ??= hashPasswordSync(randomPassword(), this.cost)),
    );
    if (!found || !matches || found.account.disabled) {
      this.log.warn(
        { username, address, reason: !found ? 'unknown user' : matches ? 'disabled' : 'wrong password' },
        'login failed',
      );
      return { ok: false, reason: 'invalid' };
    }
    this.throttle.succeeded(username, address);
    if (!hashIsAtCost(found.passwordHash, this.cost)) await this.rehash(found.account, password);
    const session = this.sessions.open(found.account.id);
    this.log.info({ username: found.account.username, address }, 'logged in');
    return { ok: true, account: found.account, ...session };
  }

  /** New passwords are hashed here, at the hub's cost. */
  hashPassword(password: string): Promise<string> {
    return hashPassword(password, this.cost);
  }

  /** A hash stored at an older cost, stored again at today's with the password just proven right. */
  private async rehash(account: AccountRecord, password: string): Promise<void> {
    this.accounts.setPasswordHash(account.id, await this.hashPassword(password), account.mustChangePassword);
    this.log.info({ username: account.username }, 'password hash raised to the current cost');
  }

  /** The live, enabled account behind a session token. */
  authenticate(token: string): AccountRecord | undefined {
    const id = this.sessions.accountOf(token);
    const account = id === undefined ? undefined : this.accounts.get(id);
    return account && !account.disabled ? account : undefined;
  }

  /** A user sets their own password, knowing the current one; their other sessions end. */
  async changeOwnPassword(
    account: Account,
    token: string,
    current: string,
    next: string,
    address: string,
  ): Promise<'changed' | 'wrong_password' | 'throttled'> {
    if (this.throttle.retryAfterMs(account.username, address) > 0) return 'throttled';
    this.throttle.failed(account.username, address);
    if (!(await verifyPassword(current, this.accounts.passwordHash(account.id) ?? ''))) return 'wrong_password';
    this.throttle.succeeded(account.username, address);
    const hash = await this.hashPassword(next);
    this.deps.db.transaction(() => {
      this.accounts.setPasswordHash(account.id, hash, false);
      this.sessions.closeAll(account.id, token);
      this.deps.onOwnPasswordChange?.(account);
    })();
    this.log.info({ username: account.username }, 'password changed');
    return 'changed';
  }
}

function describe(schema: typeof Username | typeof NewPassword, value: string, path: string) {
  const r = schema.safeParse(value);
  return r.success
    ? []
    : describeIssues(r.error, value, undefined, { secret: schema === NewPassword }).map((d) => ({ ...d, path }));
}
