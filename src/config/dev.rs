//! `skyhook serve --dev`: the settings relaxed for a first trial on one machine, and what each
//! relaxation is, in words for the start-up banner.

use super::{HumanDuration, Settings};
use crate::domain::AllowNetworks;
use std::time::Duration;

/// How fast the demo carrier and flight sandbox move in development mode.
pub const DEV_STEP: Duration = Duration::from_secs(5);

impl Settings {
    /// Relaxes the settings for development: callbacks may reach this machine, and the demo
    /// sandboxes move (and are polled) every few seconds. Returns what was relaxed.
    pub fn relax_for_development(&mut self) -> Vec<String> {
        let loopback = AllowNetworks::parse(&["127.0.0.0/8", "::1/128"])
            .expect("loopback networks are valid CIDRs");
        self.webhooks.allow_networks = self.webhooks.allow_networks.with(&loopback);
        let step = HumanDuration(DEV_STEP);
        self.carriers.demo.step = Some(step);
        self.flights.demo.step = Some(step);
        self.poller.min_interval = step;
        self.poller.max_interval = HumanDuration(self.poller.max_interval.0.min(DEV_STEP * 6));
        let max = humantime::format_duration(self.poller.max_interval.0);
        vec![
            "callback URLs may point at this machine (127.0.0.0/8 and ::1 are added to \
             webhooks.allow_networks), e.g. `skyhook listen` on http://127.0.0.1:9000/"
                .to_owned(),
            format!(
                "the demo carrier (prefix 000) and flight sandbox (ZZ9000-ZZ9999) move one step \
                 every {} s (carriers.demo.step, flights.demo.step)",
                DEV_STEP.as_secs()
            ),
            format!(
                "shipments and flights are checked every {}s to {max} \
                 (poller.min_interval, poller.max_interval)",
                DEV_STEP.as_secs()
            ),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn development_mode_allows_loopback_callbacks_and_a_fast_demo() {
        let mut settings = Settings::load(None).unwrap();
        let relaxed = settings.relax_for_development();
        assert_eq!(relaxed.len(), 3);
        assert!(
            settings
                .webhooks
                .allow_networks
                .to_strings()
                .contains(&"127.0.0.0/8".to_owned())
        );
        assert_eq!(settings.carriers.demo.step, Some(HumanDuration(DEV_STEP)));
        assert_eq!(settings.poller.min_interval.0, DEV_STEP);
        assert!(settings.poller.max_interval.0 <= DEV_STEP * 6);
        settings.validate().expect("the relaxed settings are valid");
    }
}
