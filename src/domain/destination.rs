//! Where an attempt physically goes: the unit of the per-destination limit on messages in
//! flight, so that one slow receiver cannot hold every delivery slot.

use super::message::Channel;

/// The receiver a message's attempts talk to: a webhook URL's host (with its port when it is
/// not the scheme's default: two services on one host are two receivers, and one's slowness
/// says nothing of the other's), or the one email relay every email goes through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Destination(String);

impl Destination {
    /// What every email shares: the configured relay.
    pub const EMAIL_RELAY: &str = "email-relay";

    /// The destination of a message for `target` on `channel`; `None` for a webhook target that
    /// is not a URL with a host (its attempt fails without talking to anyone).
    pub fn of(channel: Channel, target: &str) -> Option<Self> {
        match channel {
            Channel::Email => Some(Self(Self::EMAIL_RELAY.to_owned())),
            Channel::Webhook => {
                let url = url::Url::parse(target).ok()?;
                // `Url` lowercases the host and drops a port that is the scheme's default.
                let host = url.host_str()?;
                Some(Self(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                }))
            }
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(target: &str) -> Option<String> {
        Destination::of(Channel::Webhook, target).map(|d| d.as_str().to_owned())
    }

    #[test]
    fn a_webhook_goes_to_its_host_and_explicit_port() {
        for (url, destination) in [
            ("https://TMS.Example.com/hooks/1", Some("tms.example.com")),
            ("https://tms.example.com:443/a", Some("tms.example.com")),
            (
                "http://tms.example.com:8080/a",
                Some("tms.example.com:8080"),
            ),
            (
                "https://user@[2001:db8::1]:9000/",
                Some("[2001:db8::1]:9000"),
            ),
            ("not a url", None),
        ] {
            assert_eq!(of(url).as_deref(), destination, "{url}");
        }
    }

    #[test]
    fn paths_and_queries_of_one_host_are_one_destination() {
        assert_eq!(of("https://a.example/x?y=1"), of("https://a.example/z#w"));
    }

    #[test]
    fn every_email_goes_through_the_relay() {
        let a = Destination::of(Channel::Email, "ops@a.example").unwrap();
        let b = Destination::of(Channel::Email, "ops@b.example").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), Destination::EMAIL_RELAY);
    }
}
