//! `/console/status`: each carrier and flight source (enabled, what it serves, sandbox, last
//! success, refused credentials), this tenant's queue, and its deliveries per hour over the last day.

use super::page::{self, Page, age, utc_or_dash};
use super::session::Signed;
use super::{ConsoleConfig, ConsoleError};
use crate::api::AppState;
use crate::ingest::SourceStatus;
use crate::store::DeliveryStats;
use askama::Template;
use axum::Extension;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub struct SourceRow {
    pub kind: &'static str,
    pub name: &'static str,
    pub enabled: bool,
    pub serves: String,
    pub sandbox: bool,
    pub last_success: String,
    /// It answered us at least once (so its credentials were accepted, unless `refused`).
    pub answered: bool,
    pub refused: Option<String>,
}

impl SourceRow {
    fn disabled(kind: &'static str, name: &'static str) -> Self {
        Self {
            kind,
            name,
            enabled: false,
            serves: String::new(),
            sandbox: false,
            last_success: "—".to_owned(),
            answered: false,
            refused: None,
        }
    }

    fn of(kind: &'static str, status: SourceStatus) -> Self {
        Self {
            kind,
            enabled: true,
            name: status.name,
            serves: status.keys.join(", "),
            sandbox: status.sandbox,
            answered: status.last_success.is_some(),
            last_success: utc_or_dash(status.last_success),
            refused: status.refused,
        }
    }
}

/// The deliveries-per-hour chart, laid out for `templates/console/status.html`.
pub struct Chart {
    pub width: u32,
    pub height: u32,
    /// Where the bars stand, and where their hour labels go below it.
    pub baseline: u32,
    pub label_y: u32,
    pub bars: Vec<Bar>,
    /// The largest hour's count, the top of the scale.
    pub max: u64,
    /// For screen readers.
    pub summary: String,
}

pub struct Bar {
    pub x: u32,
    pub width: u32,
    /// Delivered: from `delivered_y` down to the baseline; failed stacked above it.
    pub delivered_y: u32,
    pub delivered_h: u32,
    pub failed_y: u32,
    pub failed_h: u32,
    pub label: String,
    pub title: String,
}

const CHART_WIDTH: u32 = 720;
const CHART_HEIGHT: u32 = 160;
const BASELINE: u32 = 140;
const PLOT_HEIGHT: u32 = 120;

impl Chart {
    fn of(stats: &DeliveryStats) -> Self {
        let max = stats
            .hourly
            .iter()
            .map(|h| h.delivered + h.failed)
            .max()
            .unwrap_or(0);
        let slot = CHART_WIDTH / stats.hourly.len().max(1) as u32;
        let scale = |n: u64| (n * u64::from(PLOT_HEIGHT)).div_ceil(max.max(1)) as u32;
        let bars = stats
            .hourly
            .iter()
            .enumerate()
            .map(|(i, hour)| {
                let delivered_h = scale(hour.delivered);
                let failed_h = scale(hour.failed);
                let delivered_y = BASELINE - delivered_h;
                Bar {
                    x: i as u32 * slot + 2,
                    width: slot.saturating_sub(4),
                    delivered_y,
                    delivered_h,
                    failed_y: delivered_y - failed_h,
                    failed_h,
                    label: hour.hour_start.format("%H").to_string(),
                    title: format!(
                        "{}: {} delivered, {} failed",
                        hour.hour_start.format("%H:00 UTC"),
                        hour.delivered,
                        hour.failed
                    ),
                }
            })
            .collect();
        let (delivered, failed) = stats.totals();
        Self {
            width: CHART_WIDTH,
            height: CHART_HEIGHT,
            baseline: BASELINE,
            label_y: BASELINE + 15,
            bars,
            max,
            summary: format!(
                "Deliveries per hour over the last 24 hours: {delivered} delivered, {failed} failed"
            ),
        }
    }
}

#[derive(Template)]
#[template(path = "console/status.html")]
struct StatusPage {
    page: Page,
    sources: Vec<SourceRow>,
    pending: u64,
    parked: u64,
    oldest_due: String,
    failure_rate: String,
    chart: Chart,
}

pub async fn page(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<ConsoleConfig>>,
    signed: Signed,
) -> Result<Response, ConsoleError> {
    let now = state.clock.now();
    let stats = state.store.delivery_stats(signed.key.tenant, now).await?;
    let sources: Vec<SourceRow> = state
        .carriers
        .statuses()
        .into_iter()
        .map(|s| SourceRow::of("carrier", s))
        .chain(
            state
                .flight_sources
                .statuses()
                .into_iter()
                .map(|s| SourceRow::of("flight source", s)),
        )
        .chain(
            config
                .disabled_sources
                .iter()
                .map(|(kind, name)| SourceRow::disabled(kind, name)),
        )
        .collect();
    let page = Page::signed("Status", &signed, "status");
    let html = page::render(&StatusPage::of(page, sources, &stats, now))?;
    Ok(html.into_response())
}

impl StatusPage {
    fn of(page: Page, sources: Vec<SourceRow>, stats: &DeliveryStats, now: DateTime<Utc>) -> Self {
        Self {
            page,
            sources,
            pending: stats.pending,
            parked: stats.parked,
            oldest_due: stats
                .oldest_due_at
                .map_or_else(|| "—".to_owned(), |at| age((now - at).num_seconds())),
            failure_rate: stats
                .failure_rate()
                .map_or_else(|| "—".to_owned(), |rate| format!("{:.1} %", rate * 100.0)),
            chart: Chart::of(stats),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::HourlyDeliveries;
    use chrono::{TimeDelta, TimeZone};

    /// What a support person looks for: which source refuses our key (and what it said),
    /// when each last answered, how old the oldest waiting message is, and the failure rate.
    #[test]
    fn the_page_shows_refusals_last_successes_the_oldest_due_and_the_failure_rate() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap();
        let source = |name, last_success, refused: Option<&str>| {
            SourceRow::of(
                "carrier",
                SourceStatus {
                    name,
                    keys: vec!["020".to_owned()],
                    sandbox: false,
                    last_success,
                    refused: refused.map(str::to_owned),
                },
            )
        };
        let sources = vec![
            source(
                "cargoai",
                None,
                Some("cargoai refused our credentials (401)"),
            ),
            source("trackingmore", Some(now - TimeDelta::minutes(3)), None),
        ];
        let stats = DeliveryStats {
            hourly: (0..24)
                .map(|i| HourlyDeliveries {
                    hour_start: now - TimeDelta::hours(23 - i),
                    delivered: if i == 23 { 3 } else { 0 },
                    failed: if i == 23 { 1 } else { 0 },
                })
                .collect(),
            pending: 2,
            parked: 1,
            oldest_due_at: Some(now - TimeDelta::minutes(7)),
        };
        let html = StatusPage::of(Page::anonymous("Status"), sources, &stats, now)
            .render()
            .unwrap();
        let row = |name: &str| {
            let start = html.find(&format!(r#"data-source="{name}""#)).unwrap();
            html[start..start + html[start..].find("</tr>").unwrap()].to_owned()
        };
        let cargoai = row("cargoai");
        assert!(cargoai.contains("refused"), "{cargoai}");
        assert!(
            cargoai.contains("refused our credentials (401)"),
            "{cargoai}"
        );
        let trackingmore = row("trackingmore");
        assert!(
            trackingmore.contains("2026-12-01 11:57 UTC"),
            "{trackingmore}"
        );
        assert!(trackingmore.contains("accepted"), "{trackingmore}");
        assert!(html.contains(r#"id="queue-oldest">7 min<"#), "{html}");
        assert!(html.contains(r#"id="failure-rate">25.0 %<"#), "{html}");
        assert!(html.contains(r#"id="queue-parked">1<"#), "{html}");
    }

    #[test]
    fn bars_are_scaled_to_the_busiest_hour_and_stack_failures_on_deliveries() {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let hourly = (0..24)
            .map(|i| HourlyDeliveries {
                hour_start: start + TimeDelta::hours(i),
                delivered: if i == 5 { 30 } else { 3 },
                failed: if i == 5 { 10 } else { 0 },
            })
            .collect();
        let stats = DeliveryStats {
            hourly,
            pending: 0,
            parked: 0,
            oldest_due_at: None,
        };
        let chart = Chart::of(&stats);
        assert_eq!(chart.bars.len(), 24);
        assert_eq!(chart.max, 40);
        let busiest = &chart.bars[5];
        assert_eq!(busiest.delivered_h + busiest.failed_h, PLOT_HEIGHT);
        assert_eq!(busiest.failed_y + busiest.failed_h, busiest.delivered_y);
        assert_eq!(chart.bars[0].failed_h, 0);
        assert!(chart.bars[0].delivered_h > 0 && chart.bars[0].delivered_h < PLOT_HEIGHT);
        assert!(chart.summary.contains("99 delivered, 10 failed"));
    }
}
