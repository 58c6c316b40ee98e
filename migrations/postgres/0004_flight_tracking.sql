-- Flight subscriptions: what is known of each flight, which AWBs were seen on it, and the
-- check schedule of each subscribed flight number and date against flight-status sources.

-- The flight's times, destination and cancellation as JSON (times keep their offsets, so they
-- can be shown in local time), its derived status, and when and from where it was last updated.
ALTER TABLE flights ADD COLUMN state jsonb NOT NULL DEFAULT '{}';
ALTER TABLE flights ADD COLUMN status text NOT NULL DEFAULT 'SCHEDULED';
ALTER TABLE flights ADD COLUMN last_checked_at timestamptz;
ALTER TABLE flights ADD COLUMN source text;
-- Set once a flight-status source has reported the flight: from then on it is the authority
-- on the flight's times, and carriers' copies of them (often late, or without an offset) only
-- link their AWBs.
ALTER TABLE flights ADD COLUMN from_source boolean NOT NULL DEFAULT false;

-- AWBs whose events named the flight.
CREATE TABLE flight_awbs (
    flight_id      uuid NOT NULL REFERENCES flights (id),
    awb            text NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (flight_id, awb)
);

-- One row per subscribed flight number and date (origin unknown until a source says): the
-- flight poller's unit of work, claimed with leases like shipments.
CREATE TABLE flight_checks (
    number            text NOT NULL,
    date              date NOT NULL,
    next_check_at     timestamptz NOT NULL,
    check_failures    integer NOT NULL DEFAULT 0,
    last_checked_at   timestamptz,
    last_error        text,
    source            text,
    lease_owner       uuid,
    lease_expires_at  timestamptz,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (number, date)
);
CREATE INDEX flight_checks_due ON flight_checks (next_check_at);
-- Flight subscriptions made before this migration are checked at once.
INSERT INTO flight_checks (number, date, next_check_at, created_at)
    SELECT DISTINCT flight_number, flight_date, now(), now() FROM subscriptions
    WHERE status = 'active' AND flight_number IS NOT NULL;

CREATE INDEX subscriptions_active_flight ON subscriptions (flight_number, flight_date)
    WHERE status = 'active' AND flight_number IS NOT NULL;
