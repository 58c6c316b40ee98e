//! The command line: `skyhook [serve [--dev]]`, `migrate`, `keys create|list|revoke`, `import`,
//! `openapi`, `healthcheck`, and `listen` (a development webhook receiver, `cli/listen.rs`).

mod import;
mod listen;

use crate::app::{self, Application};
use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::domain::{AllowNetworks, ApiKey, KeyName};
use crate::telemetry;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "skyhook",
    version,
    about = "Self-hosted air cargo tracking subscriptions"
)]
pub struct Cli {
    /// TOML file overriding the built-in defaults (see config/default.toml).
    #[arg(long, global = true, env = "SKYHOOK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys; each key is its own tenant.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Subscribe the AWBs of a CSV file (columns awb,url,emails,reference) for an API key, as
    /// `POST /v1/subscriptions/batch` would, 1,000 rows at a time; rejected rows are written,
    /// each with its error, to FILE.rejected.csv beside it. Exits 1 when any row was rejected.
    Import {
        #[arg(value_name = "FILE.csv")]
        file: PathBuf,
        /// The API key (by name, see `skyhook keys list`) whose tenant gets the subscriptions.
        #[arg(long, value_name = "NAME")]
        key_name: String,
        /// Where to write the rejected rows instead.
        #[arg(long, value_name = "PATH")]
        rejected: Option<PathBuf>,
    },
    /// Print the OpenAPI document.
    Openapi,
    /// Exit 0 when the local server answers /readyz (for container health checks).
    Healthcheck,
    /// A webhook receiver for development: prints each delivery and whether its signature
    /// verified, and answers 2xx.
    Listen {
        /// Port on 127.0.0.1.
        #[arg(long, default_value_t = 9000)]
        port: u16,
        /// The subscription's signingSecret (or paste it on standard input once listening).
        #[arg(long, value_name = "whsec_…")]
        secret: Option<String>,
    },
}

#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Development mode: callbacks may reach this machine (e.g. `skyhook listen`), and the
    /// demo carrier and flight sandbox move every few seconds. Never in production.
    #[arg(long)]
    pub dev: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once, alone on the last line.
    Create {
        name: String,
        /// A private network (CIDR, e.g. 10.20.0.0/16) this key's callbacks may reach, such as
        /// its tenant's TMS network; repeat for more. Answers from it are kept in the delivery
        /// log; other tenants' callbacks cannot reach it.
        #[arg(long = "allow-network", value_name = "CIDR")]
        allow_networks: Vec<String>,
    },
    /// Replace the private networks a key's callbacks may reach (none given: none).
    SetNetworks {
        name: String,
        #[arg(value_name = "CIDR")]
        networks: Vec<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key: it stops authenticating within `server.auth_cache_ttl`.
    Revoke { name: String },
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let command = cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()));
    match command {
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::api::openapi_document())?
            );
            return Ok(ExitCode::SUCCESS);
        }
        // Needs no configuration or database: it only receives.
        Command::Listen { port, secret } => return listen::run(port, secret).await,
        _ => {}
    }
    let mut settings = Settings::load(cli.config.as_deref())?;
    let relaxed = match &command {
        Command::Serve(ServeArgs { dev: true }) => settings.relax_for_development(),
        _ => Vec::new(),
    };
    telemetry::init_tracing(settings.log.format, &settings.log.level);
    telemetry::install_crypto_provider();
    if !relaxed.is_empty() {
        println!(
            "DEVELOPMENT MODE (--dev): relaxed for a trial on this machine, never for production:"
        );
        for relaxation in &relaxed {
            println!("  - {relaxation}");
        }
    }
    match command {
        Command::Serve(_) => serve(settings).await,
        Command::Migrate => {
            app::open_store(&settings).await?;
            println!("database is up to date");
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(keys) => run_keys(&settings, keys).await,
        Command::Import {
            file,
            key_name,
            rejected,
        } => run_import(&settings, &file, &key_name, rejected).await,
        Command::Healthcheck => healthcheck(&settings).await,
        Command::Openapi | Command::Listen { .. } => unreachable!("handled above"),
    }
}

async fn serve(settings: Settings) -> anyhow::Result<ExitCode> {
    let app = Application::build(settings).await?;
    app::cancel_on_signal(app.shutdown_token());
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

async fn run_keys(settings: &Settings, command: KeysCommand) -> anyhow::Result<ExitCode> {
    let store = app::open_store(settings).await?;
    let now = SystemClock.now();
    match command {
        KeysCommand::Create {
            name,
            allow_networks,
        } => {
            let name = KeyName::parse(&name)?;
            let networks = AllowNetworks::parse(&allow_networks)?;
            let key = ApiKey::generate();
            let info = store.create_api_key(&name, &key.hash(), now).await?;
            if !networks.is_empty() {
                store.set_allowed_networks(&name, &networks).await?;
            }
            println!(
                "Created API key `{}` (tenant {}). It is shown only now; store it safely:",
                info.name, info.id
            );
            println!("{}", key.expose());
        }
        KeysCommand::SetNetworks { name, networks } => {
            let name = KeyName::parse(&name)?;
            let networks = AllowNetworks::parse(&networks)?;
            if !store.set_allowed_networks(&name, &networks).await? {
                eprintln!("no active API key named `{}`", name.as_str());
                return Ok(ExitCode::FAILURE);
            }
            println!(
                "API key `{}` may reach: {}",
                name.as_str(),
                describe_networks(&networks)
            );
        }
        KeysCommand::List => {
            let keys = store.list_api_keys().await?;
            if keys.is_empty() {
                println!("no API keys; create one with `skyhook keys create NAME`");
            }
            for key in keys {
                let status = key
                    .revoked_at
                    .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}"));
                println!(
                    "{:<24} created {}  {status}  networks: {}",
                    key.name,
                    key.created_at,
                    describe_networks(&key.allow_networks)
                );
            }
        }
        KeysCommand::Revoke { name } => {
            let name = KeyName::parse(&name)?;
            if !store.revoke_api_key(&name, now).await? {
                eprintln!("no active API key named `{}`", name.as_str());
                return Ok(ExitCode::FAILURE);
            }
            println!("revoked API key `{}`", name.as_str());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn run_import(
    settings: &Settings,
    file: &std::path::Path,
    key_name: &str,
    rejected: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let store = app::open_store(settings).await?;
    let name = KeyName::parse(key_name)?;
    let Some(info) = store
        .list_api_keys()
        .await?
        .into_iter()
        .find(|k| k.name == name.as_str() && k.revoked_at.is_none())
    else {
        eprintln!(
            "no active API key named `{}`; see `skyhook keys list`",
            name.as_str()
        );
        return Ok(ExitCode::FAILURE);
    };
    let key = import::ImportKey {
        name: info.name,
        tenant: info.id,
        networks: info.allow_networks,
    };
    let subscribing = app::subscribing(settings, store, std::sync::Arc::new(SystemClock))?;
    import::run(&subscribing, &key, file, rejected).await
}

/// `10.0.0.0/8, fd00::/8`, or `public only`.
fn describe_networks(networks: &AllowNetworks) -> String {
    if networks.is_empty() {
        "public only".to_owned()
    } else {
        networks.to_strings().join(", ")
    }
}

async fn healthcheck(settings: &Settings) -> anyhow::Result<ExitCode> {
    let mut address = settings.server.listen;
    if address.ip().is_unspecified() {
        address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .context("cannot build HTTP client")?;
    match client.get(format!("http://{address}/readyz")).send().await {
        Ok(response) if response.status().is_success() => Ok(ExitCode::SUCCESS),
        Ok(response) => {
            eprintln!("not ready: /readyz answered {}", response.status());
            Ok(ExitCode::FAILURE)
        }
        Err(err) => {
            eprintln!("not ready: {err}");
            Ok(ExitCode::FAILURE)
        }
    }
}
