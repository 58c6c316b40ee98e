//! The one place that wires everything. From the settings it opens the store and builds the
//! carriers and flight-status sources, the shipment and flight pollers (`poller.enabled`),
//! the dispatcher (`delivery.enabled`), the callback guard and preflight client, the carrier
//! push intake and the HTTP API; [`Application::run_until_stopped`] then serves the API and
//! runs the workers under one cancellation token, so a shutdown stops them all together.

use crate::api::serve::ServeLimits;
use crate::api::{self, AppState};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::console;
use crate::dispatch::{self, Dispatcher};
use crate::ingest::SourceHttp;
use crate::ingest::flights::{FlightPoller, FlightSources};
use crate::ingest::shipments::{Carriers, Poller, Pushes};
use crate::store::{self, Store};
use crate::telemetry;
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    store: Arc<dyn Store>,
    poller: Option<Arc<Poller>>,
    flight_poller: Option<Arc<FlightPoller>>,
    dispatcher: Option<Arc<Dispatcher>>,
    shutdown: CancellationToken,
    shutdown_timeout: Duration,
    limits: ServeLimits,
}

/// Connects to the configured database and applies pending migrations.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = store::connect_with(
        &settings.database.url,
        store::ConnectOptions {
            max_connections: settings.database.max_connections,
            outcome_connections: settings.database.outcome_connections,
            email_batch_window: chrono::TimeDelta::from_std(settings.email.batch_window.0)
                .unwrap_or(chrono::TimeDelta::MAX),
            poll_spacing: chrono::TimeDelta::from_std(settings.poller.min_interval.0)
                .unwrap_or(chrono::TimeDelta::MAX),
        },
    )
    .await
    .with_context(|| format!("cannot open database `{}`", redact(&settings.database.url)))?;
    store.migrate().await.context("cannot migrate database")?;
    Ok(store)
}

/// The client carriers and flight-status sources call through: every answer is read through
/// one bound.
fn source_http(settings: &Settings) -> anyhow::Result<SourceHttp> {
    let http = reqwest::Client::builder()
        .user_agent(concat!("skyhook/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot build the HTTP client")?;
    Ok(SourceHttp::new(http, settings.carriers.max_response_bytes))
}

/// The configured carriers; Lufthansa's callback defaults to this server's public URL.
fn carriers(
    settings: &Settings,
    http: SourceHttp,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Carriers> {
    let mut carrier_settings = settings.carriers.clone();
    carrier_settings
        .lufthansa
        .callback_url
        .get_or_insert_with(|| {
            crate::ingest::shipments::lufthansa_callback(&settings.server.public_url)
        });
    Carriers::from_settings(&carrier_settings, http, clock).context("invalid carrier configuration")
}

/// How callback URLs are vetted when subscriptions are made or changed.
fn callback_check(settings: &Settings) -> anyhow::Result<api::CallbackCheck> {
    let clients = dispatch::GuardedClients::new(
        settings.webhooks.allow_networks.clone(),
        dispatch::worker::USER_AGENT,
    );
    clients
        .for_tenant(&Default::default())
        .context("cannot build the preflight HTTP client")?;
    Ok(api::CallbackCheck {
        clients,
        preflight: settings.webhooks.preflight,
    })
}

/// What creating subscriptions needs without the HTTP API (`skyhook import`): the same
/// carriers, callback checks and lifetime the server uses.
pub fn subscribing(
    settings: &Settings,
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<api::subscriptions::Subscribing> {
    telemetry::install_crypto_provider();
    Ok(api::subscriptions::Subscribing {
        carriers: Arc::new(carriers(settings, source_http(settings)?, clock.clone())?),
        callbacks: Arc::new(callback_check(settings)?),
        store,
        clock,
        ttl: settings.subscriptions.ttl.0,
    })
}

impl Application {
    /// Opens the database, migrates it and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = open_store(&settings).await?;
        Self::build_with(settings, store, Arc::new(SystemClock)).await
    }

    /// Like [`Application::build`] with the store and clock supplied, for tests.
    pub async fn build_with(
        settings: Settings,
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        telemetry::install_crypto_provider();
        let http = source_http(&settings)?;
        let carriers = Arc::new(carriers(&settings, http.clone(), clock.clone())?);
        let flight_sources = Arc::new(
            FlightSources::from_settings(&settings.flights, http, clock.clone())
                .context("invalid flight source configuration")?,
        );
        // It runs without any source too: carriers' AWB data still updates flights, and its
        // checks complete subscriptions to flights that ended before they were made.
        let flight_poller = settings.poller.enabled.then(|| {
            FlightPoller::new(
                store.clone(),
                flight_sources.clone(),
                clock.clone(),
                settings.poller.clone(),
            )
        });
        let poller = settings.poller.enabled.then(|| {
            Poller::new(
                store.clone(),
                store.clone(),
                carriers.clone(),
                clock.clone(),
                settings.poller.clone(),
            )
        });
        let dispatcher = if settings.delivery.enabled {
            Some(
                Dispatcher::from_settings(store.clone(), clock.clone(), &settings)
                    .context("invalid delivery configuration")?,
            )
        } else {
            None
        };
        let fetch_delay = settings.carriers.lufthansa.fetch_delay;
        let pushes = Arc::new(Pushes::new(
            store.clone(),
            clock.clone(),
            fetch_delay.map_or(Duration::from_secs(10), |d| d.0),
        ));
        let request_timeout = settings.server.request_timeout.0;
        let state = AppState {
            feed_max_wait: api::messages::MAX_WAIT
                .min(request_timeout.saturating_sub(Duration::from_secs(1))),
            store: store.clone(),
            pushes,
            clock,
            metrics: telemetry::metrics_handle(),
            subscription_ttl: settings.subscriptions.ttl.0,
            keys: Arc::new(api::auth::KeyCache::new(settings.server.auth_cache_ttl.0)),
            carriers,
            flight_sources,
            callbacks: Arc::new(callback_check(&settings)?),
            safety: Arc::new(api::safety::Safety::from_settings(&settings)),
        };
        let console = settings
            .console
            .enabled
            .then(|| console::router(console::ConsoleConfig::from_settings(&settings)));
        let router = api::router(state, request_timeout, console);
        let listener = TcpListener::bind(settings.server.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
        Ok(Self {
            listener,
            router,
            store,
            poller,
            flight_poller,
            dispatcher,
            shutdown: CancellationToken::new(),
            shutdown_timeout: settings.server.shutdown_timeout.0,
            limits: ServeLimits {
                header_timeout: settings.server.header_timeout.0,
                max_connections: settings.server.max_connections as usize,
            },
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Cancel it to stop the application gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled, then lets in-flight requests finish for at
    /// most `server.shutdown_timeout`.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(
            address = %self.local_addr(),
            database = self.store.backend(),
            "skyhook listening"
        );
        let workers = tokio_util::task::TaskTracker::new();
        if self.poller.is_some() || self.flight_poller.is_some() || self.dispatcher.is_some() {
            let (store, shutdown) = (self.store.clone(), self.shutdown.clone());
            workers.spawn(async move { store.relay_notices(shutdown).await });
        }
        if let Some(poller) = self.poller.clone() {
            workers.spawn(poller.run(self.shutdown.clone()));
        }
        if let Some(flight_poller) = self.flight_poller.clone() {
            workers.spawn(flight_poller.run(self.shutdown.clone()));
        }
        if let Some(dispatcher) = self.dispatcher.clone() {
            workers.spawn(dispatcher.run(self.shutdown.clone()));
        }
        workers.close();
        let server = api::serve::serve(
            self.listener,
            self.router,
            self.limits,
            self.shutdown.clone(),
        );
        let deadline = async {
            self.shutdown.cancelled().await;
            tokio::time::sleep(self.shutdown_timeout).await;
        };
        tokio::select! {
            () = server => {}
            () = deadline => tracing::warn!(
                timeout = ?self.shutdown_timeout,
                "in-flight requests did not finish before the shutdown deadline"
            ),
        }
        // Workers finish the round they are in (their claims are otherwise retried once the
        // leases expire).
        if tokio::time::timeout(self.shutdown_timeout, workers.wait())
            .await
            .is_err()
        {
            tracing::warn!("background workers did not stop before the shutdown deadline");
        }
        tracing::info!("skyhook stopped");
        Ok(())
    }
}

/// Cancels the token on SIGINT or SIGTERM.
pub fn cancel_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(err) => {
                    tracing::error!(error = %err, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutdown requested");
        token.cancel();
    });
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
