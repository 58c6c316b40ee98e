//! Tests of the SSRF guard: literal hosts, resolved addresses, and a guarded client against a
//! local server.

use super::*;
use crate::domain::Cidr;
use axum::Router;
use axum::response::Redirect;
use axum::routing::get;

fn guard(allow: &[&str]) -> CallbackGuard {
    CallbackGuard::new(AllowNetworks(
        allow.iter().map(|n| Cidr::parse(n).unwrap()).collect(),
    ))
}

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn addrs(ips: &[&str]) -> Vec<SocketAddr> {
    ips.iter()
        .map(|ip| SocketAddr::new(ip.parse().unwrap(), 443))
        .collect()
}

#[test]
fn literal_hosts_are_refused_in_every_spelling_the_url_crate_normalises() {
    for (input, expected) in [
        (
            "http://127.0.0.1/",
            "callback host 127.0.0.1 is loopback address 127.0.0.1",
        ),
        (
            "http://2130706433/",
            "callback host 127.0.0.1 is loopback address 127.0.0.1",
        ),
        (
            "http://0x7f.1/",
            "callback host 127.0.0.1 is loopback address 127.0.0.1",
        ),
        (
            "http://0177.0.0.1/",
            "callback host 127.0.0.1 is loopback address 127.0.0.1",
        ),
        (
            "http://127.1:8080/",
            "callback host 127.0.0.1 is loopback address 127.0.0.1",
        ),
        (
            "http://127.0.0.1./",
            "callback host 127.0.0.1 is loopback address 127.0.0.1",
        ),
        (
            "https://0/",
            "callback host 0.0.0.0 is unspecified address 0.0.0.0",
        ),
        (
            "http://[::1]/",
            "callback host [::1] is loopback address ::1",
        ),
        (
            "http://[::ffff:127.0.0.1]/",
            "callback host [::ffff:7f00:1] is loopback address 127.0.0.1",
        ),
        (
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
            "callback host [64:ff9b::a9fe:a9fe] is cloud metadata address 169.254.169.254",
        ),
        (
            "http://169.254.169.254/",
            "callback host 169.254.169.254 is cloud metadata address 169.254.169.254",
        ),
        (
            "https://10.1.2.3/hook",
            "callback host 10.1.2.3 is private address 10.1.2.3",
        ),
        (
            "http://[fd00::1]/",
            "callback host [fd00::1] is unique local address fd00::1",
        ),
        (
            "foo://127.0.0.1/",
            "callback host 127.0.0.1 is loopback address 127.0.0.1",
        ),
    ] {
        let err = guard(&[]).check_literal(&url(input)).unwrap_err();
        assert_eq!(err.to_string(), expected, "{input}");
    }
}

#[test]
fn public_literals_names_and_exempt_networks_pass_the_literal_check() {
    let open = guard(&[]);
    for input in [
        "https://8.8.8.8/",
        "https://[2606:4700:4700::1111]/",
        "https://localhost/",
        "https://tms.example.com/hooks",
    ] {
        assert!(open.check_literal(&url(input)).is_ok(), "{input}");
    }
    let exempt = guard(&["127.0.0.0/8", "10.0.0.0/8"]);
    for input in [
        "http://127.0.0.1:9000/",
        "http://[::ffff:127.0.0.1]/",
        "http://10.9.8.7/",
    ] {
        assert!(exempt.check_literal(&url(input)).is_ok(), "{input}");
    }
    assert!(exempt.check_literal(&url("http://[::1]/")).is_err());
    assert!(
        exempt
            .check_literal(&url("http://169.254.169.254/"))
            .is_err()
    );
    assert!(matches!(
        open.check_literal(&url("mailto:ops@example.com")),
        Err(GuardError::NoHost)
    ));
}

#[test]
fn every_resolved_address_must_be_callable_at_subscribe_time() {
    let open = guard(&[]);
    assert!(
        open.check_resolved("tms.example", addrs(&["8.8.8.8", "2606:4700::1"]))
            .is_ok()
    );
    let err = open
        .check_resolved("tms.example", addrs(&["8.8.8.8", "10.0.0.5"]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "callback host tms.example does not resolve to a public address \
         (see webhooks.allow_networks)",
        "the tenant learns nothing of where the name points"
    );
    assert!(
        matches!(err, GuardError::ForbiddenResolution { reason, .. }
            if reason.to_string() == "private address 10.0.0.5"),
        "the operator's log does: {err:?}"
    );
    assert!(
        guard(&["10.0.0.0/8"])
            .check_resolved("tms.example", addrs(&["8.8.8.8", "10.0.0.5"]))
            .is_ok()
    );
}

#[test]
fn the_resolver_keeps_callable_addresses_and_fails_when_none_are_left() {
    let open = guard(&[]);
    let kept = open
        .filter_resolved(
            "tms.example",
            addrs(&["127.0.0.1", "8.8.8.8", "::ffff:10.0.0.1", "1.1.1.1"]),
        )
        .unwrap();
    assert_eq!(kept, addrs(&["8.8.8.8", "1.1.1.1"]));
    let err = open
        .filter_resolved("rebind.example", addrs(&["::ffff:127.0.0.1", "10.0.0.1"]))
        .unwrap_err();
    assert!(
        matches!(&err, GuardError::ForbiddenResolution { reason, .. }
            if reason.to_string() == "loopback address 127.0.0.1"),
        "{err:?}"
    );
    assert!(!err.to_string().contains("127.0.0.1"), "{err}");
    let err = open.filter_resolved("empty.example", []).unwrap_err();
    assert_eq!(
        err.to_string(),
        "callback host empty.example resolves to no addresses"
    );
}

#[tokio::test]
async fn the_subscribe_time_check_resolves_names() {
    // /etc/hosts maps localhost to 127.0.0.1 on every machine these tests run on.
    let err = guard(&[])
        .check(&url("http://localhost:8080/hook"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, GuardError::ForbiddenResolution { reason, .. }
            if reason.to_string().starts_with("loopback address")),
        "{err:?}"
    );
    guard(&["127.0.0.0/8", "::1/128"])
        .check(&url("http://localhost:8080/hook"))
        .await
        .expect("loopback is exempt");
    let err = guard(&[])
        .check(&url("http://127.0.0.1/"))
        .await
        .unwrap_err();
    assert!(matches!(err, GuardError::ForbiddenHost { .. }), "{err}");
    // .invalid never resolves (RFC 6761): no SSRF risk, so no refusal either.
    guard(&[])
        .check(&url("https://no-such-host.invalid/hook"))
        .await
        .expect("unresolvable names are let through");
}

#[tokio::test]
async fn the_resolver_refuses_forbidden_names_by_itself() {
    let resolver = GuardedResolver::new(Arc::new(guard(&[])));
    let refusal = |host: &'static str| {
        let resolving = resolver.resolve(host.parse().unwrap());
        async { resolving.await.err().expect("refused").to_string() }
    };
    let err = refusal("localhost").await;
    assert!(
        err.contains("localhost does not resolve to a public address"),
        "{err}"
    );
    let err = refusal("no-such-host.invalid").await;
    assert!(
        err.starts_with("cannot resolve callback host no-such-host.invalid"),
        "{err}"
    );
    let exempt = GuardedResolver::new(Arc::new(guard(&["127.0.0.0/8"])));
    let resolved: Vec<SocketAddr> = exempt
        .resolve("localhost".parse().unwrap())
        .await
        .unwrap()
        .collect();
    assert!(
        resolved
            .iter()
            .any(|a| a.ip() == IpAddr::from([127, 0, 0, 1])),
        "{resolved:?}"
    );
}

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

fn client(guard: CallbackGuard) -> reqwest::Client {
    crate::telemetry::install_crypto_provider();
    guarded_client_builder(Arc::new(guard)).build().unwrap()
}

#[tokio::test]
async fn guarded_clients_refuse_forbidden_hosts_and_do_not_follow_redirects() {
    let app = Router::new()
        .route("/hook", get(|| async { "ok" }))
        .route("/moved", get(|| async { Redirect::temporary("/hook") }));
    let port = serve(app).await.port();

    let err = client(guard(&[]))
        .get(format!("http://localhost:{port}/hook"))
        .send()
        .await
        .unwrap_err();
    let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ");
    assert!(
        chain.contains("callback host localhost does not resolve to a public address"),
        "{chain}"
    );

    let exempt = client(guard(&["127.0.0.0/8"]));
    let ok = exempt
        .get(format!("http://localhost:{port}/hook"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.text().await.unwrap(), "ok");
    let moved = exempt
        .get(format!("http://localhost:{port}/moved"))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), reqwest::StatusCode::TEMPORARY_REDIRECT);
}
