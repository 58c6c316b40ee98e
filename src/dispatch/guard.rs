//! The SSRF guard on callback URLs: which hosts Skyhook may POST to.
//!
//! Two checks, because neither alone is enough:
//! - [`CallbackGuard::check`] at subscribe time, so a client learns at once that its URL points
//!   somewhere Skyhook will not call. DNS can change after that, so it proves nothing later.
//! - [`GuardedResolver`] at send time, inside the HTTP client: the addresses a connection is
//!   actually made to are filtered, which also defeats DNS rebinding. reqwest never asks a
//!   resolver about IP-literal hosts (`http://127.0.0.1/`), so senders must call
//!   [`CallbackGuard::check_literal`] before every request as well.
//!
//! What is forbidden, and the operator's exemptions, are `domain::netguard`'s rules.

use crate::domain::{AllowNetworks, Forbidden};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::{Host, Url};

/// How long the subscribe-time check waits for DNS before giving up (and letting the URL
/// through, see [`CallbackGuard::check`]), so a slow resolver cannot stall the API.
const CHECK_RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// Connect timeout of [`guarded_client_builder`]'s clients.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("callback URL has no host")]
    NoHost,
    /// The URL's host is an IP address that is forbidden.
    #[error("callback host {host} is {reason}")]
    ForbiddenHost { host: String, reason: Forbidden },
    /// The host name resolves to a forbidden address. The message (which tenants see, at
    /// subscribe time and in the delivery log) names neither the address nor its kind: with
    /// it, any tenant could map which internal names exist and where they point. `reason` is
    /// for the operator's log.
    #[error(
        "callback host {host} does not resolve to a public address (see webhooks.allow_networks)"
    )]
    ForbiddenResolution { host: String, reason: Forbidden },
    /// Send time only: the subscribe-time check lets unresolvable hosts through.
    #[error("cannot resolve callback host {host}: {source}")]
    Unresolvable {
        host: String,
        #[source]
        source: std::io::Error,
    },
    #[error("callback host {host} resolves to no addresses")]
    NoAddresses { host: String },
}

/// Decides whether callback URLs and the addresses they resolve to may be called.
#[derive(Debug, Clone, Default)]
pub struct CallbackGuard {
    allow: AllowNetworks,
}

impl CallbackGuard {
    /// A guard exempting `allow` (empty: only public addresses are callable).
    pub fn new(allow: AllowNetworks) -> Self {
        Self { allow }
    }

    /// Refuses a URL whose host is a forbidden IP address; host names pass (they are
    /// [`check`](Self::check)'s and the resolver's business). No I/O.
    ///
    /// The `url` crate has already normalised the odd spellings of IPv4 for `http`/`https`
    /// (`2130706433`, `0x7f.1`, `127.1`, `127.0.0.1.` are all `127.0.0.1`), and IPv6 forms of
    /// IPv4 such as `[::ffff:127.0.0.1]` are classified as the IPv4 address they embed.
    pub fn check_literal(&self, url: &Url) -> Result<(), GuardError> {
        let ip: IpAddr = match url.host() {
            None => return Err(GuardError::NoHost),
            Some(Host::Ipv4(ip)) => ip.into(),
            Some(Host::Ipv6(ip)) => ip.into(),
            // Schemes other than http(s) leave IP literals unparsed; catch them anyway.
            Some(Host::Domain(domain)) => match domain.parse() {
                Ok(ip) => ip,
                Err(_) => return Ok(()),
            },
        };
        self.allow
            .check(ip)
            .map_err(|reason| GuardError::ForbiddenHost {
                host: url.host_str().unwrap_or_default().to_owned(),
                reason,
            })
    }

    /// The subscribe-time check: [`check_literal`](Self::check_literal), then, for a host
    /// name, every address it resolves to must be callable.
    ///
    /// A name that does not resolve (or not within 5 seconds) is let through: it is no SSRF
    /// risk while it resolves nowhere, the send-time [`GuardedResolver`] refuses it if it later
    /// resolves somewhere forbidden, and refusing it would turn a DNS hiccup into a failed
    /// subscription.
    #[tracing::instrument(skip_all, fields(host = url.host_str().unwrap_or_default()))]
    pub async fn check(&self, url: &Url) -> Result<(), GuardError> {
        self.check_literal(url)?;
        let Some(Host::Domain(domain)) = url.host() else {
            return Ok(());
        };
        let port = url.port_or_known_default().unwrap_or(0);
        let lookup = tokio::net::lookup_host((domain, port));
        match tokio::time::timeout(CHECK_RESOLVE_TIMEOUT, lookup).await {
            Ok(Ok(addrs)) => self.check_resolved(domain, addrs),
            Ok(Err(error)) => {
                tracing::debug!(%error, "callback host does not resolve; letting it through");
                Ok(())
            }
            Err(_) => {
                tracing::debug!("callback host did not resolve in time; letting it through");
                Ok(())
            }
        }
    }

    /// All of `addrs` must be callable: a host with one internal address among public ones
    /// would be reached there some of the time.
    fn check_resolved(
        &self,
        host: &str,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<(), GuardError> {
        addrs.into_iter().try_for_each(|addr| {
            self.allow.check(addr.ip()).map_err(|reason| {
                tracing::info!(host, refused = %reason, "callback URL refused at subscribe time");
                GuardError::ForbiddenResolution {
                    host: host.to_owned(),
                    reason,
                }
            })
        })
    }

    /// The callable subset of `addrs`; an error naming the first refusal if nothing is left.
    fn filter_resolved(
        &self,
        host: &str,
        addrs: impl IntoIterator<Item = SocketAddr>,
    ) -> Result<Vec<SocketAddr>, GuardError> {
        let (mut permitted, mut refused) = (Vec::new(), Vec::new());
        for addr in addrs {
            match self.allow.check(addr.ip()) {
                Ok(()) => permitted.push(addr),
                Err(reason) => refused.push(reason),
            }
        }
        match (permitted.is_empty(), refused.first()) {
            (false, None) => Ok(permitted),
            (false, Some(first)) => {
                // Not an error (the send goes ahead), but a host mixing public and internal
                // addresses is worth an operator's look. A refusal is logged by the caller.
                tracing::warn!(
                    host,
                    dropped = refused.len(),
                    first = %first,
                    "dropped forbidden addresses of a callback host"
                );
                Ok(permitted)
            }
            (true, Some(first)) => {
                tracing::warn!(host, refused = %first, "callback host resolves only to forbidden addresses");
                Err(GuardError::ForbiddenResolution {
                    host: host.to_owned(),
                    reason: *first,
                })
            }
            (true, None) => Err(GuardError::NoAddresses {
                host: host.to_owned(),
            }),
        }
    }
}

/// A reqwest resolver that resolves with the system resolver and drops every address the
/// guard forbids, failing when none is left. Use it through [`guarded_client_builder`].
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    guard: Arc<CallbackGuard>,
}

impl GuardedResolver {
    pub fn new(guard: Arc<CallbackGuard>) -> Self {
        Self { guard }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.guard);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            // Port 0: reqwest substitutes the URL's port (or the scheme's default).
            let addrs = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|source| GuardError::Unresolvable {
                    host: host.clone(),
                    source,
                })?;
            let permitted = guard.filter_resolved(&host, addrs)?;
            Ok(Box::new(permitted.into_iter()) as Addrs)
        })
    }
}

/// A client builder for callbacks: guarded DNS, no redirects (a redirect could lead anywhere,
/// including to an IP literal the resolver never sees), no proxy (a proxy resolves names
/// itself, bypassing the resolver) and a 5-second connect timeout. Callers add their own
/// request timeout and user agent, and must still call [`CallbackGuard::check_literal`] on
/// each URL they send to.
pub fn guarded_client_builder(guard: Arc<CallbackGuard>) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(GuardedResolver::new(guard))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
}

/// Guarded HTTP clients, one per set of exempt networks: the operator's
/// (`webhooks.allow_networks`) alone, or with a tenant's own (its API key's). Each client has its
/// resolver, so one tenant's networks never open another's callbacks; clients are built on first
/// use and kept, so connections are pooled per set.
pub struct GuardedClients {
    operator: AllowNetworks,
    user_agent: &'static str,
    built: std::sync::Mutex<HashMap<AllowNetworks, Guarded>>,
}

/// A guard and the client that resolves through it.
#[derive(Clone)]
pub struct Guarded {
    pub guard: Arc<CallbackGuard>,
    pub client: reqwest::Client,
}

impl GuardedClients {
    pub fn new(operator: AllowNetworks, user_agent: &'static str) -> Self {
        Self {
            operator,
            user_agent,
            built: std::sync::Mutex::default(),
        }
    }

    /// The guard and client for a tenant whose key allows `tenant` networks.
    pub fn for_tenant(&self, tenant: &AllowNetworks) -> Result<Guarded, reqwest::Error> {
        let allow = self.operator.with(tenant);
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(guarded) = built.get(&allow) {
            return Ok(guarded.clone());
        }
        let guard = Arc::new(CallbackGuard::new(allow.clone()));
        let client = guarded_client_builder(guard.clone())
            .user_agent(self.user_agent)
            .build()?;
        let guarded = Guarded { guard, client };
        built.insert(allow, guarded.clone());
        Ok(guarded)
    }
}

#[cfg(test)]
mod tests;
