//! The `skyhook` binary: key management, configuration errors, OpenAPI output, health check
//! and graceful shutdown.

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_skyhook");

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env(
                "SKYHOOK_DATABASE__URL",
                format!("sqlite://{}", self.dir.path().join("s.db").display()),
            )
            .env("SKYHOOK_LOG__LEVEL", "warn")
            .env_remove("SKYHOOK_CONFIG")
            .env_remove("RUST_LOG");
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn keys_are_created_listed_and_revoked_without_ever_showing_the_key_again() {
    let sandbox = Sandbox::new();
    let created = sandbox.run(&["keys", "create", "acme-tms"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let out = stdout(&created);
    let key = out.lines().last().unwrap();
    assert!(
        key.starts_with("sk_") && !key.contains(' '),
        "last line is the key alone: {out}"
    );

    let duplicate = sandbox.run(&["keys", "create", "acme-tms"]);
    assert!(!duplicate.status.success());
    assert!(
        stderr(&duplicate).contains("already exists"),
        "{}",
        stderr(&duplicate)
    );

    let listed = stdout(&sandbox.run(&["keys", "list"]));
    assert!(
        listed.contains("acme-tms") && listed.contains("active"),
        "{listed}"
    );
    assert!(!listed.contains(key), "keys list must never print a key");

    assert!(
        sandbox
            .run(&["keys", "revoke", "acme-tms"])
            .status
            .success()
    );
    assert!(stdout(&sandbox.run(&["keys", "list"])).contains("revoked"));
    let again = sandbox.run(&["keys", "revoke", "acme-tms"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("no active API key named `acme-tms`"));

    let bad_name = sandbox.run(&["keys", "create", "has space"]);
    assert!(!bad_name.status.success());
    assert!(
        stderr(&bad_name).contains("key name"),
        "{}",
        stderr(&bad_name)
    );
}

#[test]
fn a_key_carries_the_private_networks_its_callbacks_may_reach() {
    let sandbox = Sandbox::new();
    let created = sandbox.run(&[
        "keys",
        "create",
        "acme-tms",
        "--allow-network",
        "10.20.0.0/16",
        "--allow-network",
        "fd00::/8",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let listed = stdout(&sandbox.run(&["keys", "list"]));
    assert!(
        listed.contains("networks: 10.20.0.0/16, fd00::/8"),
        "{listed}"
    );

    let bad = sandbox.run(&["keys", "create", "other", "--allow-network", "10.1.0.0/8"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("10.1.0.0/8"), "{}", stderr(&bad));
    assert!(
        !stdout(&sandbox.run(&["keys", "list"])).contains("other"),
        "nothing is created when a network is wrong"
    );

    let cleared = sandbox.run(&["keys", "set-networks", "acme-tms"]);
    assert!(cleared.status.success(), "{}", stderr(&cleared));
    let listed = stdout(&sandbox.run(&["keys", "list"]));
    assert!(listed.contains("networks: public only"), "{listed}");
    let unknown = sandbox.run(&["keys", "set-networks", "nobody", "10.0.0.0/8"]);
    assert!(!unknown.status.success());
}

#[test]
fn invalid_configuration_stops_startup_naming_the_key() {
    let sandbox = Sandbox::new();
    let bad_duration = sandbox
        .command(&["migrate"])
        .env("SKYHOOK_SUBSCRIPTIONS__TTL", "three weeks")
        .output()
        .unwrap();
    assert!(!bad_duration.status.success());
    let message = stderr(&bad_duration);
    assert!(
        message.contains("subscriptions.ttl") && message.contains("three weeks"),
        "{message}"
    );

    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "[database]\nmax_conections = 3").unwrap();
    let typo = sandbox.run(&["migrate", "--config", file.path().to_str().unwrap()]);
    assert!(!typo.status.success());
    assert!(
        stderr(&typo).contains("max_conections"),
        "{}",
        stderr(&typo)
    );

    let missing = sandbox.run(&["migrate", "--config", "/nonexistent/skyhook.toml"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("/nonexistent/skyhook.toml"));

    let bad_url = sandbox
        .command(&["migrate"])
        .env("SKYHOOK_DATABASE__URL", "mysql://localhost/x")
        .output()
        .unwrap();
    assert!(
        stderr(&bad_url).contains("database.url"),
        "{}",
        stderr(&bad_url)
    );
}

#[test]
fn a_config_file_and_the_environment_override_the_defaults_in_that_order() {
    let sandbox = Sandbox::new();
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "[subscriptions]\nttl = \"0s\"").unwrap();
    let from_file = sandbox.run(&["migrate", "--config", file.path().to_str().unwrap()]);
    assert!(
        stderr(&from_file).contains("subscriptions.ttl"),
        "file value was not used"
    );
    let env_wins = sandbox
        .command(&["migrate", "--config", file.path().to_str().unwrap()])
        .env("SKYHOOK_SUBSCRIPTIONS__TTL", "14d")
        .output()
        .unwrap();
    assert!(env_wins.status.success(), "{}", stderr(&env_wins));
}

#[test]
fn openapi_prints_the_document() {
    let output = Sandbox::new().run(&["openapi"]);
    assert!(output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(doc["paths"]["/v1/subscriptions"]["post"].is_object());
}

#[test]
fn serve_answers_healthcheck_and_stops_gracefully_on_sigterm() {
    let sandbox = Sandbox::new();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let listen = format!("127.0.0.1:{port}");
    let healthcheck = || {
        sandbox
            .command(&["healthcheck"])
            .env("SKYHOOK_SERVER__LISTEN", &listen)
            .output()
            .unwrap()
            .status
            .success()
    };
    assert!(!healthcheck(), "nothing is listening yet");

    let mut server = sandbox
        .command(&[])
        .env("SKYHOOK_SERVER__LISTEN", &listen)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !healthcheck() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "server never became ready"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopping = Instant::now();
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "exit status after SIGTERM: {status}");
            break;
        }
        assert!(
            stopping.elapsed() < Duration::from_secs(10),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
