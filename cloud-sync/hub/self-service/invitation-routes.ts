import type { FastifyInstance, FastifyRequest } from 'fastify';
import { serve } from '../../../shared/platform/api-contract.js';
import { TesseraError } from '../../../shared/platform/errors.js';
import { Username } from '../../../shared/protocol/api/hub-auth.js';
import { SelfServiceRoutes as Routes, type NewInvitation } from '../../../shared/protocol/api/hub-self-service.js';
import { forbidden } from '../admin/deps.js';
import { DirectoryScope } from '../admin/scope.js';
import type { Account } from '../auth/account.js';
import { LoginThrottle } from '../auth/login-throttle.js';
import { sessionCookie } from '../auth/register.js';
import type { Sql } from '../db.js';
import type { SelfServiceDeps } from './deps.js';
import { invitationMessage } from './invitation-mail.js';
import { InvitationStore, type Invitation } from './invitations.js';

/** One answer for a token unknown, used or expired, or whose member or employer is gone: never told apart. */
const invalidLink = () =>
  new TesseraError('not_found', 'this invitation link is not valid: it is unknown, used or expired');

/** Every token's failures count under one name: the throttle then bounds each address's guesses. */
const THROTTLED_AS = 'invitation';

/**
 * Invitations: an operator (or a site manager, for a member they may change) makes a one-time
 * link, emailed when the hub can send mail; whoever holds it reads what it is for and accepts it
 * once, which makes the account and logs it in. Reading and accepting are public routes
 * (auth/register.ts), throttled like logins against token guessing.
 */
export function registerInvitationRoutes(app: FastifyInstance, deps: SelfServiceDeps): void {
  const store = new InvitationStore();
  const throttle = new LoginThrottle(deps.clock);
  /** Counts a failure first (parallel guesses cannot slip under the limit), taken back when the token is good. */
  const guarded = async (req: FastifyRequest, token: string): Promise<Invitation> => {
    const wait = throttle.retryAfterMs(THROTTLED_AS, req.ip);
    if (wait > 0) throw tooMany(wait);
    throttle.failed(THROTTLED_AS, req.ip);
    const found = await store.valid(deps.db, token, deps.clock.now());
    if (!found) throw invalidLink();
    throttle.succeeded(THROTTLED_AS, req.ip);
    return found;
  };

  serve(app, Routes.invite, async (req, reply) => {
    const body = req.body;
    const { token, invitation, name } = await deps.db.transaction(async (tx) => {
      const named = await invitable(tx, deps, req.account, body);
      const made = await store.create(
        tx,
        { ...link(body), email: body.email ?? null, createdBy: req.account.id },
        deps.clock.now(),
      );
      const { tokenHash, email, ...audited } = made.invitation;
      await deps.audit.record(tx, req.account, 'create', 'invitation', tokenHash, null, {
        ...audited,
        email: email !== null,
      });
      return { ...made, name: named };
    });
    const url = `${deps.publicUrl ?? `${req.protocol}://${req.host}`}/#/invite/${token}`;
    const emailed =
      body.email !== undefined && deps.mailer !== undefined
        ? await deps.mailer.send(
            invitationMessage({
              to: body.email,
              language: body.language,
              role: body.role,
              name,
              link: url,
              expiresAt: invitation.expiresAt,
            }),
          )
        : false;
    if (body.email !== undefined && !emailed)
      deps.log.warn(
        { invitation: invitation.tokenHash.slice(0, 12) },
        'invitation not emailed: the link is answered instead',
      );
    reply.code(201);
    return { link: url, expiresAt: new Date(invitation.expiresAt).toISOString(), emailed };
  });

  serve(app, Routes.invitation, async (req) => {
    const invitation = await guarded(req, req.params.token);
    const name = await linkedName(deps.db, deps, invitation);
    return {
      role: invitation.role,
      name,
      username: await freeUsername(deps, name),
      expiresAt: new Date(invitation.expiresAt).toISOString(),
    };
  });

  serve(app, Routes.accept, async (req, reply) => {
    const { token } = req.params;
    await guarded(req, token);
    // Hashing is slow: before the transaction, and only for a token that was good a moment ago.
    const passwordHash = await deps.auth.hashPassword(req.body.password);
    const account = await deps.db.transaction(async (tx) => {
      const used = await store.use(tx, token, deps.clock.now());
      if (!used) throw invalidLink();
      await linkedName(tx, deps, used);
      const created = await deps.auth.accounts.create(tx, {
        username: req.body.username,
        role: used.role,
        sites: [],
        passwordHash,
        mustChangePassword: false,
        ...(used.member !== null ? { member: used.member } : {}),
        ...(used.employer !== null ? { employer: used.employer } : {}),
      });
      await deps.audit.record(tx, { ...created, sites: [] }, 'create', 'account', created.id, null, created);
      return created;
    });
    const session = await deps.auth.sessions.open(deps.db, account.id, passwordHash);
    if (!session) throw new TesseraError('auth.invalid', 'the account was changed meanwhile: log in');
    deps.log.info({ username: account.username, role: account.role }, 'invitation accepted');
    void reply.header('set-cookie', sessionCookie(session.token, Math.floor(deps.auth.sessions.ttlMs / 1000)));
    return { account, token: session.token, expiresAt: new Date(session.expiresAt).toISOString() };
  });
}

const link = (b: NewInvitation) => ({
  role: b.role,
  member: b.role === 'member' ? (b.member ?? null) : null,
  employer: b.role === 'employer_manager' ? (b.employer ?? null) : null,
});

/**
 * Whether `actor` may invite as `body` says, and the name invited. An employer's manager is the
 * operator's to invite; a site manager invites only a member they may change (whose plan opens
 * none but their sites): a member they merely see could be handed to an address of their choice.
 */
async function invitable(tx: Sql, deps: SelfServiceDeps, actor: Account, body: NewInvitation): Promise<string> {
  if (body.role === 'employer_manager') {
    if (actor.role !== 'operator') throw forbidden('only a network operator may invite an employer’s manager');
    const employer = await deps.directory.get(tx, 'employer', body.employer ?? '');
    if (!employer) throw new TesseraError('not_found', `no employer ${JSON.stringify(body.employer)}`);
    return employer.name;
  }
  const member = await deps.directory.get(tx, 'member', body.member ?? '');
  const scope = new DirectoryScope(actor, deps.directory, tx);
  if (!member || !(await scope.member(member)))
    throw new TesseraError('not_found', `no member ${JSON.stringify(body.member)}`);
  if (!(await scope.changes(member)))
    throw forbidden(
      `member ${member.id}'s plan opens sites you do not manage: only a network operator may invite them`,
    );
  if (await deps.auth.accounts.ofMember(tx, member.id))
    throw new TesseraError('conflict', `member ${member.id} already has an account`);
  return member.name;
}

/** The name of the member or employer an invitation is for; the invalid-link answer when it is gone. */
async function linkedName(q: Sql, deps: SelfServiceDeps, invitation: Invitation): Promise<string> {
  const entity =
    invitation.role === 'member'
      ? await deps.directory.get(q, 'member', invitation.member ?? '')
      : await deps.directory.get(q, 'employer', invitation.employer ?? '');
  if (!entity) throw invalidLink();
  return entity.name;
}

/** A username made from `name` (`Ana Lima` → `ana.lima`), with a digit added while it is taken. */
async function freeUsername(deps: SelfServiceDeps, name: string): Promise<string> {
  const base =
    name
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '.')
      .replace(/^\.+|\.+$/g, '')
      .slice(0, 56) || 'user';
  for (let n = 1; n < 100; n++) {
    const candidate = n === 1 ? base : `${base}${n}`;
    if (!Username.safeParse(candidate).success) continue;
    if (!(await deps.auth.accounts.credentials(deps.db, candidate))) return candidate;
  }
  return `${base}.${deps.clock.now() % 100_000}`;
}

function tooMany(retryAfterMs: number): TesseraError {
  const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
  return new TesseraError(
    'auth.rate_limited',
    `too many invalid invitation links: try again in ${seconds} s`,
    [],
    seconds,
  );
}
