//! Skyhook: a self-hosted air cargo tracking subscription server.
//!
//! Module map (dependencies point downwards only; `app` alone knows everything):
//! - [`app`]: wires configuration, storage, the HTTP API and background workers together.
//! - [`api`]: the HTTP layer (axum routers, DTOs, the one API error type, authentication).
//! - [`carriers`]: tracking sources (carrier and aggregator adapters) and their registry.
//! - [`flights`]: flight-status sources (the demo sandbox, FlightAware AeroAPI) and their
//!   registry.
//! - [`poller`]: claims due shipments, fetches, diffs and records what is new.
//! - [`flight_poller`]: the same for subscribed flights, against the flight-status sources.
//! - [`pushes`]: applies what push carriers (Lufthansa) send, by the poller's rules.
//! - [`dispatch`]: outbound delivery of queued messages (signed webhooks with
//!   retries and an SSRF guard, email).
//! - [`store`]: the [`store::Store`] trait with its Postgres and SQLite implementations.
//! - [`domain`]: pure types and rules: AWBs, flights, subscriptions, channels, states.
//! - [`config`]: layered settings (embedded defaults → file → environment).
//! - [`cli`]: the command-line interface.
//! - [`clock`]: time as an injectable dependency.

pub mod api;
pub mod app;
pub mod carriers;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod domain;
pub mod flight_poller;
pub mod flights;
pub mod poller;
pub mod pushes;
pub mod store;
pub mod telemetry;
