//! `skyhook import FILE.csv --key-name NAME`, the real binary on either backend: rows become
//! subscriptions batch by batch, and every rejected row lands in the rejected-rows CSV with the
//! error the API would have answered.

use crate::helpers::{Backend, TestDb, awb, hook, on_both_backends};
use skyhook::store::PageRequest;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_skyhook");

on_both_backends!(an_import_subscribes_every_good_row_and_lists_the_rejected_ones);

fn skyhook(db: &TestDb, dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("SKYHOOK_DATABASE__URL", &db.url)
        .env("SKYHOOK_LOG__LEVEL", "warn")
        // The callbacks here are not reachable; the SSRF guard still applies.
        .env("SKYHOOK_WEBHOOKS__PREFLIGHT", "off")
        .env_remove("SKYHOOK_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn an_import_subscribes_every_good_row_and_lists_the_rejected_ones(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let dir = tempfile::tempdir().unwrap();
    let created = skyhook(&db, dir.path(), &["keys", "create", "acme"]);
    assert!(created.status.success(), "{}", text(&created.stderr));

    // Columns in another order than documented; 2,500 good rows make three batches.
    let mut csv = String::from("reference,awb,url,emails\n");
    for i in 0..2500 {
        csv.push_str(&format!("PO-{i},{},{},\n", awb("000", i), hook(1)));
    }
    let bad = [
        format!("bad-check,000-00000012,{},", hook(1)),
        format!("no-carrier,{},{},", awb("020", 1), hook(1)),
        format!("duplicate,{},{},", awb("000", 7), hook(1)),
        format!("loopback,{},http://127.0.0.1:9/h,", awb("000", 9000)),
        format!("no-channel,{},,", awb("000", 9001)),
    ];
    for row in &bad {
        csv.push_str(row);
        csv.push('\n');
    }
    csv.push_str(&format!(
        "emails,{},,\"a@x.io; b@x.io\"\n",
        awb("000", 9002)
    ));
    let file = dir.path().join("migration.csv");
    std::fs::write(&file, csv).unwrap();

    let import = skyhook(
        &db,
        dir.path(),
        &["import", "migration.csv", "--key-name", "acme"],
    );
    let (stdout, stderr) = (text(&import.stdout), text(&import.stderr));
    assert_eq!(import.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2506 rows, 2501 created, 5 rejected"),
        "{stdout}"
    );
    let rejected_path = dir.path().join("migration.rejected.csv");
    assert!(
        stdout.contains("Rejected rows, each with its error: /")
            && stdout.contains("/migration.rejected.csv"),
        "says where, as an absolute path: {stdout}"
    );
    // Not a terminal: a plain line per batch, no bar.
    assert!(stderr.contains("rows 1–1000:"), "{stderr}");
    assert!(!stderr.contains('\r'), "{stderr}");

    let rejected = std::fs::read_to_string(&rejected_path).unwrap();
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines[0], "awb,url,emails,reference,error,message");
    let errors: Vec<(&str, &str)> = lines[1..]
        .iter()
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[3], cells[4])
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            ("bad-check", "ErrInvalidAWBCheckDigit"),
            ("no-carrier", "ErrNoCarrier"),
            ("duplicate", "ErrAlreadySubscribed"),
            ("loopback", "ErrInvalidUrl"),
            ("no-channel", "ErrMissingKeyParams"),
        ]
    );

    let store = skyhook::store::connect(&db.url, 2).await.unwrap();
    let tenant = store.list_api_keys().await.unwrap()[0].id;
    let stored = store
        .list_subscriptions(
            tenant,
            &Default::default(),
            PageRequest {
                after: None,
                limit: 5000,
            },
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 2501);
    let with_emails = stored
        .iter()
        .find(|s| s.target.awb().map(ToString::to_string) == Some(awb("000", 9002)))
        .unwrap();
    assert_eq!(with_emails.emails.len(), 2);
    assert!(
        stored
            .iter()
            .any(|s| s.reference.as_ref().map(|r| r.as_str()) == Some("PO-2499"))
    );

    // An unknown key is refused before anything is read.
    let unknown = skyhook(
        &db,
        dir.path(),
        &["import", "migration.csv", "--key-name", "nobody"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains("no active API key named `nobody`"),
        "{}",
        text(&unknown.stderr)
    );
}
