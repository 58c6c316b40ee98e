//! Email delivery: rendering queued messages ([`render()`]) and sending them with lettre, either
//! over SMTP or — when no SMTP server is configured — as `.eml` files in an outbox directory,
//! so that the embedded default configuration shows what would have been sent.
//!
//! Every email goes to exactly one recipient (no recipient sees another) and carries RFC 8058
//! one-click unsubscribe headers. Each send opens a connection of its own (lettre's `pool`
//! feature is off): an attempt cut off mid-conversation drops its connection, where a pool
//! would hand the half-spoken session to the next email. Emails are batched per address, so
//! the extra handshake per email costs little. Recipients are masked ([`mask`]) wherever they are logged.

pub mod attempt;
pub mod render;

pub use render::{EmailContent, render};

use crate::domain::EmailAddress;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::file::Error as FileError;
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long connecting to the relay may take. lettre applies it to the connection only, not to
/// the relay's replies: the dispatcher's attempt deadline bounds the whole conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an email could not be configured or sent. No variant's message contains an SMTP
/// password or a recipient's full address.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A setting is unusable; `setting` is its configuration key, e.g. `email.smtp_url`.
    #[error("invalid `{setting}`: {reason}")]
    Config {
        setting: &'static str,
        reason: String,
    },
    #[error("cannot create the email outbox directory {}", path.display())]
    OutboxDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The recipient passed our address check but not lettre's (e.g. a non-ASCII domain).
    #[error("the recipient {masked} is not an address the mailer can send to")]
    Recipient { masked: String },
    #[error("cannot build the email")]
    Build(#[source] lettre::error::Error),
    #[error("SMTP delivery failed")]
    Smtp(#[source] SmtpError),
    #[error("cannot write the email file")]
    File(#[source] FileError),
}

impl MailError {
    /// True when trying again cannot help: a 5xx SMTP reply (e.g. unknown mailbox), or an email
    /// that cannot be built. Transient replies (4xx), network and file errors are worth retrying.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Smtp(e) => e.is_permanent(),
            Self::Recipient { .. } | Self::Build(_) | Self::Config { .. } => true,
            Self::OutboxDir { .. } | Self::File(_) => false,
        }
    }
}

/// Sends rendered emails through the configured backend.
#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    backend: Backend,
}

#[derive(Clone)]
enum Backend {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The URL without its password, for [`Mailer::describe`].
        endpoint: String,
    },
    File {
        transport: AsyncFileTransport<Tokio1Executor>,
        dir: PathBuf,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Mailer {
    /// A mailer for the `email.*` settings: SMTP when `smtp_url` is given (lettre's URL syntax,
    /// e.g. `smtp://127.0.0.1:2525`, `smtps://user:pass@host`, `smtp://host?tls=required`),
    /// otherwise `.eml` files written into `outbox_dir`, which is created if missing. A blank
    /// `smtp_url` counts as absent, so an environment variable can switch SMTP off.
    ///
    pub fn from_settings(
        smtp_url: Option<&str>,
        outbox_dir: &Path,
        from: &str,
    ) -> Result<Mailer, MailError> {
        let from: Mailbox = from.parse().map_err(|e| MailError::Config {
            setting: "email.from",
            reason: format!("`{from}` is not a mailbox: {e}"),
        })?;
        let backend = match smtp_url.map(str::trim).filter(|u| !u.is_empty()) {
            Some(url) => {
                // lettre's messages never echo the URL, so they are safe to pass on.
                let invalid = |reason: String| MailError::Config {
                    setting: "email.smtp_url",
                    reason,
                };
                let endpoint = without_password(url).ok_or_else(|| {
                    invalid("not a URL such as smtp://host:2525 or smtps://user:pass@host".into())
                })?;
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| invalid(e.to_string()))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Backend::Smtp {
                    transport,
                    endpoint,
                }
            }
            None => {
                std::fs::create_dir_all(outbox_dir).map_err(|source| MailError::OutboxDir {
                    path: outbox_dir.to_owned(),
                    source,
                })?;
                Backend::File {
                    transport: AsyncFileTransport::new(outbox_dir),
                    dir: outbox_dir.to_owned(),
                }
            }
        };
        Ok(Mailer { from, backend })
    }

    /// Sends one email to one recipient as `multipart/alternative` (plain text and HTML), with
    /// `List-Unsubscribe: <unsubscribe_url>` and `List-Unsubscribe-Post:
    /// List-Unsubscribe=One-Click` so mail programs offer a one-click unsubscribe button.
    #[tracing::instrument(name = "email.send", skip_all, fields(to = %mask(to.as_str())))]
    pub async fn send(
        &self,
        to: &EmailAddress,
        content: &EmailContent,
        unsubscribe_url: &str,
    ) -> Result<(), MailError> {
        let recipient: Mailbox = to.as_str().parse().map_err(|_| MailError::Recipient {
            masked: mask(to.as_str()),
        })?;
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(recipient)
            .subject(content.subject.as_str())
            // Relays do not all add one, and spam filters penalise its absence; the sender's
            // domain is a better right-hand side than this machine's host name.
            .message_id(Some(format!(
                "<{}@{}>",
                uuid::Uuid::new_v4().simple(),
                self.from.email.domain()
            )))
            // HeaderValue::new encodes anything unsafe, so a URL cannot inject header lines.
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{unsubscribe_url}>"),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                content.text.clone(),
                content.html.clone(),
            ))
            .map_err(MailError::Build)?;
        match &self.backend {
            Backend::Smtp { transport, .. } => {
                transport.send(email).await.map_err(MailError::Smtp)?;
            }
            Backend::File { transport, .. } => {
                transport.send(email).await.map_err(MailError::File)?;
            }
        }
        tracing::debug!("email sent");
        Ok(())
    }

    /// Where emails go, for the startup log; never includes a password.
    pub fn describe(&self) -> String {
        match &self.backend {
            Backend::Smtp { endpoint, .. } => format!("SMTP {endpoint} as {}", self.from),
            Backend::File { dir, .. } => format!(
                ".eml files in {} as {} (no SMTP server configured)",
                dir.display(),
                self.from
            ),
        }
    }
}

fn without_password(url: &str) -> Option<String> {
    let mut url = url::Url::parse(url).ok()?;
    if url.password().is_some() {
        url.set_password(Some("***")).ok()?;
    }
    Some(url.to_string())
}

/// An address as it may appear in logs: the first character of the local part, then `***`,
/// then the domain (`o***@example.com`). Enough to tell recipients apart, not to harvest them.
pub fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => match local.chars().next() {
            Some(first) => format!("{first}***@{domain}"),
            None => format!("***@{domain}"),
        },
        None => "***".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_to_their_first_letter_and_domain() {
        assert_eq!(mask("ops@example.com"), "o***@example.com");
        assert_eq!(mask("@example.com"), "***@example.com");
        assert_eq!(mask("not-an-address"), "***");
    }

    #[tokio::test]
    async fn an_smtp_mailer_describes_itself_without_the_password() {
        crate::telemetry::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::from_settings(
            Some("smtps://user:s3cret-pw@smtp.example.com"),
            dir.path(),
            "Skyhook <skyhook@example.com>",
        )
        .unwrap();
        let described = mailer.describe();
        assert!(!described.contains("s3cret-pw"), "{described}");
        assert!(!format!("{mailer:?}").contains("s3cret-pw"));
        assert!(described.contains("smtp.example.com"), "{described}");
    }

    #[tokio::test]
    async fn an_invalid_smtp_url_names_the_setting_and_not_the_password() {
        let dir = tempfile::tempdir().unwrap();
        for url in [
            "ftp://user:s3cret-pw@smtp.example.com",
            "smtp://user:s3cret-pw@:25",
            "no url at all s3cret-pw",
        ] {
            let err =
                Mailer::from_settings(Some(url), dir.path(), "skyhook@example.com").expect_err(url);
            let message = err.to_string();
            assert!(message.contains("email.smtp_url"), "{message}");
            assert!(!message.contains("s3cret-pw"), "{message}");
        }
    }

    #[test]
    fn an_invalid_from_address_names_the_setting() {
        let dir = tempfile::tempdir().unwrap();
        let err = Mailer::from_settings(None, dir.path(), "not an address").unwrap_err();
        assert!(err.to_string().contains("email.from"), "{err}");
    }

    #[test]
    fn without_smtp_the_outbox_directory_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = dir.path().join("data").join("mail");
        let mailer = Mailer::from_settings(Some("  "), &outbox, "skyhook@example.com").unwrap();
        assert!(outbox.is_dir());
        assert!(mailer.describe().contains("no SMTP server configured"));
    }
}
