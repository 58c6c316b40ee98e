//! The browser-test harness: a headless Chromium driven over WebDriver by `fantoccini`, each
//! [`Browser`] with a chromedriver of its own (nextest runs every test in its own process, so
//! several run at once), plus the helpers the console scenarios are written with.
//!
//! Without chromedriver or Chromium a test that asks for a browser prints `SKIPPED: …` and
//! passes, as the Postgres tests do without a database; with `SKYHOOK_REQUIRE_BROWSER` set (CI
//! sets it, `.ci/run`) it fails instead, so CI never passes on tests that did not run.

mod launch;
mod smoke;

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use launch::{Driver, REQUIRE_BROWSER_VAR, WhenUnavailable, when_unavailable};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long [`Browser::wait_for`] and the helpers built on it wait by default.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(100);

/// A headless Chromium driven over WebDriver, with its own chromedriver process on a free port
/// (killed on drop).
pub struct Browser {
    pub client: Client,
    /// How long the `wait_*` helpers (and the helpers that find elements) wait.
    pub wait: Duration,
    /// Dropped after `client` (fields drop in order): the session first, then its driver.
    driver: Driver,
}

impl Browser {
    /// `None` (after printing `SKIPPED: <why>` like tests/api/helpers.rs does for Postgres)
    /// when chromedriver or Chromium cannot be found or started — unless
    /// `SKYHOOK_REQUIRE_BROWSER` is set, then it panics with the reason.
    pub async fn start() -> Option<Browser> {
        match launch::launch().await {
            Ok((client, driver)) => Some(Browser {
                client,
                wait: DEFAULT_WAIT,
                driver,
            }),
            Err(why) => {
                let require = std::env::var(REQUIRE_BROWSER_VAR).ok();
                match when_unavailable(&why.to_string(), require.as_deref()) {
                    WhenUnavailable::Skip(line) => {
                        eprintln!("{line}");
                        None
                    }
                    WhenUnavailable::Fail(message) => panic!("{message}"),
                }
            }
        }
    }

    /// Saves a PNG screenshot of the current page to `target/console-screenshots/{name}.png`
    /// (creating the folder) and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        assert!(
            !name.is_empty() && !name.contains(['/', '\\']) && name != "." && name != "..",
            "a screenshot name is one file name, not {name:?}"
        );
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Navigates to `url` (and waits for the page to load).
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("go to {url}: {e}"));
    }

    /// The page's URL, for messages.
    pub async fn url(&self) -> String {
        match self.client.current_url().await {
            Ok(url) => url.to_string(),
            Err(e) => format!("<unknown URL: {e}>"),
        }
    }

    /// Waits (up to [`Browser::wait`], polling) until an element matching the CSS selector
    /// exists, and returns it; panics naming the selector and the page URL on timeout.
    pub async fn wait_for(&self, css: &str) -> Element {
        self.wait_for_located(Locator::Css(css), &format!("CSS `{css}`"))
            .await
    }

    async fn wait_for_located(&self, locator: Locator<'_>, what: &str) -> Element {
        match self
            .client
            .wait()
            .at_most(self.wait)
            .every(POLL_EVERY)
            .for_element(locator)
            .await
        {
            Ok(element) => element,
            Err(fantoccini::error::CmdError::WaitTimeout) => panic!(
                "no element matching {what} within {:?} on {}",
                self.wait,
                self.url().await
            ),
            Err(e) => panic!("looking for {what} on {}: {e}", self.url().await),
        }
    }

    /// Waits until the text of the element matching `css` satisfies `pred`; returns the text.
    /// Panics on timeout with the selector, the page URL and the last text seen.
    pub async fn wait_for_text(&self, css: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + self.wait;
        let mut last = None;
        loop {
            // The element may not exist yet, or be replaced between the find and the read.
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if pred(&text) {
                    return text;
                }
                last = Some(text);
            }
            if Instant::now() > deadline {
                panic!(
                    "the text of CSS `{css}` did not become what was waited for within {:?} on \
                     {}; last seen: {}",
                    self.wait,
                    self.url().await,
                    last.map_or("<no such element>".to_owned(), |t| format!("{t:?}")),
                );
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Fills the form field named `name` (a `<select>` by option value, any other field by
    /// clearing it and typing).
    pub async fn fill(&self, name: &str, value: &str) {
        let field = self.wait_for(&format!("[name={}]", css_string(name))).await;
        let filled = async {
            if field.tag_name().await?.eq_ignore_ascii_case("select") {
                field.select_by_value(value).await
            } else {
                field.clear().await?;
                field.send_keys(value).await
            }
        };
        if let Err(e) = filled.await {
            panic!("fill field `{name}` on {}: {e}", self.url().await);
        }
    }

    /// Clicks the button whose visible label is `label` (a `<button>`, or an `<input>` button by
    /// its value), waiting for it to appear.
    pub async fn click_button(&self, label: &str) {
        let label_literal = xpath_string(label);
        let xpath = format!(
            "//button[normalize-space(.)={label_literal}] | \
             //input[(@type='submit' or @type='button' or @type='reset') and @value={label_literal}]"
        );
        let button = self
            .wait_for_located(Locator::XPath(&xpath), &format!("button `{label}`"))
            .await;
        if let Err(e) = button.click().await {
            panic!("click button `{label}` on {}: {e}", self.url().await);
        }
    }

    /// Clicks the first link whose visible text is `text`, waiting for it to appear.
    pub async fn click_link(&self, text: &str) {
        let link = self
            .wait_for_located(Locator::LinkText(text), &format!("link `{text}`"))
            .await;
        if let Err(e) = link.click().await {
            panic!("click link `{text}` on {}: {e}", self.url().await);
        }
    }

    /// The page's visible text (`document.body.innerText`).
    pub async fn page_text(&self) -> String {
        let text = self
            .client
            .execute(
                "return document.body ? document.body.innerText : '';",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("read the page text: {e}"));
        text.as_str().unwrap_or_default().to_owned()
    }

    /// Closes the session (closing Chromium); chromedriver stops when the value is dropped.
    pub async fn close(self) {
        let Browser { client, driver, .. } = self;
        if let Err(e) = client.close().await {
            panic!("close the browser session: {e}");
        }
        drop(driver);
    }
}

/// `$CARGO_TARGET_DIR/console-screenshots`, else the package's `target/console-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => manifest.join(dir),
        _ => manifest.join("target"),
    };
    target.join("console-screenshots")
}

/// `text` as a quoted CSS string.
fn css_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `text` as an XPath 1.0 string literal, which has no escapes: `concat()` when it holds both
/// quote kinds.
fn xpath_string(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}
