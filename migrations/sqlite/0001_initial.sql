-- Skyhook's initial schema (SQLite). Ids are 16-byte BLOBs, times RFC 3339 TEXT in UTC with
-- microseconds (so they sort as text), JSON is TEXT. Forward-only: never edit this file once landed; add a new one.

-- One row per API key; the key is its own tenant. Only a SHA-256 of the key is stored.
CREATE TABLE api_keys (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

-- Flights Skyhook has learned of (from shipment data, flight sources, subscriptions).
CREATE TABLE flights (
    id           BLOB PRIMARY KEY,
    number       TEXT NOT NULL,
    date         TEXT NOT NULL,
    origin       TEXT NOT NULL,
    destination  TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (number, date, origin)
);

-- One row per AWB however many subscriptions point at it: the poller's unit of work.
CREATE TABLE shipments (
    awb               TEXT PRIMARY KEY,
    carrier           TEXT,
    carrier_ref       TEXT,            -- e.g. the carrier's own subscription id (push carriers)
    origin            TEXT,
    destination       TEXT,
    pieces            INTEGER,
    weight            REAL,
    volume            REAL,
    status            TEXT NOT NULL DEFAULT 'PENDING_DELIVERY',
    anomalies         TEXT NOT NULL DEFAULT '[]',
    raw_payload       TEXT,           -- the last answer of the carrier, for audit
    last_checked_at   TEXT,
    last_error        TEXT,            -- why the last poll failed, if it did
    next_poll_at      TEXT NOT NULL,
    poll_failures     INTEGER NOT NULL DEFAULT 0,
    lease_owner       BLOB,
    lease_expires_at  TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX shipments_due ON shipments (next_poll_at);

-- Every distinct event ever seen for a shipment; `fingerprint` is the identity the diff uses.
CREATE TABLE events (
    id             BLOB PRIMARY KEY,
    awb            TEXT NOT NULL REFERENCES shipments (awb),
    fingerprint    TEXT NOT NULL,
    code           TEXT NOT NULL,
    event_at       TEXT,
    location       TEXT,
    is_planned     INTEGER NOT NULL DEFAULT 0,
    payload        TEXT NOT NULL,
    first_seen_at  TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    withdrawn_at   TEXT,
    UNIQUE (awb, fingerprint)
);

CREATE TABLE subscriptions (
    id                          BLOB PRIMARY KEY,
    tenant_id                   BLOB NOT NULL REFERENCES api_keys (id),
    -- `awb:NNN-NNNNNNNN` or `flight:NUMBER:DATE:ORIGIN|*`: the "same target" of the duplicate rules
    target_key                  TEXT NOT NULL,
    awb                         TEXT,
    flight_number               TEXT,
    flight_date                 TEXT,
    flight_origin               TEXT,
    flight_id                   BLOB REFERENCES flights (id),
    url                         TEXT,
    url_disabled_at             TEXT,
    url_disabled_reason         TEXT,
    headers                     TEXT NOT NULL DEFAULT '{}',
    states                      TEXT NOT NULL,
    reference                   TEXT,
    status                      TEXT NOT NULL
        CHECK (status IN ('active', 'completed', 'expired', 'unsubscribed')),
    signing_secret              TEXT NOT NULL,
    previous_signing_secret     TEXT,
    previous_secret_expires_at  TEXT,
    next_sequence               INTEGER NOT NULL DEFAULT 1,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL,
    expires_at                  TEXT NOT NULL,
    ended_at                    TEXT,
    CHECK ((awb IS NULL) <> (flight_number IS NULL))
);
-- The duplicate rule for URLs, enforced even when two requests race.
CREATE UNIQUE INDEX subscriptions_active_url
    ON subscriptions (tenant_id, target_key, url) WHERE status = 'active' AND url IS NOT NULL;
CREATE INDEX subscriptions_tenant_page ON subscriptions (tenant_id, created_at DESC, id DESC);
CREATE INDEX subscriptions_active_awb ON subscriptions (awb) WHERE status = 'active';
CREATE INDEX subscriptions_active_expiry ON subscriptions (expires_at) WHERE status = 'active';

-- Email recipients of a subscription. `tenant_id` and `target_key` are copied from the
-- subscription so the duplicate rule for emails can be a unique index; `active` is cleared when
-- the address is removed or the subscription ends.
CREATE TABLE subscription_emails (
    subscription_id    BLOB NOT NULL REFERENCES subscriptions (id),
    email              TEXT NOT NULL,
    position           INTEGER NOT NULL,
    tenant_id          BLOB NOT NULL,
    target_key         TEXT NOT NULL,
    active             INTEGER NOT NULL DEFAULT 1,
    unsubscribe_token  TEXT NOT NULL UNIQUE,
    created_at         TEXT NOT NULL,
    removed_at         TEXT,
    PRIMARY KEY (subscription_id, email)
);
CREATE UNIQUE INDEX subscription_emails_active
    ON subscription_emails (tenant_id, target_key, email) WHERE active = 1;

-- The delivery outbox: one row per message and channel target, written in the same
-- transaction as the events that caused it. `body` is fixed at queue time.
CREATE TABLE deliveries (
    id                BLOB PRIMARY KEY,
    message_id        TEXT NOT NULL,
    subscription_id   BLOB NOT NULL REFERENCES subscriptions (id),
    type              TEXT NOT NULL,
    channel           TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
    target            TEXT NOT NULL,
    sequence          INTEGER NOT NULL,
    body              TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    lease_owner       BLOB,
    lease_expires_at  TEXT,
    last_attempt_at   TEXT,
    last_status_code  INTEGER,
    last_error        TEXT,
    failing_since     TEXT,
    created_at        TEXT NOT NULL,
    delivered_at      TEXT,
    UNIQUE (message_id, channel, target)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_at);
