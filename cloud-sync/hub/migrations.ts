/**
 * The hub schema, one entry per version (PRAGMA user_version). Never edit a released entry:
 * add the next one.
 */
export const HUB_MIGRATIONS: readonly string[] = [
  `
  -- Every event of every site, once per (site, seq): the primary key is what makes ingest
  -- idempotent (docs/architecture.md, invariant 3). body is the event as received, JSON.
  CREATE TABLE events (
    site        TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    id          TEXT NOT NULL,
    at          TEXT NOT NULL,
    type        TEXT NOT NULL,
    body        TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (site, seq)
  ) WITHOUT ROWID;

  -- Per site: every seq up to contiguous is settled (stored, or parked at the site); max_seen is
  -- the highest seq stored; last_status is the site's last SiteStatus, JSON.
  CREATE TABLE site_progress (
    site          TEXT PRIMARY KEY,
    contiguous    INTEGER NOT NULL DEFAULT 0,
    max_seen      INTEGER NOT NULL DEFAULT 0,
    last_event_at TEXT,
    last_status   TEXT,
    status_at     INTEGER
  );

  -- Messages the hub refused (docs/architecture.md, invariant 6), kept for the operator; payload truncated to 4 KB.
  CREATE TABLE dead_letters (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    topic   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    payload TEXT NOT NULL,
    at      INTEGER NOT NULL
  );
  `,
  `
  -- The network directory: every plan, employer, member and badge, each with the revision that
  -- last changed it. A deletion keeps a tombstone (deleted = 1) so that sites behind it learn of it.
  CREATE TABLE directory_entities (
    entity   TEXT NOT NULL,
    id       TEXT NOT NULL,
    value    TEXT,
    revision INTEGER NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, id)
  ) WITHOUT ROWID;
  CREATE INDEX directory_by_revision ON directory_entities (revision);
  CREATE TABLE directory_revision (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
  INSERT INTO directory_revision (id, revision) VALUES (1, 0);
  `,
  `
  -- The network's sites as the operator declares them: name, time zone (for site-local days and
  -- charts) and capacity (occupancy rate). A site that sends events before being declared is
  -- still ingested; it simply has no row here yet.
  CREATE TABLE sites (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    capacity   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Who may use the hub API. role is operator or site_manager; sites a JSON array of site ids
  -- (a site manager's). password is scrypt (auth/password.ts). must_change_password marks a
  -- one-time password (first start, or set by an operator); disabled accounts cannot log in.
  CREATE TABLE accounts (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role                 TEXT NOT NULL CHECK (role IN ('operator', 'site_manager')),
    sites                TEXT NOT NULL DEFAULT '[]',
    password             TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
  );

  -- Login sessions, by the SHA-256 of their token: a copy of the database opens no session.
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX sessions_by_account ON sessions (account_id);

  -- Every change made through the admin API, written in the transaction of the change: who
  -- (account id and name as it was), what (action on entity/entity_id), when (ms), and the
  -- entity before and after as JSON (NULL when it did not exist / no longer does).
  CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor_id  TEXT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before    TEXT,
    after     TEXT
  );
  CREATE INDEX audit_by_entity ON audit_log (entity, entity_id);
  CREATE INDEX audit_by_actor ON audit_log (actor_id);
  `,
  `
  -- Live occupancy (occupancy/): each member's presence at each site as of the highest-seq
  -- presence event seen. Keeping the seq makes the projection order-free and idempotent: a late
  -- or re-sent event never undoes a newer one. since is the site-local ISO time of the check-in.
  CREATE TABLE presence_state (
    site      TEXT NOT NULL,
    member_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    present   INTEGER NOT NULL,
    since     TEXT,
    PRIMARY KEY (site, member_id)
  ) WITHOUT ROWID;

  -- Occupancy history in 15-minute buckets (start_ms: UTC ms, aligned to 15 minutes): the peak
  -- number present during the bucket and the number present at its last change.
  CREATE TABLE occupancy_buckets (
    site     TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    peak     INTEGER NOT NULL,
    last     INTEGER NOT NULL,
    PRIMARY KEY (site, start_ms)
  ) WITHOUT ROWID;

  -- Alarms from events and site status (docs/dashboard.md). subject: the door, device or site.
  -- raised_seq..last_seq: the events that raised it (NULL for site.offline, raised by status).
  -- cleared_*: the condition ended; acked_*: an operator or the site's manager saw it.
  CREATE TABLE alarms (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    site       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    detail     TEXT,
    raised_at  TEXT NOT NULL,
    raised_seq INTEGER,
    last_seq   INTEGER,
    count      INTEGER NOT NULL DEFAULT 1,
    cleared_at TEXT,
    cleared_by TEXT,
    acked_at   INTEGER,
    acked_by   TEXT
  );
  CREATE INDEX alarms_by_subject ON alarms (site, kind, subject);
  CREATE INDEX alarms_open ON alarms (acked_at, cleared_at);

  -- Where the live projections replay from at start: events received at or after this instant
  -- (ms) are projected again, so a crash between an ingest commit and the projection loses nothing.
  CREATE TABLE live_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), received_at INTEGER NOT NULL);
  `,
  `
  -- Billing (cloud-sync/billing, docs/billing.md). The price list (one JSON document); each closed
  -- period with its cutoff (events received up to it, hub clock ms, are on its invoices; later
  -- ones become adjustments on the next period); its invoices, frozen, numbered without gaps per year.
  CREATE TABLE billing_prices (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE billing_periods (
    period         TEXT PRIMARY KEY,
    cutoff         INTEGER NOT NULL,
    closed_at      INTEGER NOT NULL,
    prices         TEXT NOT NULL,
    unbilled       TEXT NOT NULL,
    invoices       INTEGER NOT NULL,
    subtotal_cents INTEGER NOT NULL,
    vat_cents      INTEGER NOT NULL,
    total_cents    INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE billing_invoices (
    number      TEXT PRIMARY KEY,
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    period      TEXT NOT NULL,
    account     TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (year, seq),
    UNIQUE (period, account)
  ) WITHOUT ROWID;
  `,
  `
  -- Broker identities of the sites for the embedded broker (docs/security.md), made by
  -- 'tessera site provision'. secret: sha256 of a random 144-bit password with its salt (a
  -- random secret needs no slow hash, and every reconnect of every site checks one).
  CREATE TABLE broker_identities (
    site       TEXT PRIMARY KEY,
    salt       TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Retention at the hub (docs/hub.md, "Retention"): access and presence events received up to
  -- pruned_through (hub clock ms, a close's cutoff) have been deleted; the months closed with a
  -- cutoff up to it can no longer be re-rated.
  CREATE TABLE retention (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL
  );
  `,
  `
  -- Members erased (docs/hub.md "Members' personal data"), each known only by its pseudonym,
  -- never by the id it replaced; revision: the directory revision of the erasure, so that sites
  -- behind it learn of it. salt: the hub's random salt that turns an id into its pseudonym
  -- (shared/protocol/erasure.ts), so that late events naming an erased id are recognised at ingest.
  CREATE TABLE member_erasures (
    pseudonym TEXT PRIMARY KEY,
    revision  INTEGER NOT NULL,
    at        INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE erasure_salt (id INTEGER PRIMARY KEY CHECK (id = 1), salt TEXT NOT NULL);
  INSERT INTO erasure_salt (id, salt) VALUES (1, lower(hex(randomblob(16))));
  `,
  `
  -- A members import being written in slices (cloud-sync/hub/directory-import.ts): the row in
  -- directory_import says one is under way (other directory writes wait for it), at which
  -- revision its rows are written, and which hub instance runs it; directory_import_undo holds
  -- each touched row as it was before (existed = 0: it was not there), so that an import that
  -- fails, or whose hub stops, is rolled back whole. Both are empty between imports.
  CREATE TABLE directory_import (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    owner      TEXT NOT NULL,
    revision   INTEGER NOT NULL,
    started_at INTEGER NOT NULL
  );
  CREATE TABLE directory_import_undo (
    entity   TEXT NOT NULL,
    id       TEXT NOT NULL,
    existed  INTEGER NOT NULL,
    value    TEXT,
    revision INTEGER NOT NULL,
    deleted  INTEGER NOT NULL,
    PRIMARY KEY (entity, id)
  ) WITHOUT ROWID;
  `,
  `
  -- Self-service accounts (docs/hub.md "Roles"): role may now be member (member: the directory
  -- member's id, one account per member) or employer_manager (employer: the employer's id).
  -- SQLite cannot change a CHECK in place: the table is made again, and since dropping the old
  -- one deletes the sessions that reference it (ON DELETE CASCADE), they are kept aside and put back.
  CREATE TEMP TABLE sessions_kept AS SELECT * FROM sessions;
  CREATE TABLE accounts_next (
    id                   TEXT PRIMARY KEY,
    username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role                 TEXT NOT NULL CHECK (role IN ('operator', 'site_manager', 'member', 'employer_manager')),
    sites                TEXT NOT NULL DEFAULT '[]',
    password             TEXT NOT NULL,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    member               TEXT,
    employer             TEXT
  );
  INSERT INTO accounts_next (id, username, role, sites, password, must_change_password, disabled, created_at, updated_at)
    SELECT id, username, role, sites, password, must_change_password, disabled, created_at, updated_at FROM accounts;
  DROP TABLE accounts;
  ALTER TABLE accounts_next RENAME TO accounts;
  INSERT INTO sessions SELECT * FROM sessions_kept;
  DROP TABLE sessions_kept;
  CREATE UNIQUE INDEX accounts_by_member ON accounts (member) WHERE member IS NOT NULL;

  -- Invitations to a self-service account (self-service/invitations.ts), by the SHA-256 of their
  -- one-time token: a copy of the database accepts none. used_at is set by the one accept that wins.
  CREATE TABLE invitations (
    token_hash TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('member', 'employer_manager')),
    member     TEXT,
    employer   TEXT,
    email      TEXT,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
  ) WITHOUT ROWID;
  `,
  `
  -- Bookings of the sites' resources (cloud-sync/hub/bookings/, docs/bookings.md): who holds
  -- which resource from start_ms to end_ms (UTC ms, end exclusive). status: confirmed,
  -- cancelled or no_show (released by the hub when nobody tapped); late_cancellation = 1: cancelled
  -- later than the resource's free-cancellation hours before its start (billed). A confirmed
  -- booking is also a directory entity 'booking' (what the site's door reads); a cancelled or
  -- released one is a tombstone there.
  CREATE TABLE bookings (
    id                TEXT PRIMARY KEY,
    resource          TEXT NOT NULL,
    site              TEXT NOT NULL,
    member            TEXT NOT NULL,
    start_ms          BIGINT NOT NULL,
    end_ms            BIGINT NOT NULL,
    status            TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    cancelled_at      BIGINT NULL,
    late_cancellation INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;
  CREATE INDEX bookings_by_resource ON bookings (resource, start_ms);
  CREATE INDEX bookings_by_site ON bookings (site, start_ms);
  CREATE INDEX bookings_by_member ON bookings (member, start_ms);
  -- A month's bookings for billing.
  CREATE INDEX bookings_by_start ON bookings (start_ms);

  -- The events naming a member, by data.memberId (the no-show sweeper asks whether a booking's
  -- holder tapped; a member's records too): the expression is the one
  -- sqlDialect(q).jsonText('body', 'data.memberId') writes, as PostgreSQL's events_by_member.
  CREATE INDEX events_by_member ON events (json_extract(body, '$.data.memberId'));
  `,
  `
  -- The resources (with their prices) a month's bookings were billed with: a closed month
  -- re-rates with them as it was closed (cloud-sync/billing/booking-source.ts). NULL: closed
  -- before bookings were billed.
  ALTER TABLE billing_periods ADD COLUMN resources TEXT;
  `,
  `
  -- iCalendar feeds handed out (cloud-sync/hub/calendar/): a room's bookings (kind 'room', ref:
  -- the resource) or a member's own (kind 'member', ref: the member), by the SHA-256 of the
  -- feed's token (the token itself is shown once, never kept). revoked_at: the feed answers 404.
  CREATE TABLE calendar_feeds (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('room', 'member')),
    ref        TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- The confirmed bookings of a site by start, with their end and resource: the availability
  -- across the network reads only these (cloud-sync/hub/bookings/store.ts, confirmedSpans),
  -- from the index alone. Partial: cancelled bookings and no-shows take no room in it.
  CREATE INDEX bookings_confirmed_by_site ON bookings (site, start_ms, end_ms, resource) WHERE status = 'confirmed';
  `,
  `
  -- Who invoices are from and to (cloud-sync/billing/parties.ts, docs/billing.md "Seller and
  -- buyers"), kept at the hub and never sent to sites: the operator as seller (one JSON
  -- document), a buyer identity per billed account ('employer:<id>' or 'member:<id>').
  CREATE TABLE billing_seller (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE billing_buyers (
    account    TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
  ) WITHOUT ROWID;
  -- Credit notes (cloud-sync/billing/credit-notes.ts): frozen like invoices (body: JSON), numbered
  -- AV-YYYY-NNNNNN without gaps per year of issue. period: the month whose charges it credits;
  -- issued_in: the month whose close issued it (NULL: an operator's, by hand); corrects: the
  -- number of the invoice it corrects; account: that invoice's.
  CREATE TABLE billing_credit_notes (
    number      TEXT PRIMARY KEY,
    year        BIGINT NOT NULL,
    seq         BIGINT NOT NULL,
    period      TEXT NOT NULL,
    issued_in   TEXT NULL,
    corrects    TEXT NOT NULL,
    account     TEXT NOT NULL,
    total_cents BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    body        TEXT NOT NULL,
    UNIQUE (year, seq)
  ) WITHOUT ROWID;
  CREATE INDEX billing_credit_notes_by_period ON billing_credit_notes (period);
  CREATE INDEX billing_credit_notes_by_close ON billing_credit_notes (issued_in);
  CREATE INDEX billing_credit_notes_by_invoice ON billing_credit_notes (corrects);
  -- The last credit note number when a close stored (NULL: none yet): the invoices an operator
  -- had credited by hand by then get no credit note from that close (verify re-reads them so).
  ALTER TABLE billing_periods ADD COLUMN credit_mark TEXT;
  `,
  `
  -- The accounts the sales journal (FEC) posts to, one JSON document (cloud-sync/billing/accounting.ts);
  -- without it, the defaults.
  CREATE TABLE billing_accounting (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  `
  -- Packs of days sold to members (cloud-sync/billing/packs.ts): the purchase as JSON (the
  -- offer's terms as sold), its member and date, and when it was recorded (hub clock, ms): a
  -- close bills the sales recorded up to its cutoff, like events.
  CREATE TABLE billing_pack_purchases (
    id          TEXT PRIMARY KEY,
    member      TEXT NOT NULL,
    bought_on   TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    body        TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX billing_pack_purchases_by_member ON billing_pack_purchases (member, bought_on);
  `,
  `
  -- Payments (cloud-sync/billing/payments/, docs/billing.md "Payments"). Each payment received
  -- against one invoice, by hand or from a bank statement: date (YYYY-MM-DD), amount in integer
  -- cents, method, the bank's reference. import_line: the statement line it came from (a hash of
  -- its date, amount, label and rank among identical lines; a line paying several invoices makes
  -- one payment each), so that a statement imported twice records nothing twice; NULL for a
  -- payment entered by hand. A deleted payment keeps its row (deleted_at): its line is not
  -- imported again.
  CREATE TABLE billing_payments (
    id           TEXT PRIMARY KEY,
    invoice      TEXT NOT NULL,
    account      TEXT NOT NULL,
    date         TEXT NOT NULL,
    amount_cents BIGINT NOT NULL,
    method       TEXT NOT NULL,
    reference    TEXT NOT NULL,
    note         TEXT NOT NULL,
    import_line  TEXT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    deleted_at   BIGINT NULL,
    deleted_by   TEXT NULL
  ) WITHOUT ROWID;
  CREATE INDEX billing_payments_by_invoice ON billing_payments (invoice);
  CREATE UNIQUE INDEX billing_payments_by_import_line ON billing_payments (import_line, invoice);

  -- What receivables need of each frozen invoice and credit note (type 'invoice' or
  -- 'credit-note'), read once from its body in billing_invoices: they never change.
  -- corrects: the invoice a credit note corrects. due_date: the invoice's, or 30 days after its close.
  CREATE TABLE billing_invoice_terms (
    number      TEXT PRIMARY KEY,
    type        TEXT NOT NULL,
    account     TEXT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT NULL,
    total_cents BIGINT NOT NULL,
    issue_date  TEXT NOT NULL,
    due_date    TEXT NOT NULL,
    corrects    TEXT NULL
  ) WITHOUT ROWID;
  CREATE INDEX billing_invoice_terms_by_corrects ON billing_invoice_terms (corrects);

  -- The network's overdue policy: doors close to an account whose invoice is overdue by more
  -- than suspend_after_days (NULL: never, the default). No row: NULL.
  CREATE TABLE billing_overdue_policy (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    suspend_after_days INTEGER NULL,
    updated_at         BIGINT NOT NULL
  );
  -- An operator lets an overdue account in all the same, until a day (inclusive, Paris) or for good (NULL).
  CREATE TABLE billing_hold_overrides (
    account TEXT PRIMARY KEY,
    until   TEXT NULL,
    reason  TEXT NOT NULL,
    set_by  TEXT NOT NULL,
    set_at  BIGINT NOT NULL
  ) WITHOUT ROWID;

  -- Accounts whose members the doors refuse (cloud-sync/hub/access-holds.ts): the directory
  -- sends their members with billingHold. reason: why (payment_overdue); since: hub clock ms.
  CREATE TABLE access_holds (
    account TEXT PRIMARY KEY,
    reason  TEXT NOT NULL,
    since   BIGINT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- Monitor tokens (auth/monitor-tokens.ts): long-lived read-only keys of metrics scrapers,
  -- by the SHA-256 of their token like sessions; each one lasts until it is revoked (deleted).
  CREATE TABLE monitor_tokens (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
  ) WITHOUT ROWID;
  `,
  `
  -- The clearing events of alarms (a door secured, a reader found), by type, site and seq: the few rows
  -- an alarm raised out of order looks up for the first clear stored after it
  -- (occupancy/alarms.ts laterClears). Without it that lookup stepped through every later event of
  -- the site, each raised alarm of a group through the group's own rows: quadratic in a group.
  CREATE INDEX events_clearing ON events (type, site, seq) WHERE type IN ('door.secured', 'device.fault');
  `,
];
