import { z } from 'zod';
import { SITE_ID_PATTERN, DEFAULT_TOPIC_PREFIX } from '../shared/protocol/topics.js';
import { formatPath } from '../shared/platform/validation.js';
import { Closure, TimeOfDay, TimeZone, WeeklyWindow } from '../shared/protocol/schedule.js';
import { LINK_DEFAULTS } from '../shared/protocol/sync.js';

/**
 * One YAML file per site (docs/config.md). This schema is the single source of the
 * config's type, defaults and error messages. Unknown keys are errors: a typo must not pass.
 * It reads the current format (CONFIG_VERSION in version.ts); the file's `version` key is checked
 * and taken off by the loader before this schema sees the rest.
 */
function intIn(min: number, max: number) {
  const error = `expected an integer ${min}-${max}`;
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

const Id = z.string({ error: 'expected an id' }).regex(/^[a-z0-9][a-z0-9-]{0,62}$/, {
  error: 'expected an id of lower-case letters, digits and "-"',
});

/** A BCM GPIO line (0-27 on the Pi's 40-pin header) and its polarity. */
const Line = z.strictObject({
  line: intIn(0, 27),
  activeLow: z.boolean().default(false),
});

const InputLine = z.strictObject({
  line: intIn(0, 27),
  activeLow: z.boolean().default(false),
  debounceMs: intIn(0, 1000).default(30),
});

export const ReaderConfig = z
  .strictObject({
    /** Our name for the reader, used in events and the API. */
    id: Id,
    /** Substring of the PC/SC reader name (e.g. "ACR122U"), or a /regex/. */
    match: z.string().min(1),
    role: z.enum(['entry', 'exit', 'locker-bank', 'room']),
    door: Id.optional(),
    bank: Id.optional(),
    /** A room reader: the bookable room (a resource id of the directory) whose bookings open its door. */
    resource: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, {
        error: 'expected a resource id of letters, digits, ".", "_" or "-"',
      })
      .optional(),
  })
  .superRefine((r, ctx) => {
    if (r.role === 'room' && r.resource === undefined)
      ctx.addIssue({ code: 'custom', path: ['resource'], message: 'a room reader needs the id of the room it opens' });
    if (r.role !== 'room' && r.resource !== undefined)
      ctx.addIssue({ code: 'custom', path: ['resource'], message: 'only a reader with role "room" names a resource' });
    if (r.role !== 'locker-bank' && r.door === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['door'],
        message: `a reader with role "${r.role}" needs the id of the door it opens`,
      });
    if (r.role === 'locker-bank' && r.bank === undefined)
      ctx.addIssue({ code: 'custom', path: ['bank'], message: 'a locker-bank reader needs the id of its bank' });
  });

export const DoorConfig = z.strictObject({
  id: Id,
  name: z.string().optional(),
  relay: Line,
  /** How long a granted tap or the exit button unlocks the door. */
  pulseMs: intIn(100, 60_000).default(3000),
  contact: InputLine.optional(),
  exitButton: InputLine.optional(),
  heldOpenSeconds: intIn(1, 3600).default(30),
  /**
   * fail-secure: the lock is locked when unpowered (relay energised = unlocked).
   * fail-safe: the lock opens when unpowered, e.g. a maglock (relay energised = locked).
   * Either way the relay's safe state, held on every exit path, is de-energised.
   */
  failMode: z.enum(['fail-secure', 'fail-safe']).default('fail-secure'),
  /** Door held unlocked: never, during the site's staffed hours, or in given windows. */
  freeAccess: z.union([z.literal('none'), z.literal('staffed'), z.array(WeeklyWindow).min(1)]).default('none'),
});
export type DoorConfig = z.infer<typeof DoorConfig>;

export const LockerBankConfig = z.strictObject({
  id: Id,
  mode: z.enum(['assigned', 'free']),
  activeLow: z.boolean().default(false),
  pulseMs: intIn(100, 10_000).default(1000),
  /** One relay line per locker; locker numbers are 1-based in this order. */
  relays: z.array(intIn(0, 27)).min(1).max(28),
});
export type LockerBankConfig = z.infer<typeof LockerBankConfig>;

/** NTAG 424 DNA badges: how the door checks them (docs/badges.md). */
const SecureBadges = z.strictObject({
  /**
   * The door's keys, written by `tessera badge door-keys` from the site master key (which never
   * goes on a door): the SUN meta read key and the door key master. Relative to the config file.
   */
  doorKeyFile: z.string().min(1),
  /** `authenticate`: AuthenticateEV2First then GetCardUID (resists replay); `sun`: the SUN message of the card's NDEF URL, with a per-card counter. */
  check: z.enum(['authenticate', 'sun']).default('authenticate'),
  /** AN10922 diversification inputs: the application id (3 bytes, hex) and the system identifier. */
  aid: z
    .string()
    .regex(/^[0-9A-Fa-f]{6}$/, { error: 'expected 3 bytes in hex, e.g. "3042F5"' })
    .default('3042F5'),
  systemIdentifier: z.string().min(1).max(21).default('Tessera'),
});

/**
 * How long each role is still admitted from a hub-fed directory the hub has not confirmed: a
 * revocation made while the site is cut off takes effect at the latest this long after the last
 * confirmation. A day for members and visitors; three days for staff and cleaners, who keep a
 * site running through a long weekend without the link.
 */
export const DEFAULT_DIRECTORY_MAX_AGE_HOURS = { member: 24, visitor: 24, staff: 72, cleaner: 72 } as const;
export type DirectoryMaxAgeHours = Record<keyof typeof DEFAULT_DIRECTORY_MAX_AGE_HOURS, number>;

const AgeHours = intIn(1, 24 * 90);
/** One number for every role, or some roles by name (the others keep their default). */
const MaxAgeHours = z
  .union([
    AgeHours,
    z.strictObject({
      member: AgeHours.optional(),
      visitor: AgeHours.optional(),
      staff: AgeHours.optional(),
      cleaner: AgeHours.optional(),
    }),
  ])
  .prefault({})
  .transform((v): DirectoryMaxAgeHours =>
    typeof v === 'number'
      ? { member: v, visitor: v, staff: v, cleaner: v }
      : { ...DEFAULT_DIRECTORY_MAX_AGE_HOURS, ...v },
  );

const DirectorySource = z.discriminatedUnion('source', [
  z.strictObject({ source: z.literal('file'), path: z.string().min(1) }),
  z.strictObject({
    source: z.literal('hub'),
    /** Past its role's age without a confirmation from the hub, a badge is refused (`directory_stale`). */
    maxAgeHours: MaxAgeHours,
    // Version 1 also had `staleRoles`, ignored since every role has a bound: `config migrate` removes it (migrate.ts).
  }),
]);

const Presence = z.strictObject({
  /** Which gestures check a member out. */
  checkout: z.array(z.enum(['exit_reader', 'exit_button', 'second_tap'])).default(['exit_reader', 'exit_button']),
  /** Everyone still in is checked out at this site-local time each day. */
  closingTime: TimeOfDay.optional(),
  /** Anyone in for longer is checked out. */
  maxStayHours: intIn(1, 72).default(16),
  /** Refuse an entry tap from a member who is already in. */
  antiPassback: z.boolean().default(false),
});

const SiteConfigFields = z.strictObject({
  site: z.strictObject({
    id: z
      .string({ error: 'expected a site id' })
      .regex(SITE_ID_PATTERN, { error: 'expected a site id of lower-case letters, digits and "-"' }),
    name: z.string().min(1).max(200),
    timeZone: TimeZone,
    capacity: intIn(1, 100_000),
    /** Every member (staff excepted) is let in at an entry only on a site-local day they hold a booking here. */
    bookingRequired: z.boolean().default(false),
  }),
  /** Staffed hours, site-local. Empty for a site that is never staffed. */
  hours: z.array(WeeklyWindow).default([]),
  closures: z.array(Closure).default([]),
  presence: Presence.prefault({}),
  readers: z.array(ReaderConfig).default([]),
  doors: z.array(DoorConfig).default([]),
  lockers: z.array(LockerBankConfig).default([]),
  directory: DirectorySource,
  secureBadges: SecureBadges.optional(),
  storage: z
    .strictObject({
      path: z.string().min(1).default('var/edge.db'),
      /** Days an event stays at the site once the hub has acknowledged it (personal data: presence). */
      retentionDays: intIn(1, 3650).default(30),
    })
    .prefault({}),
  api: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: intIn(0, 65535).default(8081),
      /** What a request from another host must send as `Authorization: Bearer`; without it, only the Pi itself is answered. */
      token: z
        .string()
        .min(16, { error: 'expected a token of at least 16 characters (e.g. openssl rand -base64 24)' })
        .optional(),
    })
    .prefault({}),
  hardware: z
    .strictObject({
      readers: z.enum(['pcsc', 'simulated']).default('pcsc'),
      gpio: z.enum(['onoff', 'simulated']).default('onoff'),
      /** gpiochip base added to BCM lines; found from the chip label when absent. */
      gpioChipBase: intIn(0, 4096).optional(),
    })
    .prefault({}),
  broker: z
    .strictObject({
      // A host is required: "mqtt://" alone would only fail later, at connect time, on the Pi.
      url: z.string().regex(/^mqtts?:\/\/[^\s/?#]+/, { error: 'expected an mqtt:// or mqtts:// URL with a host' }),
      username: z.string().optional(),
      password: z.string().optional(),
      /** For mqtts: the CA certificate (PEM) that signed the broker's; without it, the system's CAs. */
      ca: z
        .string()
        .regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, {
          error: 'expected a PEM certificate ("-----BEGIN CERTIFICATE----- ...")',
        })
        .optional(),
      topicPrefix: z.string().default(DEFAULT_TOPIC_PREFIX),
      /** The hub's Ed25519 public key (PEM), pinned at provisioning: directory updates must carry its signature. */
      hubPublicKey: z
        .string()
        .regex(/-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/, {
          error: 'expected a PEM public key ("-----BEGIN PUBLIC KEY----- ...")',
        })
        .optional(),
      /** Events per published batch, batches in flight, and how long to wait for the hub's ack before re-sending. */
      batchSize: intIn(1, 1000).default(100),
      window: intIn(1, 100).default(10),
      ackTimeoutSeconds: intIn(1, 3600).default(15),
      /**
       * How often the site publishes its status (online, backlog, directory age), and how many
       * in a row the hub may miss before it counts the site offline: 8 s × 3 puts a frozen site
       * offline at the hub within 25 s of its last status. Both travel in the status.
       */
      heartbeatSeconds: intIn(2, 3600).default(LINK_DEFAULTS.heartbeatSeconds),
      offlineAfterMissed: intIn(2, 10).default(LINK_DEFAULTS.offlineAfterMissed),
      /** MQTT keepalive: the broker drops a silent connection, and publishes the last will, after 1.5 times this. */
      keepaliveSeconds: intIn(5, 1200).default(LINK_DEFAULTS.keepaliveSeconds),
      /** The edge's /health says `degraded` once the broker has been unreachable this long, or this many events await the hub's ack. */
      degradedAfterSeconds: intIn(10, 86_400).default(300),
      degradedBacklog: intIn(1, 10_000_000).default(10_000),
    })
    .optional(),
});

export const SiteConfig = SiteConfigFields.superRefine(crossCheck);
export type SiteConfig = z.infer<typeof SiteConfig>;
export type SiteConfigInput = z.input<typeof SiteConfig>;

type Fields = z.infer<typeof SiteConfigFields>;
type Report = (path: PropertyKey[], message: string) => void;

/** Relations the field schemas cannot see: ids that must exist or be unique, lines used twice. */
function crossCheck(cfg: Fields, ctx: z.RefinementCtx): void {
  const issue: Report = (path, message) => ctx.addIssue({ code: 'custom', path, message });
  checkIds(cfg, issue);
  checkLines(cfg, issue);
  checkRules(cfg, issue);
}

function checkIds(cfg: Fields, issue: Report): void {
  const unique = (kind: 'readers' | 'doors' | 'lockers') => {
    const seen = new Set<string>();
    cfg[kind].forEach((item, i) => {
      if (seen.has(item.id)) issue([kind, i, 'id'], `duplicate id ${JSON.stringify(item.id)}`);
      seen.add(item.id);
    });
  };
  unique('readers');
  unique('doors');
  unique('lockers');
  const doors = new Set(cfg.doors.map((d) => d.id));
  const banks = new Set(cfg.lockers.map((b) => b.id));
  cfg.readers.forEach((r, i) => {
    if (r.door !== undefined && !doors.has(r.door))
      issue(
        ['readers', i, 'door'],
        `no door with id ${JSON.stringify(r.door)} (doors: ${[...doors].join(', ') || 'none'})`,
      );
    if (r.bank !== undefined && !banks.has(r.bank))
      issue(
        ['readers', i, 'bank'],
        `no locker bank with id ${JSON.stringify(r.bank)} (banks: ${[...banks].join(', ') || 'none'})`,
      );
  });
}

/** Each BCM line drives or reads one thing: two relays on one line would open two locks. */
function checkLines(cfg: Fields, issue: Report): void {
  const lines = new Map<number, string>();
  const claim = (line: number, path: PropertyKey[]) => {
    const owner = lines.get(line);
    if (owner !== undefined) issue(path, `GPIO line ${line} is already used by ${owner}`);
    else lines.set(line, formatPath(path));
  };
  cfg.doors.forEach((d, i) => {
    claim(d.relay.line, ['doors', i, 'relay', 'line']);
    if (d.contact) claim(d.contact.line, ['doors', i, 'contact', 'line']);
    if (d.exitButton) claim(d.exitButton.line, ['doors', i, 'exitButton', 'line']);
  });
  cfg.lockers.forEach((b, i) => b.relays.forEach((line, j) => claim(line, ['lockers', i, 'relays', j])));
}

function checkRules(cfg: Fields, issue: Report): void {
  cfg.doors.forEach((d, i) => {
    if (d.freeAccess === 'staffed' && cfg.hours.length === 0)
      issue(['doors', i, 'freeAccess'], 'free access during staffed hours needs "hours" to be set');
  });
  // A hub-fed directory with no broker would never arrive: every badge would stay unknown.
  if (cfg.directory.source === 'hub' && cfg.broker === undefined)
    issue(['broker'], 'a directory from the hub needs a broker');
  // Without the pinned key no directory update could ever be trusted.
  if (cfg.directory.source === 'hub' && cfg.broker !== undefined && cfg.broker.hubPublicKey === undefined)
    issue(['broker', 'hubPublicKey'], "a directory from the hub needs the hub's public key to check its signatures");
  // A reversed range would silently close nothing.
  cfg.closures.forEach((c, i) => {
    if (c.to !== undefined && c.to < c.from)
      issue(['closures', i, 'to'], `"to" (${c.to}) is before "from" (${c.from})`);
  });
}
