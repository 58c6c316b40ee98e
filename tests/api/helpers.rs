//! The test harness: a real Skyhook server on a random port, on a fresh database of either
//! backend, and a client to call it.

use serde_json::Value;
use skyhook::app::Application;
use skyhook::clock::SystemClock;
use skyhook::config::Settings;
use skyhook::domain::{ApiKey, KeyName};
use skyhook::store::{self, Store};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Which database a test runs against.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// A Postgres server where the test may create databases.
    Postgres(String),
}

impl Backend {
    /// Postgres from `SKYHOOK_TEST_DATABASE_URL`; without it the test says it was skipped.
    pub fn postgres() -> Option<Self> {
        match std::env::var("SKYHOOK_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Self::Postgres(url)),
            _ => {
                eprintln!(
                    "SKIPPED: SKYHOOK_TEST_DATABASE_URL is not set, so this Postgres test did not run"
                );
                None
            }
        }
    }
}

/// Runs each named `async fn(Backend)` once per backend, as `name::sqlite` and `name::postgres`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(backend) = $crate::helpers::Backend::postgres() {
                    super::$name(backend).await
                }
            }
        }
    )*};
}
pub(crate) use on_both_backends;

/// Runs each named `async fn(Backend)` on Postgres only, as `name::postgres`: for what only
/// several instances on one database do.
macro_rules! on_postgres_only {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn postgres() {
                if let Some(backend) = $crate::helpers::Backend::postgres() {
                    super::$name(backend).await
                }
            }
        }
    )*};
}
pub(crate) use on_postgres_only;

/// A fresh, empty database; dropped (Postgres) or deleted (SQLite) with the value.
pub struct TestDb {
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn create(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("skyhook.db").display());
                Self {
                    url,
                    admin: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres(server) => {
                let name = format!("skyhook_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(server)
                    .await
                    .expect("SKYHOOK_TEST_DATABASE_URL must point at a reachable Postgres");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(server).expect("valid Postgres URL");
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    admin: Some((server.clone(), name)),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.admin.take() else {
            return;
        };
        // Drop cannot be async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut conn) =
                    <sqlx::PgConnection as sqlx::Connection>::connect(&server).await
                {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Arc<dyn Store>,
    pub db: TestDb,
    shutdown: CancellationToken,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn test_settings(database_url: &str) -> Settings {
    let mut settings = Settings::load(None).expect("default settings load");
    settings.server.listen = "127.0.0.1:0".parse().unwrap();
    settings.database.url = database_url.to_owned();
    settings.database.max_connections = 5;
    // Tests revoke keys and expect it to bite at once.
    settings.server.auth_cache_ttl = skyhook::config::HumanDuration(std::time::Duration::ZERO);
    // API tests need a carrier for every prefix but must not poll; tests of the tracking
    // engine point a carrier at a fake server and enable the poller themselves.
    settings.poller.enabled = false;
    // Delivery tests start the dispatcher themselves, against local receivers.
    settings.delivery.enabled = false;
    settings.webhooks.preflight = skyhook::domain::PreflightMode::Off;
    settings.email.batch_window = skyhook::config::HumanDuration(std::time::Duration::ZERO);
    let cargoai = &mut settings.carriers.cargoai;
    cargoai.enabled = true;
    cargoai.prefixes = vec!["*".to_owned()];
    cargoai.base_url = "http://127.0.0.1:9/".parse().unwrap();
    cargoai.api_key = skyhook::config::Secret::new("test-key");
    settings
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// Like [`spawn_app`], with the test settings adjusted first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on_clock(backend, Arc::new(SystemClock), adjust).await
}

/// Like [`spawn_app_with`], the server moved by `clock` (a test's manual clock).
pub async fn spawn_app_on_clock(
    backend: Backend,
    clock: Arc<dyn skyhook::clock::Clock>,
    adjust: impl FnOnce(&mut Settings),
) -> TestApp {
    skyhook::telemetry::install_crypto_provider();
    let db = TestDb::create(&backend).await;
    let mut settings = test_settings(&db.url);
    adjust(&mut settings);
    let store = skyhook::app::open_store(&settings)
        .await
        .expect("open store");
    let app = Application::build_with(settings, store.clone(), clock)
        .await
        .expect("build app");
    let address = format!("http://{}", app.local_addr());
    let shutdown = app.shutdown_token();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        store,
        db,
        shutdown,
    }
}

/// A shipment poller over `store` with the carriers of `settings`, moved by `clock`: the
/// server's own is off in tests, so tests poll with this one when they choose.
pub fn poller(
    store: Arc<dyn Store>,
    settings: &Settings,
    clock: Arc<dyn skyhook::clock::Clock>,
) -> Arc<skyhook::ingest::shipments::Poller> {
    let carriers = skyhook::ingest::shipments::Carriers::from_settings(
        &settings.carriers,
        source_http(settings),
        clock.clone(),
    )
    .unwrap();
    skyhook::ingest::shipments::Poller::new(
        store.clone(),
        store,
        Arc::new(carriers),
        clock,
        settings.poller.clone(),
    )
}

/// The client sources call through, with the answer limit of `settings`, as the server's.
pub fn source_http(settings: &Settings) -> skyhook::ingest::SourceHttp {
    skyhook::ingest::SourceHttp::new(reqwest::Client::new(), settings.carriers.max_response_bytes)
}

/// Opens a store on a fresh database without a server, for the conformance suite.
pub async fn fresh_store(backend: &Backend) -> (Arc<dyn Store>, TestDb) {
    let db = TestDb::create(backend).await;
    let store = store::connect(&db.url, 5).await.expect("connect");
    store.migrate().await.expect("migrate");
    (store, db)
}

/// A response's status and JSON body (`Null` when empty).
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    pub async fn of(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply {
            status,
            body,
            headers,
        }
    }

    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn error_name(&self) -> &str {
        self.body["error"].as_str().unwrap_or("<none>")
    }

    /// Asserts an error status and name, returning the message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, name: &str) -> String {
        assert_eq!(
            (self.status, self.error_name()),
            (status, name),
            "body: {}",
            self.body
        );
        self.body["message"].as_str().unwrap_or_default().to_owned()
    }
}

impl TestApp {
    /// Creates an API key the way `skyhook keys create` does and returns it.
    pub async fn create_key(&self, name: &str) -> String {
        let key = ApiKey::generate();
        self.store
            .create_api_key(
                &KeyName::parse(name).unwrap(),
                &key.hash(),
                chrono::Utc::now(),
            )
            .await
            .expect("create key");
        key.expose().to_owned()
    }

    pub async fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.address, path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        Reply::of(request.send().await.expect("request sent")).await
    }

    /// A POST with headers of the test's own (`Idempotency-Key` and such).
    pub async fn post_with(
        &self,
        path: &str,
        key: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{}", self.address, path))
            .bearer_auth(key)
            .json(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Reply::of(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, key: &str) -> Reply {
        self.request(reqwest::Method::GET, path, Some(key), None)
            .await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> Reply {
        self.request(reqwest::Method::POST, path, Some(key), Some(&body))
            .await
    }

    pub async fn put(&self, path: &str, key: &str, body: Value) -> Reply {
        self.request(reqwest::Method::PUT, path, Some(key), Some(&body))
            .await
    }

    pub async fn delete(&self, path: &str, key: &str) -> Reply {
        self.request(reqwest::Method::DELETE, path, Some(key), None)
            .await
    }

    pub async fn subscribe(&self, key: &str, body: Value) -> Reply {
        self.post("/v1/subscriptions", key, body).await
    }

    /// Creates a subscription that must succeed and returns its body.
    pub async fn subscribed(&self, key: &str, body: Value) -> Value {
        let reply = self.subscribe(key, body).await;
        assert_eq!(reply.status, 201, "create failed: {}", reply.body);
        reply.body
    }

    /// All of a tenant's subscriptions (first page of 200).
    pub async fn all_subscriptions(&self, key: &str) -> Vec<Value> {
        let reply = self.get("/v1/subscriptions?limit=200", key).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["items"].as_array().cloned().unwrap_or_default()
    }
}

/// A valid AWB with the given 7-digit serial stem (check digit computed).
pub fn awb(prefix: &str, serial7: u32) -> String {
    format!("{prefix}-{serial7:07}{}", serial7 % 7)
}

pub fn hook(n: u32) -> String {
    format!("https://tms.example.com/hooks/{n}")
}
