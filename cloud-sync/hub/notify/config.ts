import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { IANAZone } from 'luxon';
import { z } from 'zod';
import type { ErrorDetail } from '../../../shared/platform/errors.js';
import { type LoadResult, parseDocument, readTextFile } from '../../../shared/platform/yaml-document.js';
import { AlarmKind } from '../../../shared/protocol/api/hub-occupancy.js';

/**
 * The notifications file (docs/notifications.md): who hears of which alarms, when, and the
 * quiet hours. Secrets never sit in it: a webhook names the environment variable or the file
 * that holds its signing secret.
 */

const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a name of a-z, 0-9, - and _ (at most 64)');
const HttpUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'expected an http:// or https:// URL')
  .refine((u) => URL.canParse(u), 'expected an http:// or https:// URL');
const Clock24 = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time HH:MM, 00:00-23:59');

const Webhook = z.strictObject({
  webhook: HttpUrl,
  /** The environment variable holding the signing secret. */
  secretEnv: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name')
    .optional(),
  /** A file holding the signing secret (relative to this file's folder). */
  secretFile: z.string().min(1).optional(),
});
const Email = z.strictObject({ email: z.array(z.email()).min(1).max(50) });

const Level = z.strictObject({
  /** Minutes after the alarm was raised; 0 = at once. A later level goes only while it is still active and unacknowledged. */
  afterMinutes: z.number().min(0).max(10_080),
  notify: z.array(Name).min(1),
});

const Rule = z.strictObject({
  alarms: z.array(AlarmKind).min(1),
  /** Only these sites (all without it). */
  sites: z.array(z.string().min(1)).min(1).optional(),
  /** Goes out during quiet hours too. */
  urgent: z.boolean().default(false),
  levels: z.array(Level).min(1).max(10),
  /** Tell those who were told of it when it clears (default true). */
  resolved: z.boolean().default(true),
});

const NotificationsFile = z
  .strictObject({
    recipients: z.record(Name, z.union([Webhook, Email])),
    rules: z.array(Rule).min(1),
    quietHours: z
      .strictObject({
        timeZone: z
          .string()
          .refine((zone) => IANAZone.isValidZone(zone), 'expected an IANA time zone, e.g. Europe/Paris'),
        from: Clock24,
        to: Clock24,
      })
      .refine((q) => q.from !== q.to, { message: 'from and to must differ', path: ['to'] })
      .optional(),
  })
  .superRefine((file, ctx) => {
    file.rules.forEach((rule, r) =>
      rule.levels.forEach((level, l) => {
        const before = rule.levels[l - 1];
        if (before && level.afterMinutes <= before.afterMinutes)
          ctx.addIssue({
            code: 'custom',
            path: ['rules', r, 'levels', l, 'afterMinutes'],
            message: `expected more than the level before (${before.afterMinutes})`,
          });
        level.notify.forEach((name, n) => {
          if (!(name in file.recipients))
            ctx.addIssue({
              code: 'custom',
              path: ['rules', r, 'levels', l, 'notify', n],
              message: `no recipient named "${name}" under recipients`,
            });
        });
      }),
    );
    for (const [name, recipient] of Object.entries(file.recipients))
      if ('webhook' in recipient && recipient.secretEnv !== undefined && recipient.secretFile !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['recipients', name],
          message: 'secretEnv or secretFile, not both',
        });
  });

export type Recipient =
  { name: string; webhook: string; secret: string | undefined } | { name: string; email: readonly string[] };

export interface NotificationRule {
  alarms: readonly AlarmKind[];
  sites: readonly string[] | undefined;
  urgent: boolean;
  levels: ReadonlyArray<{ afterMinutes: number; notify: readonly string[] }>;
  resolved: boolean;
}

export interface QuietHours {
  timeZone: string;
  from: { hour: number; minute: number };
  to: { hour: number; minute: number };
}

/** The notifications file, checked, with its secrets read. */
export interface NotificationPlan {
  recipients: ReadonlyMap<string, Recipient>;
  /** The first rule that matches an alarm is its rule. */
  rules: readonly NotificationRule[];
  quietHours: QuietHours | undefined;
}

const hourMinute = (hhmm: string) => ({ hour: Number(hhmm.slice(0, 2)), minute: Number(hhmm.slice(3, 5)) });

/** A signing secret from where the recipient says it is; an error detail when it is not there. */
function secretOf(
  name: string,
  r: z.infer<typeof Webhook>,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): string | undefined | ErrorDetail {
  const path = `recipients.${name}`;
  if (r.secretEnv !== undefined) {
    const value = env[r.secretEnv];
    return value ? value : { path: `${path}.secretEnv`, message: `the environment variable ${r.secretEnv} is not set` };
  }
  if (r.secretFile === undefined) return undefined;
  const file = resolve(baseDir, r.secretFile);
  try {
    const value = readFileSync(file, 'utf8').trim();
    return value ? value : { path: `${path}.secretFile`, message: `${file} is empty` };
  } catch (err) {
    return {
      path: `${path}.secretFile`,
      message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    };
  }
}

/** Checks a notifications file's text (`source` names it and picks JSON or YAML) and reads its secrets. */
export function parseNotifications(
  text: string,
  source: string,
  env: NodeJS.ProcessEnv,
  baseDir: string,
): LoadResult<NotificationPlan> {
  const parsed = parseDocument(text, source, NotificationsFile, 'config.invalid');
  if (!parsed.ok) return parsed;
  const file = parsed.value;
  const errors: ErrorDetail[] = [];
  const recipients = new Map<string, Recipient>();
  for (const [name, r] of Object.entries(file.recipients)) {
    if ('email' in r) {
      recipients.set(name, { name, email: r.email });
      continue;
    }
    const secret = secretOf(name, r, env, baseDir);
    if (typeof secret === 'object') errors.push(secret);
    else recipients.set(name, { name, webhook: r.webhook, secret });
  }
  if (errors.length > 0) return { ok: false, code: 'config.invalid', errors };
  const quiet = file.quietHours;
  return {
    ok: true,
    value: {
      recipients,
      rules: file.rules.map((r) => ({ ...r, sites: r.sites })),
      quietHours: quiet && { timeZone: quiet.timeZone, from: hourMinute(quiet.from), to: hourMinute(quiet.to) },
    },
  };
}

/** Reads and checks the notifications file at `path`. */
export function loadNotifications(path: string, env: NodeJS.ProcessEnv): LoadResult<NotificationPlan> {
  const read = readTextFile(path, 'config.unreadable', 'config.invalid');
  if (!read.ok) return read;
  return parseNotifications(read.value, path, env, dirname(resolve(path)));
}
