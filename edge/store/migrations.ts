/**
 * The edge schema, one entry per version (PRAGMA user_version). Never edit a released entry:
 * add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  -- Gapless per-site sequence: a counter, not MAX(seq), so that pruning acknowledged events
  -- never lets a number be used twice.
  CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
  INSERT INTO counters (name, value) VALUES ('seq', 0);

  CREATE TABLE events (
    seq   INTEGER PRIMARY KEY,
    id    TEXT NOT NULL UNIQUE,
    at    TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    type  TEXT NOT NULL,
    body  TEXT NOT NULL
  );

  CREATE TABLE directory_meta (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    revision  INTEGER NOT NULL,
    loaded_at INTEGER NOT NULL,
    source    TEXT NOT NULL
  );
  CREATE TABLE plans (id TEXT PRIMARY KEY, body TEXT NOT NULL);
  CREATE TABLE employers (id TEXT PRIMARY KEY, name TEXT NOT NULL);
  CREATE TABLE members (id TEXT PRIMARY KEY, plan TEXT NOT NULL, body TEXT NOT NULL);
  CREATE TABLE badges (uid TEXT PRIMARY KEY, member TEXT NOT NULL, status TEXT NOT NULL);
  CREATE INDEX badges_member ON badges (member);

  CREATE TABLE presence (member TEXT PRIMARY KEY, since INTEGER NOT NULL, door TEXT);
  CREATE INDEX presence_since ON presence (since);

  -- A day of a days-per-week quota is spent by the first entry of a site-local day.
  CREATE TABLE day_usage (member TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (member, day)) WITHOUT ROWID;

  CREATE TABLE lockers (
    bank   TEXT NOT NULL,
    number INTEGER NOT NULL,
    member TEXT,
    since  INTEGER,
    PRIMARY KEY (bank, number)
  );
  CREATE INDEX lockers_member ON lockers (member);
  `,
  `
  -- Secure badges: the badge's kind, and the last SUN counter seen per NTAG 424 card (replays).
  ALTER TABLE badges ADD COLUMN type TEXT NOT NULL DEFAULT 'uid';
  CREATE TABLE sun_counters (uid TEXT PRIMARY KEY, counter INTEGER NOT NULL, seen_at INTEGER NOT NULL);
  `,
  `
  -- Cloud sync: the highest seq the hub acknowledged (the edge deletes nothing above it), and
  -- events the broker kept refusing, parked with the reason while the rest flows.
  INSERT INTO counters (name, value) VALUES ('acked', 0);
  CREATE TABLE parked (from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (from_seq));
  `,
  `
  -- Directory from the hub: when the update in force was issued, so an older one (a replay)
  -- is refused even when it names the same revision.
  ALTER TABLE directory_meta ADD COLUMN issued_at INTEGER;
  `,
  `
  -- Hub commands: the nonces carried out, kept until they expire so that a restart does not
  -- reopen a replay; and the lockdown in force (one row, or none), so that it survives a restart.
  CREATE TABLE command_nonces (nonce TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE lockdown (id INTEGER PRIMARY KEY CHECK (id = 1), since INTEGER NOT NULL, command TEXT NOT NULL);
  `,
  `
  -- Days a week across the network: the days each member came to other sites, as the hub last
  -- said (replaced whole by each message), and when the hub issued that message.
  CREATE TABLE days_elsewhere (member TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (member, day)) WITHOUT ROWID;
  INSERT INTO counters (name, value) VALUES ('days_elsewhere_issued_at', 0);
  `,
  `
  -- Bookings: the site's bookable resources, and the confirmed bookings a door may still need.
  -- Instants as epoch milliseconds, so the tap path compares integers on an index: a room's reader
  -- asks for one member's bookings of one resource around now, an entry for one member's
  -- bookings that touch a site-local day; retention drops those ended long ago.
  CREATE TABLE resources (id TEXT PRIMARY KEY, site TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL);
  CREATE TABLE bookings (
    id       TEXT PRIMARY KEY,
    resource TEXT NOT NULL,
    site     TEXT NOT NULL,
    member   TEXT NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms   INTEGER NOT NULL
  );
  CREATE INDEX bookings_member_start ON bookings (member, start_ms);
  CREATE INDEX bookings_resource ON bookings (resource);
  CREATE INDEX bookings_end ON bookings (end_ms);
  `,
  `
  -- The hash of the directory file last imported whole, so that a restart (or a SIGHUP) with the
  -- same file does not parse it again. Any change to the directory's tables after the import (a
  -- new import, an erasure, retention) forgets it, so the file is imported again next time.
  ALTER TABLE directory_meta ADD COLUMN content_hash TEXT;
  CREATE TRIGGER plans_insert_forgets_file AFTER INSERT ON plans
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER plans_update_forgets_file AFTER UPDATE ON plans
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER plans_delete_forgets_file AFTER DELETE ON plans
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER employers_insert_forgets_file AFTER INSERT ON employers
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER employers_update_forgets_file AFTER UPDATE ON employers
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER employers_delete_forgets_file AFTER DELETE ON employers
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER members_insert_forgets_file AFTER INSERT ON members
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER members_update_forgets_file AFTER UPDATE ON members
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER members_delete_forgets_file AFTER DELETE ON members
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER badges_insert_forgets_file AFTER INSERT ON badges
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER badges_update_forgets_file AFTER UPDATE ON badges
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER badges_delete_forgets_file AFTER DELETE ON badges
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER resources_insert_forgets_file AFTER INSERT ON resources
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER resources_update_forgets_file AFTER UPDATE ON resources
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER resources_delete_forgets_file AFTER DELETE ON resources
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER bookings_insert_forgets_file AFTER INSERT ON bookings
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER bookings_update_forgets_file AFTER UPDATE ON bookings
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  CREATE TRIGGER bookings_delete_forgets_file AFTER DELETE ON bookings
    BEGIN UPDATE directory_meta SET content_hash = NULL WHERE content_hash IS NOT NULL; END;
  `,
  // Presence keyed by member alone (WITHOUT ROWID), and without its index by check-in time: a
  // check-in or check-out wrote three pages of it (the table, its key's index, the time index),
  // now one; the lookup at each tap is one b-tree instead of two. The site holds at most its
  // capacity in presence (a cheap copy), and the overstay sweep and the list read it whole.
  `
  CREATE TABLE presence_by_member (member TEXT PRIMARY KEY, since INTEGER NOT NULL, door TEXT) WITHOUT ROWID;
  INSERT INTO presence_by_member (member, since, door) SELECT member, since, door FROM presence;
  DROP TABLE presence;
  ALTER TABLE presence_by_member RENAME TO presence;
  `,
  // Occupancy kept as a counter beside the seq, by triggers on presence: an entry read it as
  // COUNT(*) over presence, every row of it at each tap. The counter's row shares the page the
  // seq already writes in each transaction that appends an event, so it costs no WAL page. A row
  // replaced by a conflict (INSERT/UPDATE OR REPLACE) fires no delete trigger: presence is never
  // written that way (edge/store/erasure.ts frees the key first).
  `
  INSERT INTO counters (name, value) SELECT 'occupancy', COUNT(*) FROM presence;
  CREATE TRIGGER presence_insert_counts AFTER INSERT ON presence
    BEGIN UPDATE counters SET value = value + 1 WHERE name = 'occupancy'; END;
  CREATE TRIGGER presence_delete_counts AFTER DELETE ON presence
    BEGIN UPDATE counters SET value = value - 1 WHERE name = 'occupancy'; END;
  `,
  // Events without the UNIQUE index on their id: each append wrote a page of it besides the
  // table's, and nothing here reads an event by its id (the log is read by seq; the hub keys events
  // by site and seq and compares ids only to tell a resend from a conflict). An id is a UUIDv7,
  // unique by construction: its millisecond and 74 bits from the system's secure generator. The
  // table is copied whole, once (a site keeps only what the hub has not acknowledged or retention
  // has not yet dropped).
  `
  CREATE TABLE events_by_seq (
    seq   INTEGER PRIMARY KEY,
    id    TEXT NOT NULL,
    at    TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    type  TEXT NOT NULL,
    body  TEXT NOT NULL
  );
  INSERT INTO events_by_seq (seq, id, at, at_ms, type, body) SELECT seq, id, at, at_ms, type, body FROM events;
  DROP TABLE events;
  ALTER TABLE events_by_seq RENAME TO events;
  `,
];
