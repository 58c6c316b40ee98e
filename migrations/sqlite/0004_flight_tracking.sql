-- Flight subscriptions (SQLite; see the Postgres twin): what is known of each flight, which AWBs were seen on it, and the
-- check schedule of each subscribed flight number and date against flight-status sources.

-- The flight's times, destination and cancellation as JSON (times keep their offsets, so they
-- can be shown in local time), its derived status, and when and from where it was last updated.
ALTER TABLE flights ADD COLUMN state TEXT NOT NULL DEFAULT '{}';
ALTER TABLE flights ADD COLUMN status TEXT NOT NULL DEFAULT 'SCHEDULED';
ALTER TABLE flights ADD COLUMN last_checked_at TEXT;
ALTER TABLE flights ADD COLUMN source TEXT;
-- Set once a flight-status source has reported the flight: from then on it is the authority
-- on the flight's times, and carriers' copies of them (often late, or without an offset) only
-- link their AWBs.
ALTER TABLE flights ADD COLUMN from_source INTEGER NOT NULL DEFAULT 0;

-- AWBs whose events named the flight.
CREATE TABLE flight_awbs (
    flight_id      BLOB NOT NULL REFERENCES flights (id),
    awb            TEXT NOT NULL,
    first_seen_at  TEXT NOT NULL,
    PRIMARY KEY (flight_id, awb)
);

-- One row per subscribed flight number and date (origin unknown until a source says): the
-- flight poller's unit of work, claimed with leases like shipments.
CREATE TABLE flight_checks (
    number            TEXT NOT NULL,
    date              TEXT NOT NULL,
    next_check_at     TEXT NOT NULL,
    check_failures    INTEGER NOT NULL DEFAULT 0,
    last_checked_at   TEXT,
    last_error        TEXT,
    source            TEXT,
    lease_owner       BLOB,
    lease_expires_at  TEXT,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (number, date)
);
CREATE INDEX flight_checks_due ON flight_checks (next_check_at);
-- Flight subscriptions made before this migration are checked at once (times in the
-- store's RFC 3339 form with microseconds).
INSERT INTO flight_checks (number, date, next_check_at, created_at)
    SELECT DISTINCT flight_number, flight_date,
        strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'), strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')
    FROM subscriptions WHERE status = 'active' AND flight_number IS NOT NULL;

CREATE INDEX subscriptions_active_flight ON subscriptions (flight_number, flight_date)
    WHERE status = 'active' AND flight_number IS NOT NULL;
