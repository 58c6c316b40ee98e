//! The message feed carries what webhooks carry: a subscription with a URL and the feed gets
//! each message both ways, byte for byte the same body, `webhook-id` included.

use super::{DeliveryRig, booked, departed, id};
use crate::helpers::{Backend, on_both_backends};
use serde_json::json;

on_both_backends!(a_subscription_with_a_url_and_the_feed_gets_every_message_both_ways);

async fn a_subscription_with_a_url_and_the_feed_gets_every_message_both_ways(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let both = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "feed": true}))
        .await;
    assert_eq!(both["feed"], true);
    rig.poll(vec![booked()]).await;
    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 2);

    let posts = rig.receiver.posts();
    assert_eq!(posts.len(), 2);
    let reply = rig.app.get("/v1/messages?wait=10s", &rig.key).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let items = reply.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", reply.body);
    for (item, post) in items.iter().zip(&posts) {
        assert_eq!(item, &post.json(), "the feed carries the webhook's body");
        assert_eq!(item["id"], post.header("webhook-id"));
        assert_eq!(item["subscriptionId"], id(&both));
    }
    assert_eq!(items[0]["sequence"], 1);
    assert_eq!(items[1]["sequence"], 2);
    // The delivery log still lists the webhooks, and only them.
    let log = rig.deliveries(&both).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d["channel"] == "webhook"));
}
