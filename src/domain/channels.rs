//! How a subscriber is reached (a callback URL, up to five emails, and/or the tenant's message
//! feed), and the duplicate rules that decide which of the requested channels a new
//! subscription actually gets.

use super::{CallbackUrl, EmailAddress, EmailError, MAX_EMAILS, UrlError};

/// Channels as requested: parsed, emails de-duplicated, at least one channel present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedChannels {
    pub url: Option<CallbackUrl>,
    pub emails: Vec<EmailAddress>,
    /// Messages also go to the tenant's feed (`GET /v1/messages`).
    pub feed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelsError {
    #[error("at least one of `url`, `emails` or `\"feed\": true` is required")]
    NoChannel,
    #[error("at most {MAX_EMAILS} emails are allowed; {0} were given")]
    TooManyEmails(usize),
    #[error(transparent)]
    Url(#[from] UrlError),
    #[error(transparent)]
    Email(#[from] EmailError),
}

/// Channels the subscription will get once existing subscriptions of the same tenant and
/// target are taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPlan {
    pub url: Option<CallbackUrl>,
    pub emails: Vec<EmailAddress>,
    pub feed: bool,
    /// Requested emails already subscribed to this target; reported back, not an error.
    pub skipped_emails: Vec<EmailAddress>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DuplicateError {
    #[error("{0} is already subscribed to this target")]
    UrlAlreadySubscribed(CallbackUrl),
    #[error("every given email is already subscribed to this target")]
    AllEmailsSubscribed(Vec<EmailAddress>),
    #[error("the feed is already subscribed to this target")]
    FeedAlreadySubscribed,
}

/// What other active subscriptions of the same tenant and target already have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TakenChannels {
    pub url: bool,
    pub feed: bool,
    pub emails: Vec<String>,
}

impl RequestedChannels {
    pub fn parse(url: Option<&str>, emails: &[String]) -> Result<Self, ChannelsError> {
        Self::parse_with_feed(url, emails, false)
    }

    /// Like [`Self::parse`]; with `feed` a subscription needs neither a URL nor emails.
    pub fn parse_with_feed(
        url: Option<&str>,
        emails: &[String],
        feed: bool,
    ) -> Result<Self, ChannelsError> {
        if emails.len() > MAX_EMAILS {
            return Err(ChannelsError::TooManyEmails(emails.len()));
        }
        let url = url.map(CallbackUrl::parse).transpose()?;
        let mut parsed: Vec<EmailAddress> = Vec::with_capacity(emails.len());
        for email in emails {
            let email = EmailAddress::parse(email)?;
            if !parsed.contains(&email) {
                parsed.push(email);
            }
        }
        if url.is_none() && parsed.is_empty() && !feed {
            return Err(ChannelsError::NoChannel);
        }
        Ok(Self {
            url,
            emails: parsed,
            feed,
        })
    }

    /// Applies the duplicate rules: a URL, or the feed, already on an active subscription of
    /// the same tenant and target is an error; emails already there are skipped, unless that
    /// leaves nothing.
    pub fn plan(self, taken: &TakenChannels) -> Result<ChannelPlan, DuplicateError> {
        if let Some(url) = self.url.as_ref().filter(|_| taken.url) {
            return Err(DuplicateError::UrlAlreadySubscribed(url.clone()));
        }
        if self.feed && taken.feed {
            return Err(DuplicateError::FeedAlreadySubscribed);
        }
        let (skipped, emails): (Vec<_>, Vec<_>) = self
            .emails
            .into_iter()
            .partition(|e| taken.emails.iter().any(|t| t == e.as_str()));
        if self.url.is_none() && !self.feed && emails.is_empty() {
            return Err(DuplicateError::AllEmailsSubscribed(skipped));
        }
        Ok(ChannelPlan {
            url: self.url,
            emails,
            feed: self.feed,
            skipped_emails: skipped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_subscription_needs_a_channel_and_at_most_five_emails() {
        assert_eq!(
            RequestedChannels::parse(None, &[]),
            Err(ChannelsError::NoChannel)
        );
        let six = strings(&["a@x.io", "b@x.io", "c@x.io", "d@x.io", "e@x.io", "f@x.io"]);
        assert_eq!(
            RequestedChannels::parse(None, &six),
            Err(ChannelsError::TooManyEmails(6))
        );
    }

    #[test]
    fn repeated_emails_count_once() {
        let channels = RequestedChannels::parse(None, &strings(&["A@x.io", "a@x.io"])).unwrap();
        assert_eq!(channels.emails.len(), 1);
    }

    #[test]
    fn taken_url_is_an_error_even_with_new_emails() {
        let channels =
            RequestedChannels::parse(Some("https://tms.example/h"), &strings(&["a@x.io"])).unwrap();
        assert!(matches!(
            channels.plan(&TakenChannels {
                url: true,
                ..Default::default()
            }),
            Err(DuplicateError::UrlAlreadySubscribed(_))
        ));
    }

    #[test]
    fn taken_emails_are_skipped_unless_nothing_is_left() {
        let channels = RequestedChannels::parse(None, &strings(&["a@x.io", "b@x.io"])).unwrap();
        let plan = channels.clone().plan(&taken_emails(&["a@x.io"])).unwrap();
        assert_eq!(plan.emails, vec![EmailAddress::parse("b@x.io").unwrap()]);
        assert_eq!(
            plan.skipped_emails,
            vec![EmailAddress::parse("a@x.io").unwrap()]
        );
        assert_eq!(
            channels.plan(&taken_emails(&["a@x.io", "b@x.io"])),
            Err(DuplicateError::AllEmailsSubscribed(vec![
                EmailAddress::parse("a@x.io").unwrap(),
                EmailAddress::parse("b@x.io").unwrap()
            ]))
        );
    }

    #[test]
    fn a_new_url_keeps_the_subscription_even_if_all_emails_are_taken() {
        let channels =
            RequestedChannels::parse(Some("https://tms.example/h"), &strings(&["a@x.io"])).unwrap();
        let plan = channels.plan(&taken_emails(&["a@x.io"])).unwrap();
        assert!(plan.url.is_some() && plan.emails.is_empty());
        assert_eq!(plan.skipped_emails.len(), 1);
    }

    fn taken_emails(emails: &[&str]) -> TakenChannels {
        TakenChannels {
            emails: strings(emails),
            ..Default::default()
        }
    }

    #[test]
    fn a_feed_subscription_needs_no_url_or_email_but_only_one_feed_per_target() {
        let channels = RequestedChannels::parse_with_feed(None, &[], true).unwrap();
        assert!(
            channels
                .clone()
                .plan(&TakenChannels::default())
                .unwrap()
                .feed
        );
        let taken = TakenChannels {
            feed: true,
            ..Default::default()
        };
        assert_eq!(
            channels.plan(&taken),
            Err(DuplicateError::FeedAlreadySubscribed)
        );
        // The feed keeps a subscription whose emails are all taken.
        let channels = RequestedChannels::parse_with_feed(None, &strings(&["a@x.io"]), true);
        let plan = channels.unwrap().plan(&taken_emails(&["a@x.io"])).unwrap();
        assert!(plan.feed && plan.emails.is_empty());
    }
}
