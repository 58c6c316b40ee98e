//! The checks of [`Settings`] that serde cannot express: ranges, and settings that must agree
//! with each other. Each failure names the key as written in the TOML.

use super::{ConfigError, Secret, Settings};
use std::time::Duration;

impl Settings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let fail = |key: &str, reason: &str| {
            Err(ConfigError::Value {
                key: key.to_owned(),
                reason: reason.to_owned(),
            })
        };
        if !matches!(self.server.public_url.scheme(), "http" | "https") {
            return fail("server.public_url", "must be an http:// or https:// URL");
        }
        let url = &self.database.url;
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return fail(
                "database.url",
                "must start with sqlite:// (embedded) or postgres:// (server)",
            );
        }
        if self.database.max_connections == 0 {
            return fail("database.max_connections", "must be at least 1");
        }
        if self.database.outcome_connections == 0 {
            return fail("database.outcome_connections", "must be at least 1");
        }
        if self.subscriptions.ttl.0 < Duration::from_secs(60) {
            return fail("subscriptions.ttl", "must be at least one minute");
        }
        if self.console.session_ttl.0 < Duration::from_secs(60) {
            return fail("console.session_ttl", "must be at least one minute");
        }
        if self.server.request_timeout.0.is_zero() {
            return fail("server.request_timeout", "must be greater than zero");
        }
        if self.server.header_timeout.0.is_zero() {
            return fail("server.header_timeout", "must be greater than zero");
        }
        if self.server.max_connections == 0 {
            return fail("server.max_connections", "must be at least 1");
        }
        let rate = self.server.rate_limit;
        if !rate.per_second.is_finite() || rate.per_second < 0.0 {
            return fail(
                "server.rate_limit.per_second",
                "must be a number of requests per second, 0 for no limit",
            );
        }
        if rate.per_second > 0.0 && rate.burst == 0 {
            return fail("server.rate_limit.burst", "must be at least 1");
        }
        if self.server.idempotency_window.0 < Duration::from_secs(60) {
            return fail("server.idempotency_window", "must be at least one minute");
        }
        if self.subscriptions.test_limit == 0 {
            return fail("subscriptions.test_limit", "must be at least 1");
        }
        if self.poller.min_interval.0.is_zero()
            || self.poller.min_interval.0 > self.poller.max_interval.0
        {
            return fail(
                "poller.min_interval",
                "must be greater than zero and at most poller.max_interval",
            );
        }
        if self.poller.batch_size == 0 {
            return fail("poller.batch_size", "must be at least 1");
        }
        if self.poller.max_events_per_shipment == 0 {
            return fail("poller.max_events_per_shipment", "must be at least 1");
        }
        if !(1024..=1 << 30).contains(&self.carriers.max_response_bytes) {
            return fail(
                "carriers.max_response_bytes",
                "must be between 1024 (1 KiB) and 1073741824 (1 GiB)",
            );
        }
        for (name, carrier) in self.carriers.all() {
            if !carrier.enabled {
                continue;
            }
            let key = |field: &str| format!("carriers.{name}.{field}");
            check_throttle(&key, carrier.rate_limit, carrier.concurrency)?;
            if let Some(bad) = carrier
                .prefixes
                .iter()
                .find(|p| !(*p == "*" || (p.len() == 3 && p.chars().all(|c| c.is_ascii_digit()))))
            {
                return Err(ConfigError::Value {
                    key: key("prefixes"),
                    reason: format!("has `{bad}`; prefixes are 3 digits or \"*\""),
                });
            }
            // TrackingMore refuses more than 200 AWBs per request (its meta code 4020).
            if carrier
                .batch_size
                .is_some_and(|size| !(1..=200).contains(&size))
            {
                return fail(&key("batch_size"), "must be between 1 and 200");
            }
            check_api_key(&key, name, &carrier.api_key, "carrier")?;
            if carrier.tracking_path.as_deref().is_some_and(|path| {
                let path = path.trim_matches('/');
                path.is_empty() || path.contains(['?', '#', ' ']) || path.contains("://")
            }) {
                return fail(
                    &key("tracking_path"),
                    "must be a path under base_url, such as \"lh/handling/shipment\"",
                );
            }
        }
        for (name, source) in self.flights.all() {
            if !source.enabled {
                continue;
            }
            let key = |field: &str| format!("flights.{name}.{field}");
            check_throttle(&key, source.rate_limit, source.concurrency)?;
            if let Some(bad) = source.designators.iter().find(|d| {
                !(*d == "*"
                    || ((2..=3).contains(&d.len()) && d.chars().all(|c| c.is_ascii_alphanumeric())))
            }) {
                return Err(ConfigError::Value {
                    key: key("designators"),
                    reason: format!(
                        "has `{bad}`; designators are 2-character IATA or 3-letter ICAO codes, or \"*\""
                    ),
                });
            }
            check_api_key(&key, name, &source.api_key, "source")?;
        }
        if self.delivery.concurrency == 0 || self.delivery.batch_size == 0 {
            return fail(
                "delivery.concurrency",
                "and delivery.batch_size must be at least 1",
            );
        }
        if self.delivery.per_host_concurrency == 0 {
            return fail("delivery.per_host_concurrency", "must be at least 1");
        }
        if self.delivery.attempt_deadline() <= self.webhooks.timeout.0 {
            return fail(
                "delivery.lease",
                "must be more than 1.25 × webhooks.timeout: every attempt is cut off at four \
                 fifths of the lease, and a webhook needs its whole timeout",
            );
        }
        if self.webhooks.timeout.0.is_zero() {
            return fail("webhooks.timeout", "must be greater than zero");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return fail("log.level", "is not a valid filter such as \"info\"");
        }
        Ok(())
    }
}

/// What every enabled carrier and flight-status source is called under: a positive rate and at
/// least one request at a time.
fn check_throttle(
    key: &dyn Fn(&str) -> String,
    rate_limit: f64,
    concurrency: u32,
) -> Result<(), ConfigError> {
    if rate_limit.is_nan() || rate_limit <= 0.0 {
        return Err(ConfigError::Value {
            key: key("rate_limit"),
            reason: "must be a positive number of requests per second".to_owned(),
        });
    }
    if concurrency == 0 {
        return Err(ConfigError::Value {
            key: key("concurrency"),
            reason: "must be at least 1".to_owned(),
        });
    }
    Ok(())
}

/// An enabled carrier or source (`kind`) needs its key; the sandboxes (`demo`) have none.
fn check_api_key(
    key: &dyn Fn(&str) -> String,
    name: &str,
    api_key: &Secret,
    kind: &str,
) -> Result<(), ConfigError> {
    if name != "demo" && api_key.expose().is_empty() {
        return Err(ConfigError::Value {
            key: key("api_key"),
            reason: format!("is required when the {kind} is enabled"),
        });
    }
    Ok(())
}
