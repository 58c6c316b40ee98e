-- Skyhook's initial schema. Forward-only: never edit this file once landed; add a new one.

-- One row per API key; the key is its own tenant. Only a SHA-256 of the key is stored.
CREATE TABLE api_keys (
    id          uuid PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    key_hash    text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

-- Flights Skyhook has learned of (from shipment data, flight sources, subscriptions).
CREATE TABLE flights (
    id           uuid PRIMARY KEY,
    number       text NOT NULL,
    date         date NOT NULL,
    origin       text NOT NULL,
    destination  text,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    UNIQUE (number, date, origin)
);

-- One row per AWB however many subscriptions point at it: the poller's unit of work.
CREATE TABLE shipments (
    awb               text PRIMARY KEY,
    carrier           text,
    carrier_ref       text,            -- e.g. the carrier's own subscription id (push carriers)
    origin            text,
    destination       text,
    pieces            integer,
    weight            double precision,
    volume            double precision,
    status            text NOT NULL DEFAULT 'PENDING_DELIVERY',
    anomalies         jsonb NOT NULL DEFAULT '[]',
    raw_payload       jsonb,           -- the last answer of the carrier, for audit
    last_checked_at   timestamptz,
    last_error        text,            -- why the last poll failed, if it did
    next_poll_at      timestamptz NOT NULL,
    poll_failures     integer NOT NULL DEFAULT 0,
    lease_owner       uuid,
    lease_expires_at  timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE INDEX shipments_due ON shipments (next_poll_at);

-- Every distinct event ever seen for a shipment; `fingerprint` is the identity the diff uses.
CREATE TABLE events (
    id             uuid PRIMARY KEY,
    awb            text NOT NULL REFERENCES shipments (awb),
    fingerprint    text NOT NULL,
    code           text NOT NULL,
    event_at       timestamptz,
    location       text,
    is_planned     boolean NOT NULL DEFAULT false,
    payload        jsonb NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    withdrawn_at   timestamptz,
    UNIQUE (awb, fingerprint)
);

CREATE TABLE subscriptions (
    id                          uuid PRIMARY KEY,
    tenant_id                   uuid NOT NULL REFERENCES api_keys (id),
    -- `awb:NNN-NNNNNNNN` or `flight:NUMBER:DATE:ORIGIN|*`: the "same target" of the duplicate rules
    target_key                  text NOT NULL,
    awb                         text,
    flight_number               text,
    flight_date                 date,
    flight_origin               text,
    flight_id                   uuid REFERENCES flights (id),
    url                         text,
    url_disabled_at             timestamptz,
    url_disabled_reason         text,
    headers                     jsonb NOT NULL DEFAULT '{}',
    states                      jsonb NOT NULL,
    reference                   text,
    status                      text NOT NULL
        CHECK (status IN ('active', 'completed', 'expired', 'unsubscribed')),
    signing_secret              text NOT NULL,
    previous_signing_secret     text,
    previous_secret_expires_at  timestamptz,
    next_sequence               bigint NOT NULL DEFAULT 1,
    created_at                  timestamptz NOT NULL,
    updated_at                  timestamptz NOT NULL,
    expires_at                  timestamptz NOT NULL,
    ended_at                    timestamptz,
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
    subscription_id    uuid NOT NULL REFERENCES subscriptions (id),
    email              text NOT NULL,
    position           smallint NOT NULL,
    tenant_id          uuid NOT NULL,
    target_key         text NOT NULL,
    active             boolean NOT NULL DEFAULT true,
    unsubscribe_token  text NOT NULL UNIQUE,
    created_at         timestamptz NOT NULL,
    removed_at         timestamptz,
    PRIMARY KEY (subscription_id, email)
);
CREATE UNIQUE INDEX subscription_emails_active
    ON subscription_emails (tenant_id, target_key, email) WHERE active;

-- The delivery outbox: one row per message and channel target, written in the same
-- transaction as the events that caused it. `body` is fixed at queue time.
CREATE TABLE deliveries (
    id                uuid PRIMARY KEY,
    message_id        text NOT NULL,
    subscription_id   uuid NOT NULL REFERENCES subscriptions (id),
    type              text NOT NULL,
    channel           text NOT NULL CHECK (channel IN ('webhook', 'email')),
    target            text NOT NULL,
    sequence          bigint NOT NULL,
    body              text NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz,
    lease_owner       uuid,
    lease_expires_at  timestamptz,
    last_attempt_at   timestamptz,
    last_status_code  integer,
    last_error        text,
    failing_since     timestamptz,
    created_at        timestamptz NOT NULL,
    delivered_at      timestamptz,
    UNIQUE (message_id, channel, target)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_at);
