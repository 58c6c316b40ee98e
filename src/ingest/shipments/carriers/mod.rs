//! Tracking sources: one [`Carrier`] per airline or aggregator, chosen per AWB prefix by the
//! [`Carriers`] registry, each behind its own rate limit and concurrency bound. Adapters turn
//! HTTP answers into the domain's [`Tracking`]; they never touch storage. A carrier that also
//! pushes (Lufthansa) offers a [`Registrar`]; what is stored around a registration is the
//! poller's business (`registrations.rs`).

mod cargoai;
mod demo;
mod lufthansa;
mod reading;
mod trackingmore;

pub use lufthansa::CALLBACK_PATH as LUFTHANSA_CALLBACK_PATH;
pub use lufthansa::normalize::LufthansaPush;

use crate::clock::Clock;
use crate::config::{CarrierSettings, CarriersSettings};
use crate::domain::{AwbNumber, CallbackToken, Tracking};
use crate::ingest::{
    Entry, Kind, Registry, RegistryError, Source, SourceError, SourceHttp, SourceSettings, Throttle,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;

/// One AWB to look up.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub awb: AwbNumber,
    /// When Skyhook started tracking it (the demo carrier scripts from here).
    pub first_seen: DateTime<Utc>,
}

/// A carrier's answer for one AWB.
#[derive(Debug, Clone)]
pub enum Fetched {
    Found {
        tracking: Tracking,
        /// The answer as received, kept for audit.
        raw: serde_json::Value,
    },
    /// The carrier does not know the AWB (yet): keep trying, slowly.
    NotFound,
}

/// A push carrier's side of its registrations: each AWB is registered once with a callback URL
/// carrying a [`CallbackToken`], checked now and then, and removed with
/// [`Carrier::unregister`].
#[async_trait]
pub trait Registrar: Send + Sync {
    /// Registers the AWB with the callback URL for `token`; returns the carrier's id of the
    /// registration.
    async fn register(&self, awb: &AwbNumber, token: &CallbackToken)
    -> Result<String, SourceError>;

    /// Whether the carrier still has the registration `carrier_ref` (false: it dropped it).
    async fn is_registered(&self, carrier_ref: &str) -> Result<bool, SourceError>;
}

#[async_trait]
pub trait Carrier: Source {
    /// AWBs one request can carry.
    fn batch_size(&self) -> usize {
        1
    }

    /// Looks the AWBs up; one result per request, in the same order.
    async fn fetch(&self, requests: &[FetchRequest]) -> Vec<Result<Fetched, SourceError>>;

    /// Its registrations, for a carrier that also pushes; `None` for one that is only polled.
    fn registrar(&self) -> Option<&dyn Registrar> {
        None
    }

    /// Removes a push registration once no subscription needs it; an already gone registration
    /// is not an error. Pull carriers register nothing.
    async fn unregister(&self, _awb: &AwbNumber, _carrier_ref: &str) -> Result<(), SourceError> {
        Ok(())
    }
}

/// A carrier with the limits it must be called under.
pub type CarrierEntry = Entry<dyn Carrier>;

/// Which enabled carrier serves which AWB prefix.
pub type Carriers = Registry<dyn Carrier>;

impl SourceSettings for CarrierSettings {
    fn throttle(&self) -> Throttle {
        Throttle::new(self.rate_limit, self.concurrency as usize)
    }

    fn keys(&self) -> &[String] {
        &self.prefixes
    }
}

static CARRIERS: Kind = Kind {
    section: "carriers",
    key: "AWB prefix",
    auth_failures_metric: "skyhook_carrier_auth_failures_total",
    metric_label: "carrier",
};

impl Carriers {
    /// Builds the enabled carriers from configuration.
    pub fn from_settings(
        settings: &CarriersSettings,
        http: SourceHttp,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RegistryError> {
        let mut carriers = Vec::<(Arc<dyn Carrier>, &CarrierSettings)>::new();
        if settings.demo.enabled {
            let step = settings.demo.step.map_or(Duration::from_secs(30), |s| s.0);
            carriers.push((
                Arc::new(demo::DemoCarrier::new(step, clock)),
                &settings.demo,
            ));
        }
        if settings.cargoai.enabled {
            carriers.push((
                Arc::new(cargoai::CargoAi::new(http.clone(), &settings.cargoai)),
                &settings.cargoai,
            ));
        }
        if settings.lufthansa.enabled {
            let callback = settings
                .lufthansa
                .callback_url
                .clone()
                .ok_or(RegistryError::NoCallbackUrl("lufthansa"))?;
            carriers.push((
                Arc::new(lufthansa::Lufthansa::new(
                    http.clone(),
                    &settings.lufthansa,
                    callback,
                )),
                &settings.lufthansa,
            ));
        }
        if settings.trackingmore.enabled {
            carriers.push((
                Arc::new(trackingmore::TrackingMore::new(
                    http.clone(),
                    &settings.trackingmore,
                )),
                &settings.trackingmore,
            ));
        }
        Self::of_enabled(&CARRIERS, carriers)
    }

    /// The carrier serving an AWB, if any enabled carrier does.
    pub fn for_awb(&self, awb: &AwbNumber) -> Option<&Arc<CarrierEntry>> {
        self.serving(awb.prefix())
    }
}

/// The base of Lufthansa's callback URLs when `carriers.lufthansa.callback_url` is not set: the
/// route Skyhook serves under its public URL (each registration appends its token).
pub fn lufthansa_callback(public_url: &url::Url) -> url::Url {
    join(public_url, LUFTHANSA_CALLBACK_PATH.trim_start_matches('/'))
}

/// `base_url` joined with a path, whether or not the base ends in `/`.
fn join(base: &url::Url, path: &str) -> url::Url {
    let mut base = base.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base.join(path)
        .expect("a relative path joins any http(s) base")
}
