//! Settings: the embedded `config/default.toml`, then an optional `--config` file, then
//! `SKYHOOK_<SECTION>__<KEY>` environment variables. Loading fails with a message naming the
//! offending key; [`Settings::validate`] adds the checks serde cannot express.

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

mod dev;
mod validate;

/// The reference configuration, compiled in so the binary runs with no file at all.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub subscriptions: SubscriptionSettings,
    pub log: LogSettings,
    pub poller: PollerSettings,
    pub carriers: CarriersSettings,
    pub flights: FlightsSettings,
    pub delivery: DeliverySettings,
    pub webhooks: WebhookSettings,
    pub email: EmailSettings,
    pub console: ConsoleSettings,
}

/// The web console (`/console`), for people.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    pub enabled: bool,
    /// How long a sign-in lasts; a revoked key's sessions end at their next request anyway.
    pub session_ttl: HumanDuration,
}

/// The dispatcher that sends queued messages.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliverySettings {
    pub enabled: bool,
    /// Messages in flight at once, across all receivers.
    pub concurrency: u32,
    /// Messages in flight at once to one destination (a webhook host, or the email relay).
    pub per_host_concurrency: u32,
    pub batch_size: u32,
    pub lease: HumanDuration,
    pub idle_wait: HumanDuration,
}

impl DeliverySettings {
    /// Every attempt is cut off at four fifths of its lease, so that its outcome is recorded
    /// while the lease still holds, before any other claim may send the message again.
    pub fn attempt_deadline(&self) -> std::time::Duration {
        self.lease.0.mul_f64(0.8)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    pub retry_schedule: Vec<HumanDuration>,
    pub disable_after: HumanDuration,
    pub timeout: HumanDuration,
    /// Networks exempt from the SSRF guard.
    pub allow_networks: crate::domain::AllowNetworks,
    pub preflight: crate::domain::PreflightMode,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// lettre URL syntax; empty = write `.eml` files to `outbox_dir` instead.
    pub smtp_url: Secret,
    pub from: String,
    pub outbox_dir: std::path::PathBuf,
    pub batch_window: HumanDuration,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub public_url: url::Url,
    pub request_timeout: HumanDuration,
    pub shutdown_timeout: HumanDuration,
    pub auth_cache_ttl: HumanDuration,
    /// How long a client has to send a request's headers, from when it connects or finished
    /// its previous request; also how long a kept-alive connection may sit idle.
    pub header_timeout: HumanDuration,
    /// Connections open at once; the next waits in the listen backlog until one closes.
    pub max_connections: u32,
    /// Requests per API key to `/v1`, per instance.
    pub rate_limit: RateLimitSettings,
    /// How long the response to a request with an `Idempotency-Key` is replayed.
    pub idempotency_window: HumanDuration,
}

/// A token bucket per API key: `burst` requests at once, refilled at `per_second`; a
/// `per_second` of 0 turns the limit off.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSettings {
    pub per_second: f64,
    pub burst: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    /// Postgres: connections of their own for recording delivery outcomes.
    pub outcome_connections: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSettings {
    pub ttl: HumanDuration,
    /// `POST /v1/subscriptions/{id}/test` per subscription per hour.
    pub test_limit: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollerSettings {
    pub enabled: bool,
    pub min_interval: HumanDuration,
    pub max_interval: HumanDuration,
    pub lease: HumanDuration,
    pub batch_size: u32,
    pub idle_wait: HumanDuration,
    /// Events kept per shipment: the latest of what a carrier lists, the earlier ones cut.
    pub max_events_per_shipment: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarriersSettings {
    /// The most of one answer any carrier or flight-status source is read for.
    pub max_response_bytes: usize,
    pub demo: CarrierSettings,
    pub cargoai: CarrierSettings,
    pub trackingmore: CarrierSettings,
    pub lufthansa: CarrierSettings,
}

/// One carrier or aggregator. `step` is the demo carrier's, `batch_size` TrackingMore's,
/// `callback_url`, `tracking_path` and `fetch_delay` Lufthansa's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarrierSettings {
    pub enabled: bool,
    pub base_url: url::Url,
    pub api_key: Secret,
    /// AWB prefixes served; `*` = every prefix no other enabled carrier claims.
    pub prefixes: Vec<String>,
    /// Requests per second.
    pub rate_limit: f64,
    pub concurrency: u32,
    #[serde(default)]
    pub step: Option<HumanDuration>,
    #[serde(default)]
    pub batch_size: Option<u32>,
    /// Lufthansa's: the base its pushes go to, each registration's token appended; unset =
    /// `{server.public_url}/carriers/lufthansa/callback`.
    #[serde(default)]
    pub callback_url: Option<url::Url>,
    /// Lufthansa's Shipment Tracking API under `base_url`; unset = `lh/handling/shipment`.
    #[serde(default)]
    pub tracking_path: Option<String>,
    /// Lufthansa's: how long after a push its fetch waits (seed 002 advises 10s).
    #[serde(default)]
    pub fetch_delay: Option<HumanDuration>,
}

/// Flight-status sources, polled for subscribed flights by the same adaptive schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlightsSettings {
    pub demo: FlightSourceSettings,
    pub flightaware: FlightSourceSettings,
}

/// One flight-status source. `step` is the demo source's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlightSourceSettings {
    pub enabled: bool,
    pub base_url: url::Url,
    pub api_key: Secret,
    /// Airline designators served (`LH`, `DLH`); `*` = every one no other source claims.
    pub designators: Vec<String>,
    /// Requests per second.
    pub rate_limit: f64,
    pub concurrency: u32,
    #[serde(default)]
    pub step: Option<HumanDuration>,
}

impl FlightsSettings {
    pub fn all(&self) -> [(&'static str, &FlightSourceSettings); 2] {
        [("demo", &self.demo), ("flightaware", &self.flightaware)]
    }
}

/// A credential: usable, but never printed by `Debug`.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "Secret(<empty>)"
        } else {
            "Secret(<redacted>)"
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

impl CarriersSettings {
    pub fn all(&self) -> [(&'static str, &CarrierSettings); 4] {
        [
            ("demo", &self.demo),
            ("cargoai", &self.cargoai),
            ("trackingmore", &self.trackingmore),
            ("lufthansa", &self.lufthansa),
        ]
    }
}

/// A duration written for people: `"500ms"`, `"30s"`, `"21d"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map(Self).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{text}` is not a duration ({e}); write e.g. \"500ms\", \"30s\", \"21d\""
            ))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration file `{0}` does not exist")]
    MissingFile(String),
    #[error("invalid configuration: {0}")]
    Invalid(String),
    #[error("invalid configuration: `{key}` {reason}")]
    Value { key: String, reason: String },
}

/// One line per problem, naming the key as written in the TOML (`subscriptions.ttl`) and where
/// the bad value came from; figment itself reports environment keys upper-cased.
fn describe(error: figment::Error) -> ConfigError {
    let problems: Vec<String> = error
        .into_iter()
        .map(|e| {
            let key = e.path.join(".").to_ascii_lowercase();
            let source = e
                .metadata
                .as_ref()
                .map(|m| format!(" (from {})", m.name))
                .unwrap_or_default();
            if key.is_empty() {
                format!("{}{source}", e.kind)
            } else {
                format!("`{key}`: {}{source}", e.kind)
            }
        })
        .collect();
    ConfigError::Invalid(problems.join("; "))
}

impl Settings {
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_CONFIG));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::MissingFile(path.display().to_string()));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        // Only SECTION__KEY variables are configuration; SKYHOOK_CONFIG and friends are not.
        let env = Env::prefixed("SKYHOOK_")
            .filter(|key| key.as_str().contains("__"))
            .split("__");
        let settings: Settings = figment.merge(env).extract().map_err(describe)?;
        settings.validate()?;
        Ok(settings)
    }
}
