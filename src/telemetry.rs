//! Logging and metrics set-up, shared by the server and the CLI.

use crate::config::LogFormat;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// Installs the global tracing subscriber, writing to stderr so stdout stays clean for command
/// output. `RUST_LOG` wins over the configured level. Safe to call more than once.
pub fn init_tracing(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// The process-wide Prometheus recorder. Metrics are global in the `metrics` crate, so every
/// server in one process (as in tests) shares it.
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .expect("static buckets are valid")
                .build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (e.g. by an embedding program); then
            // our handle simply renders nothing, which is better than refusing to start.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// rustls needs one process-wide crypto provider; we use ring everywhere (sqlx, reqwest,
/// lettre) and never OpenSSL.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Counts what a write queued (`skyhook_messages_queued_total{channel}`), after it committed.
pub fn count_queued(queued: crate::store::Queued) {
    metrics::counter!("skyhook_messages_queued_total", "channel" => "webhook")
        .increment(queued.webhooks);
    metrics::counter!("skyhook_messages_queued_total", "channel" => "email")
        .increment(queued.emails);
    metrics::counter!("skyhook_messages_queued_total", "channel" => "feed").increment(queued.feed);
}
