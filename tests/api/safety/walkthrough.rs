//! The README's "first webhook in two minutes", run as written: every `$ ` command of that
//! section, in order, against the real binary in a fresh directory (random ports in place of
//! 8080 and 9000), until `skyhook listen` prints a verified webhook. A command the README gains
//! that this test does not know how to run fails it, so the two cannot drift apart.

use crate::helpers::{Backend, TestDb, on_both_backends};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_skyhook");
const README: &str = include_str!("../../../README.md");
/// How long the walkthrough may take before the test gives up (the README promises two minutes).
const GIVE_UP_AFTER: Duration = Duration::from_secs(120);

on_both_backends!(the_readme_walkthrough_ends_in_a_verified_webhook);

/// The `$ ` commands of the walkthrough, continuation lines joined.
fn walkthrough_commands() -> Vec<String> {
    let start = README
        .find("tests/api/safety/walkthrough.rs")
        .expect("the README marks the walkthrough this test runs");
    let section = &README[start..];
    let section = &section[..section
        .find("End of the commands tests/api/safety/walkthrough.rs runs")
        .expect("the README marks where the commands end")];
    let mut commands: Vec<String> = Vec::new();
    let mut continuing = false;
    for line in section.lines() {
        let line = line.trim_end();
        if continuing {
            commands.last_mut().unwrap().push_str(line.trim_start());
        } else if let Some(command) = line.strip_prefix("$ ") {
            commands.push(command.to_owned());
        } else {
            continue;
        }
        continuing = line.ends_with('\\');
        if continuing {
            let last = commands.last_mut().unwrap();
            last.pop();
        }
    }
    commands
}

/// A child process killed when the test ends, with its output collected line by line.
struct Running {
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
}

impl Running {
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn skyhook");
        let output = Arc::new(Mutex::new(Vec::new()));
        let (stdout, lines) = (child.stdout.take().unwrap(), output.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Self { child, output }
    }

    fn stdin(&mut self) -> &mut ChildStdin {
        self.child.stdin.as_mut().unwrap()
    }

    fn printed(&self) -> Vec<String> {
        self.output.lock().unwrap().clone()
    }

    /// Waits until a printed line satisfies `wanted`, and returns it.
    async fn wait_for(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let give_up = Instant::now() + GIVE_UP_AFTER;
        loop {
            if let Some(line) = self.printed().into_iter().find(|l| wanted(l)) {
                return line;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "exited ({status}) before printing {what}: {:#?}",
                    self.printed()
                );
            }
            assert!(
                Instant::now() < give_up,
                "no {what} printed: {:#?}",
                self.printed()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Running {
    /// Waits until the server on `port` answers `/readyz` with 200.
    async fn wait_until_ready(&mut self, port: u16) {
        let give_up = Instant::now() + GIVE_UP_AFTER;
        let readyz = format!("http://127.0.0.1:{port}/readyz");
        loop {
            match reqwest::get(&readyz).await {
                Ok(answer) if answer.status() == 200 => return,
                _ => {}
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited ({status}): {:#?}", self.printed());
            }
            assert!(Instant::now() < give_up, "the server never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn the_readme_walkthrough_ends_in_a_verified_webhook(backend: Backend) {
    skyhook::telemetry::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    // SQLite: the README's default, `skyhook.db` in the current directory.
    let db = match backend {
        Backend::Sqlite => None,
        Backend::Postgres(_) => Some(TestDb::create(&backend).await),
    };
    let (server_port, listen_port) = (free_port(), free_port());
    let adapt = |text: &str| {
        text.replace("127.0.0.1:8080", &format!("127.0.0.1:{server_port}"))
            .replace("127.0.0.1:9000", &format!("127.0.0.1:{listen_port}"))
    };
    let command = |program: &str| {
        let mut command = Command::new(program);
        command
            .current_dir(dir.path())
            .env_remove("SKYHOOK_CONFIG")
            .env_remove("RUST_LOG")
            .env("SKYHOOK_SERVER__LISTEN", format!("127.0.0.1:{server_port}"))
            .env(
                "SKYHOOK_SERVER__PUBLIC_URL",
                format!("http://127.0.0.1:{server_port}"),
            );
        if let Some(db) = &db {
            command.env("SKYHOOK_DATABASE__URL", &db.url);
        }
        command
    };

    let mut key = String::new();
    let mut subscription_id = String::new();
    let today = chrono::Utc::now().date_naive().to_string();
    let mut webhooks_seen = false;
    let mut listen: Option<Running> = None;
    let mut server: Option<Running> = None;
    let commands = walkthrough_commands();
    assert!(commands.len() >= 5, "{commands:#?}");
    for line in commands {
        let line = adapt(&line).replace("1438c2dc-…", &subscription_id);
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["skyhook", "keys", "create", ..] => {
                let output = command(BIN).args(&words[1..]).output().unwrap();
                assert!(output.status.success(), "{line}: {output:?}");
                let stdout = String::from_utf8(output.stdout).unwrap();
                key = stdout.lines().last().unwrap().trim().to_owned();
                assert!(key.starts_with("sk_"), "{stdout}");
            }
            // What these assign is known here: the key and id printed before, today's date.
            [assignment, ..]
                if ["KEY=", "ID=", "TODAY="]
                    .iter()
                    .any(|name| assignment.starts_with(name)) => {}
            ["skyhook", "listen", ..] => {
                let mut listen_command = command(BIN);
                listen_command.args(&words[1..]);
                if !words.contains(&"--port") {
                    listen_command.args(["--port", &listen_port.to_string()]);
                }
                let mut running = Running::spawn(listen_command);
                running
                    .wait_for("its address", |l| l.contains("Listening for webhooks"))
                    .await;
                listen = Some(running);
            }
            ["skyhook", "serve", ..] => {
                let mut running = Running::spawn({
                    let mut serve = command(BIN);
                    serve.args(&words[1..]);
                    serve
                });
                running
                    .wait_for("the development banner", |l| l.contains("DEVELOPMENT MODE"))
                    .await;
                running.wait_until_ready(server_port).await;
                server = Some(running);
            }
            ["curl", ..] => {
                let output = command("sh")
                    .args(["-c", &line])
                    .env("KEY", &key)
                    .env("ID", &subscription_id)
                    .env("TODAY", &today)
                    .output()
                    .unwrap();
                let stdout = String::from_utf8_lossy(&output.stdout);
                assert!(output.status.success(), "{line}: {output:?}");
                if line.contains("-X DELETE") {
                    assert!(stdout.is_empty(), "{line} answered {stdout:?}");
                    continue;
                }
                let body: serde_json::Value = serde_json::from_str(&stdout)
                    .unwrap_or_else(|e| panic!("{line} answered {stdout:?}: {e}"));
                assert!(body.get("error").is_none(), "{line} failed: {body}");
                if let Some(secret) = body["signingSecret"].as_str() {
                    subscription_id = body["id"].as_str().unwrap().to_owned();
                    // "Paste the signingSecret into the skyhook listen terminal."
                    let listen = listen.as_mut().expect("listen runs before the subscribe");
                    writeln!(listen.stdin(), "{secret}").unwrap();
                    listen
                        .wait_for("that the secret was taken", |l| l.contains("Secret added"))
                        .await;
                }
                if line.contains("/test ") {
                    // Before the rest of the walkthrough changes and ends the subscription.
                    let listen = listen
                        .as_mut()
                        .expect("listen runs before the test message");
                    verified_webhooks_arrive(listen).await;
                    webhooks_seen = true;
                }
            }
            _ => panic!("the walkthrough test does not know how to run `{line}`"),
        }
    }
    assert!(server.is_some(), "the walkthrough starts the server");
    assert!(listen.is_some(), "the walkthrough starts skyhook listen");
    assert!(webhooks_seen, "the walkthrough asks for a test message");
}

/// What `skyhook listen` prints once the subscription's webhooks arrive: a verified
/// `tracking.updated` summarising what is new, and the verified test message.
async fn verified_webhooks_arrive(listen: &mut Running) {
    let tracking = listen
        .wait_for("a verified tracking.updated", |l| {
            l.starts_with("tracking.updated #")
                && l.contains("000-00000000")
                && l.ends_with("signature verified")
        })
        .await;
    assert!(tracking.contains("(PO-4711)"), "{tracking}");
    listen
        .wait_for("the verified test message", |l| {
            l.starts_with("subscription.test #") && l.ends_with("signature verified")
        })
        .await;
    let printed = listen.printed();
    assert!(
        printed
            .iter()
            .any(|l| l.trim_start().starts_with("newEvents: ")),
        "what is new is summarised: {printed:#?}"
    );
    assert!(
        !printed.iter().any(|l| l.contains("NOT verified")),
        "{printed:#?}"
    );
}
