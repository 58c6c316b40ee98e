//! Skyhook: a self-hosted air cargo tracking subscription server.
//!
//! Module map (dependencies point downwards only; `app` alone knows everything):
//! - [`app`]: wires configuration, storage, the HTTP API and background workers together.
//! - [`api`]: the HTTP layer (axum routers, DTOs, the one API error type, authentication).
//! - [`console`]: the web console for people (server-rendered pages on the API's operations).
//! - [`ingest`]: what comes in, as one pipeline (claim → fetch → normalise → diff → record):
//!   [`ingest::shipments`] (carriers and aggregators, the poller, carrier pushes) and
//!   [`ingest::flights`] (flight-status sources and the flight poller).
//! - [`dispatch`]: outbound delivery of queued messages (signed webhooks with
//!   retries and an SSRF guard, email).
//! - `rounds`: the round loop the dispatcher and the pollers run in.
//! - [`store`]: one narrow port per consumer, [`store::Store`] (all of them), and
//!   [`store::SqlStore`], which implements each once for Postgres and SQLite.
//! - [`domain`]: pure types and rules: AWBs, flights, subscriptions, channels, states.
//! - [`config`]: layered settings (embedded defaults → file → environment).
//! - [`cli`]: the command-line interface.
//! - [`clock`]: time as an injectable dependency.

pub mod api;
pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod dispatch;
pub mod domain;
pub mod ingest;
mod rounds;
pub mod store;
pub mod telemetry;
