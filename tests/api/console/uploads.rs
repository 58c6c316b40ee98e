//! The CSV upload over plain HTTP: each row's result, a file far over the API's 64 KiB read
//! whole, a larger one refused, and nothing read without the CSRF token.

use super::{Page, Visitor, console_app};
use crate::helpers::{Backend, on_both_backends};

on_both_backends!(
    a_csv_upload_gives_each_row_its_result,
    a_thousand_row_upload_is_read_whole_and_a_larger_file_refused,
);

async fn a_csv_upload_gives_each_row_its_result(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    visitor.get("/console/subscriptions/new").await;
    let csv = "awb,emails,reference\n000-00000011,a@example.com,PO-1\n000-00000012,b@example.com,PO-2\n000-00000022,c@example.com;d@example.com,PO-3\n";
    let csrf = visitor.csrf.clone();
    let page = upload(&mut visitor, Some(&csrf), csv.as_bytes().to_vec()).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("2 created, 1 rejected"), "{}", page.body);
    assert!(page.body.contains("ErrInvalidAWBCheckDigit"));
    let stored = app.all_subscriptions(&key).await;
    let mut references: Vec<&str> = stored
        .iter()
        .map(|s| s["reference"].as_str().unwrap())
        .collect();
    references.sort();
    assert_eq!(references, ["PO-1", "PO-3"]);
    // Without the token nothing is read.
    let refused = upload(&mut visitor, None, b"awb\n000-00000033\n".to_vec()).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.all_subscriptions(&key).await.len(), 2);
}

/// Posts `csv` as the upload form's file, with `csrf` as its token if given.
async fn upload(visitor: &mut Visitor<'_>, csrf: Option<&str>, csv: Vec<u8>) -> Page {
    let mut form = reqwest::multipart::Form::new();
    if let Some(csrf) = csrf {
        form = form.text("csrf", csrf.to_owned());
    }
    let form = form.part(
        "csv",
        reqwest::multipart::Part::bytes(csv)
            .file_name("awbs.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let request = visitor
        .client
        .post(format!(
            "{}/console/subscriptions/import",
            visitor.app.address
        ))
        .multipart(form);
    visitor.send(request).await
}

async fn a_thousand_row_upload_is_read_whole_and_a_larger_file_refused(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    // 1,000 rows with long references: far over the API's 64 KiB, under the batch's 2 MiB.
    let mut csv = String::from("awb,emails,reference\n");
    for n in 0..1000 {
        csv.push_str(&format!(
            "{},ops@example.com,PO-{n:04}-{}\n",
            crate::helpers::awb("000", n + 100),
            "x".repeat(60)
        ));
    }
    assert!(csv.len() > 64 * 1024);
    visitor.get("/console/subscriptions/new").await;
    let csrf = visitor.csrf.clone();
    let page = upload(&mut visitor, Some(&csrf), csv.into_bytes()).await;
    assert_eq!(
        page.status,
        200,
        "{}",
        &page.body[..page.body.len().min(2000)]
    );
    let rows = regex::Regex::new(r"<tr class=")
        .unwrap()
        .find_iter(&page.body)
        .count();
    assert_eq!(rows, 1000, "every row answered");
    assert!(
        page.body.contains("1000 created, 0 rejected"),
        "all of them subscribed"
    );
    let too_big = vec![b'a'; 3 * 1024 * 1024];
    let refused = upload(&mut visitor, Some(&csrf), too_big).await;
    assert_eq!(refused.status, 413, "{}", refused.body);
    assert!(refused.body.contains("ErrPayloadTooLarge"));
    assert!(refused.body.contains("2048 KiB"), "the file's own limit");

    // One row past the batch's 1,000: refused whole, nothing created.
    let mut csv = String::from("awb\n");
    for n in 0..1001 {
        csv.push_str(&format!("{}\n", crate::helpers::awb("000", n + 5000)));
    }
    let refused = upload(&mut visitor, Some(&csrf), csv.into_bytes()).await;
    assert!(refused.body.contains("ErrTooManyItems"), "{}", refused.body);
    let first = crate::helpers::awb("000", 5000);
    let found = app
        .get(&format!("/v1/subscriptions?awb={first}"), &key)
        .await;
    assert_eq!(
        found.body["items"],
        serde_json::json!([]),
        "nothing created"
    );
}
