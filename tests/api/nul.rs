//! A carrier answer with NUL characters in its texts: Postgres cannot store `\u0000` in `jsonb`
//! or `text`, so without care every poll of that shipment would fail there, forever.

use crate::delivery::{AWB, DeliveryRig};
use crate::helpers::{Backend, on_both_backends};
use serde_json::json;
use skyhook::domain::AwbNumber;

on_both_backends!(an_answer_with_nul_characters_is_stored_without_them);

async fn an_answer_with_nul_characters_is_stored_without_them(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    rig.subscribe_url("/hook").await;
    let answer = || {
        vec![json!({
            "code": "RCS", "eventDate": "2026-11-24T09:00:00+01:00",
            "eventLocation": "FR\u{0}A", "isPlanned": false, "pieces": "3", "weight": "120.0",
            "remark\u{0}": "received\u{0} in good order"
        })]
    };
    rig.poll(answer()).await;
    let awb = AwbNumber::parse(AWB).unwrap();
    let view = rig.app.store.get_shipment(rig.tenant, &awb).await.unwrap();
    let view = view.expect("the shipment is stored");
    assert!(
        view.last_error.is_none(),
        "the poll was recorded: {:?}",
        view.last_error
    );
    let events: Vec<_> = view.events.iter().map(|e| e.event.code.clone()).collect();
    assert_eq!(events, ["RCS"]);
    assert_eq!(rig.dispatch().await, 1);
    let body = rig.receiver.posts()[0].body.clone();
    assert!(!body.contains("\\u0000"), "{body}");
    assert!(
        body.contains(r#""eventLocation":"FRA""#),
        "the rest of the text stays: {body}"
    );

    // The same answer again is nothing new: what was stored is what is read.
    rig.advance(chrono::TimeDelta::hours(3));
    rig.poll(answer()).await;
    assert_eq!(rig.dispatch().await, 0);
}
