//! The dispatcher: claims due messages under leases, sends each with no transaction open, and
//! records the outcome (only while it still holds the lease, under the claim's token). A fixed
//! number of sends run at once, and at most `per_host_concurrency` of them to one destination;
//! every attempt is cut off inside its lease, so a receiver or relay that stops answering holds
//! a slot for a bounded time and never stalls the claim loop. It also ends subscriptions that
//! reached `expiresAt`, queuing their notice.

use super::email::attempt::{group_emails, send_emails};
use super::email::{MailError, Mailer};
use super::guard::GuardedClients;
use super::housekeeping::Housekeeping;
use super::in_flight::{Admission, InFlight};
use super::webhook::{AttemptReport, WebhookSender};
use crate::clock::Clock;
use crate::config::{DeliverySettings, Settings};
use crate::domain::Destination;
use crate::domain::message::Channel;
use crate::domain::retry::{Attempt, NextStep, RetryPolicy};
use crate::rounds::run_rounds;
use crate::store::{ClaimedDelivery, DeliveryOutcome, DeliveryQueue, Lease, StoreError, Work};
use chrono::TimeDelta;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum DispatchSetupError {
    #[error("cannot build the webhook HTTP client")]
    Http(#[source] reqwest::Error),
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// How webhooks and preflights introduce themselves.
pub const USER_AGENT: &str = concat!("Skyhook-Webhooks/", env!("CARGO_PKG_VERSION"));

pub struct Dispatcher {
    store: Arc<dyn DeliveryQueue>,
    clock: Arc<dyn Clock>,
    webhooks: WebhookSender,
    mailer: Mailer,
    policy: RetryPolicy,
    settings: DeliverySettings,
    /// Base of the one-click unsubscribe links in emails.
    public_url: url::Url,
    /// Whether emails link to the console (`console.enabled`).
    console_links: bool,
    slots: Arc<Semaphore>,
    /// The messages this process is sending, and its attempts per destination.
    sending: InFlight,
    /// Signalled when a saturated destination has room again.
    room: Notify,
    /// This instance's identity on the leases it takes.
    owner: Uuid,
    housekeeping: Housekeeping,
}

impl Dispatcher {
    /// A dispatcher for the `delivery`, `webhooks` and `email` settings.
    pub fn from_settings(
        store: Arc<dyn DeliveryQueue>,
        clock: Arc<dyn Clock>,
        settings: &Settings,
    ) -> Result<Arc<Self>, DispatchSetupError> {
        let clients = GuardedClients::new(settings.webhooks.allow_networks.clone(), USER_AGENT);
        // Build the operator's client now, so a broken TLS setup fails at startup.
        clients
            .for_tenant(&Default::default())
            .map_err(DispatchSetupError::Http)?;
        let email = &settings.email;
        let mailer = Mailer::from_settings(
            Some(email.smtp_url.expose()),
            &email.outbox_dir,
            &email.from,
        )?;
        if email.smtp_url.expose().trim().is_empty() {
            tracing::warn!(
                outbox_dir = %email.outbox_dir.display(),
                "no email.smtp_url configured: emails are written as .eml files, not sent"
            );
        } else {
            tracing::info!(mailer = mailer.describe(), "email enabled");
        }
        let policy = RetryPolicy {
            schedule: settings
                .webhooks
                .retry_schedule
                .iter()
                .map(|d| d.0)
                .collect(),
            disable_after: settings.webhooks.disable_after.0,
        };
        Ok(Arc::new(Self {
            housekeeping: Housekeeping::new(store.clone()),
            store,
            clock,
            webhooks: WebhookSender::new(clients, settings.webhooks.timeout.0),
            mailer,
            policy,
            slots: Arc::new(Semaphore::new(settings.delivery.concurrency as usize)),
            sending: InFlight::new(settings.delivery.per_host_concurrency),
            room: Notify::new(),
            settings: settings.delivery.clone(),
            public_url: settings.server.public_url.clone(),
            // No link to a console that is not served.
            console_links: settings.console.enabled,
            owner: Uuid::new_v4(),
        }))
    }

    /// Dispatches until cancelled, then waits for the sends in flight.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        tracing::info!(owner = %self.owner, "dispatcher started");
        let wakeups = self.store.wakeups();
        // Behind a lock only so that each round's future can borrow the sends it adds to; the
        // rounds never overlap, so it is never contended.
        let in_flight = Mutex::new(JoinSet::new());
        // Besides committed deliveries, room at a saturated destination wakes an idle dispatcher.
        let woken = || async {
            tokio::select! {
                () = wakeups.woken(Work::Deliveries) => {}
                () = self.room.notified() => {}
            }
        };
        let round = || async {
            let mut in_flight = in_flight.lock().await;
            while in_flight.try_join_next().is_some() {}
            self.clone().start_round(&mut in_flight).await
        };
        run_rounds(
            "dispatch",
            &shutdown,
            self.settings.idle_wait.0,
            woken,
            round,
        )
        .await;
        let mut in_flight = in_flight.into_inner();
        while in_flight.join_next().await.is_some() {}
        tracing::info!("dispatcher stopped");
    }

    /// One round, waiting for every send it started: for tests and tools.
    pub async fn dispatch_once(self: Arc<Self>) -> Result<usize, StoreError> {
        let mut in_flight = JoinSet::new();
        let started = self.start_round(&mut in_flight).await?;
        while in_flight.join_next().await.is_some() {}
        Ok(started)
    }

    /// Expires due subscriptions, claims as many messages as there are free slots, and starts
    /// sending them. Returns how many messages were claimed.
    async fn start_round(
        self: Arc<Self>,
        in_flight: &mut JoinSet<()>,
    ) -> Result<usize, StoreError> {
        let now = self.clock.now();
        self.housekeeping.run(now).await?;
        for (destination, ids) in self.sending.lapsed(now) {
            self.give_back(&destination, ids).await;
        }
        // Wait for at least one free slot, so a backlog of slow receivers is not over-claimed.
        let first = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let free = (self.slots.available_permits() + 1).min(self.settings.batch_size as usize);
        // The lease starts once a slot is free: waiting for one is not part of any attempt.
        let now = self.clock.now();
        let lease = Lease {
            owner: self.owner,
            now,
            until: now + TimeDelta::from_std(self.settings.lease.0).unwrap_or(TimeDelta::MAX),
        };
        let claimed = self
            .store
            .claim_due_deliveries(lease, free as u32, &self.sending.saturated())
            .await?;
        let count = claimed.len();
        // An attempt may take four fifths of the lease and its record wants time after it: a
        // message waiting for room at its destination starts within a tenth, or goes back.
        let start_by = now + (lease.until - now) / 10;
        let mut permit = Some(first);
        for group in group_emails(claimed) {
            let group = match self.sending.admit(group, start_by) {
                Admission::Send(group) => group,
                Admission::AlreadySending | Admission::Wait => continue,
            };
            let permit = match permit.take() {
                Some(p) => p,
                None => self
                    .slots
                    .clone()
                    .acquire_owned()
                    .await
                    .expect("the semaphore is never closed"),
            };
            let this = self.clone();
            in_flight.spawn(async move {
                this.deliver_in_turn(group).await;
                drop(permit);
            });
        }
        Ok(count)
    }

    /// Sends `group`, then in the same slot whatever waited for its destination meanwhile.
    async fn deliver_in_turn(&self, mut group: Vec<ClaimedDelivery>) {
        loop {
            self.deliver(&group).await;
            let finished = self.sending.finish(&group, self.clock.now());
            let destination = group.first().and_then(|d| d.destination.as_ref());
            if let (Some(destination), false) = (destination, finished.lapsed.is_empty()) {
                self.give_back(destination, finished.lapsed).await;
            }
            if finished.room {
                self.room.notify_one();
            }
            match finished.next {
                Some(next) => group = next,
                None => return,
            }
        }
    }

    /// Gives back messages that waited too long for room at `destination`: not
    /// sent, so not attempted, and due again at once.
    async fn give_back(&self, destination: &Destination, ids: Vec<Uuid>) {
        if let Err(err) = self
            .store
            .release_deliveries(self.owner, destination, ids)
            .await
        {
            tracing::warn!(
                destination = destination.as_str(),
                error = format!("{:#}", anyhow::Error::from(err)),
                "cannot give back messages held for a busy destination; \
                 they go after their lease"
            );
        }
    }

    /// Sends one webhook message, or one email carrying every message in the group, and
    /// records the outcome of each.
    async fn deliver(&self, group: &[ClaimedDelivery]) {
        let Some(first) = group.first() else { return };
        let channel = first.channel;
        let started = Instant::now();
        let report = if !first.channel_active {
            None
        } else {
            Some(self.attempt(group).await)
        };
        metrics::histogram!("skyhook_delivery_attempt_seconds", "channel" => channel.as_str())
            .record(started.elapsed().as_secs_f64());
        for delivery in group {
            let outcome = self.outcome(delivery, report.as_ref());
            let result = match &outcome.next {
                NextStep::Delivered => "delivered",
                NextStep::RetryAt(_) => "retrying",
                NextStep::Cancelled => "cancelled",
                NextStep::Park | NextStep::DisableUrl(_) => "parked",
                NextStep::GiveUp => "failed",
            };
            metrics::counter!("skyhook_deliveries_total",
                "channel" => channel.as_str(), "result" => result)
            .increment(1);
            if let NextStep::DisableUrl(reason) = &outcome.next {
                tracing::warn!(subscription = %delivery.subscription_id, reason, "callback URL disabled");
            }
            match self.record(outcome).await {
                Ok(true) => {}
                Ok(false) => tracing::warn!(
                    message_id = %delivery.message_id,
                    "lease lost before the delivery was recorded; it will be retried"
                ),
                Err(err) => tracing::error!(
                    message_id = %delivery.message_id,
                    error = format!("{:#}", anyhow::Error::from(err)),
                    "cannot record a delivery attempt; it will be retried after the lease"
                ),
            }
        }
    }

    /// One attempt, cut off at the deadline from outside the transport: lettre bounds only the
    /// connect, and a relay that accepts and then never answers would hold the slot forever.
    /// Dropping the send drops its connection with it (emails use no connection pool, so a
    /// half-finished conversation is never reused).
    async fn attempt(&self, group: &[ClaimedDelivery]) -> AttemptReport {
        let first = &group[0];
        let send = async {
            match first.channel {
                Channel::Webhook => self.webhooks.send(first, self.clock.now()).await,
                Channel::Email => {
                    let console = self.console_links.then_some(self.public_url.as_str());
                    send_emails(&self.mailer, &self.public_url, console, group).await
                }
            }
        };
        let deadline = self.settings.attempt_deadline();
        match tokio::time::timeout(deadline, send).await {
            Ok(report) => report,
            Err(_) => {
                metrics::counter!("skyhook_delivery_attempts_cut_off_total",
                    "channel" => first.channel.as_str())
                .increment(1);
                AttemptReport::failed(cut_off(deadline))
            }
        }
    }

    /// Records an outcome under the token of the message's latest claim. When this process
    /// claimed the message again while the attempt ran, the newer token is the one that holds.
    async fn record(&self, mut outcome: DeliveryOutcome) -> Result<bool, StoreError> {
        loop {
            let token = self
                .sending
                .token(outcome.id)
                .unwrap_or(outcome.lease_token);
            outcome.lease_token = token;
            let recorded = self
                .store
                .record_delivery(self.owner, outcome.clone())
                .await?;
            if recorded || self.sending.token(outcome.id) == Some(token) {
                return Ok(recorded);
            }
        }
    }

    fn outcome(
        &self,
        delivery: &ClaimedDelivery,
        report: Option<&AttemptReport>,
    ) -> DeliveryOutcome {
        let now = self.clock.now();
        let Some(report) = report else {
            let (next, error) = if delivery.url_disabled {
                (NextStep::Park, "the callback URL is disabled")
            } else {
                (
                    NextStep::Cancelled,
                    "the channel was removed before the message was sent",
                )
            };
            return DeliveryOutcome {
                id: delivery.id,
                lease_token: delivery.lease_token,
                attempted_at: now,
                status_code: None,
                error: Some(error.to_owned()),
                next,
            };
        };
        // Only a failing URL can be disabled; email keeps to the schedule.
        let failing_since = match (delivery.channel, report.attempt) {
            (Channel::Webhook, Attempt::Failed { .. }) => delivery.url_failing_since,
            _ => None,
        };
        let next = self.policy.next_step(
            report.attempt,
            delivery.attempts,
            now,
            failing_since,
            rand::random::<f64>(),
        );
        DeliveryOutcome {
            id: delivery.id,
            lease_token: delivery.lease_token,
            attempted_at: now,
            status_code: report.status_code,
            error: report.error.clone(),
            next,
        }
    }
}

fn cut_off(deadline: Duration) -> String {
    format!(
        "the attempt did not finish within {:.1}s (four fifths of delivery.lease) and was cut off",
        deadline.as_secs_f64()
    )
}
