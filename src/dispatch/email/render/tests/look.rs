use super::*;

/// FRA → DOH → SYD on QR68 and QR908: arrived in Doha, the onward flight planned.
fn arrived_in_doha() -> MessageBody {
    let mut departed = event("DEP", "FRA", "2026-11-23T10:15:00+01:00");
    departed.flight = Some(flight("QR68", "FRA", "DOH"));
    let mut arrived = event("ARR", "DOH", "2026-11-23T18:05:00+03:00");
    arrived.flight = Some(flight("QR68", "FRA", "DOH"));
    let mut onward = event("DEP", "DOH", "2026-11-23T20:30:00+03:00");
    onward.flight = Some(flight("QR908", "DOH", "SYD"));
    onward.is_planned = true;
    let mut landing = event("ARR", "SYD", "2026-11-24T17:45:00+11:00");
    landing.is_planned = true;
    let old = vec![event("RCS", "FRA", "2026-11-23T06:00:00+01:00"), departed];
    let new = vec![arrived, onward];
    MessageBody::TrackingUpdated(ShipmentUpdate {
        awb: awb(),
        summary: summary("SYD", Some(4), Some(310.0), SummaryStatus::InTransit),
        events: old.iter().chain(&new).cloned().collect(),
        new_events: new,
        old_events: old,
    })
}

fn flight(number: &str, from: &str, to: &str) -> EventFlight {
    EventFlight {
        number: Some(number.into()),
        origin: Some(from.into()),
        destination: Some(to.into()),
        ..EventFlight::default()
    }
}

/// Every value of `attribute="…"` in the HTML, in order.
fn attribute_values<'a>(html: &'a str, attribute: &str) -> Vec<&'a str> {
    let needle = format!("{attribute}=\"");
    html.split(&needle)
        .skip(1)
        .map(|rest| &rest[..rest.find('"').expect("closed attribute")])
        .collect()
}

/// The opening tag that carries `marker`.
fn tag_with<'a>(html: &'a str, marker: &str) -> &'a str {
    let at = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

fn every_kind_of_email() -> Vec<EmailContent> {
    let completed = MessageBody::SubscriptionCompleted(lifecycle("Delivered; complete."));
    vec![
        rendered(&[message(1, arrived_in_doha())]),
        rendered(&[message(1, arrived_in_doha()), message(2, completed.clone())]),
        rendered(&[message(2, completed)]),
        rendered(&[message(
            1,
            MessageBody::SubscriptionTest(lifecycle("A test.")),
        )]),
    ]
}

#[test]
fn the_html_keeps_to_what_mail_programs_show_inline_styles_tables_no_scripts_or_images() {
    for email in every_kind_of_email() {
        let html = email.html.to_ascii_lowercase();
        for banned in [
            "<script",
            "<img",
            "<link",
            "<style",
            "<iframe",
            "<form",
            " src=",
            "class=",
            "url(",
            "@import",
            "javascript:",
        ] {
            assert!(!html.contains(banned), "{banned} in {html}");
        }
        assert!(html.contains("style=\""));
        // The only address in the email is the console's (no remote content to fetch).
        let addresses: Vec<&str> = html.matches("http").collect();
        let console_links = html
            .matches("href=\"https://skyhook.example.com/console/")
            .count();
        assert_eq!(addresses.len(), console_links, "{html}");
        // Layout tables say so; the header bar and page width are the console's.
        assert!(html.contains("<table role=\"presentation\" width=\"100%\""));
        assert!(html.contains("max-width:600px"));
        assert!(html.contains("background-color:#16324f;color:#ffffff"));
        assert!(html.contains(">skyhook</td>"));
    }
}

#[test]
fn the_view_in_console_link_names_the_subscription_in_both_parts() {
    let id = uuid::Uuid::nil();
    let url = format!("https://skyhook.example.com/console/subscriptions/{id}");
    let email = rendered(&[message(1, arrived_in_doha())]);
    let button = tag_with(&email.html, &format!("href=\"{url}\""));
    assert!(button.starts_with("<a "), "{button}");
    assert!(
        email.html.contains(&format!("{button}View in console</a>")),
        "{}",
        email.html
    );
    assert!(email.text.contains(&format!("\nView in console: {url}\n")));
    // A base without its trailing slash, or with a path, joins the same way.
    let below = render(
        &[message(1, arrived_in_doha())],
        Some("https://example.com/skyhook"),
    );
    assert!(below.text.contains(&format!(
        "View in console: https://example.com/skyhook/console/subscriptions/{id}\n"
    )));
    // With the console off there is nothing to link to.
    let off = render(&[message(1, arrived_in_doha())], None);
    for part in [&off.text, &off.html] {
        assert!(!part.contains("console"), "{part}");
    }
}

#[test]
fn the_newest_status_comes_first_then_the_route_the_new_events_the_notices_and_the_link() {
    let completed = MessageBody::SubscriptionCompleted(lifecycle("Delivered; complete."));
    let email = rendered(&[message(1, arrived_in_doha()), message(2, completed)]);
    let html = &email.html[email.html.find("<body").unwrap()..];
    let positions: Vec<usize> = [
        "AWB 020-08002050, FRA → SYD",
        ">Arrived DOH</p>",
        "2026-11-23 18:05 +03:00</p>",
        "data-route",
        ">New events</h2>",
        "ARR DOH · Arrived",
        "DEP DOH · Departed",
        "Delivered; complete.",
        "View in console</a>",
        "Sent by Skyhook",
    ]
    .iter()
    .map(|needle| {
        html.find(needle)
            .unwrap_or_else(|| panic!("{needle} in {html}"))
    })
    .collect();
    assert!(positions.is_sorted(), "{positions:?} in {html}");
    // An arrival in transit is progress: the console's accent blue, not delivered green.
    assert!(tag_with(html, ">Arrived DOH<").contains("color:#1f6feb"));
    // The same input renders the same bytes, so a retried batch sends the same email.
    let again = rendered(&[
        message(1, arrived_in_doha()),
        message(
            2,
            MessageBody::SubscriptionCompleted(lifecycle("Delivered; complete.")),
        ),
    ]);
    assert_eq!(again, email);
}

#[test]
fn the_route_strip_lists_the_stations_in_order_with_the_current_one_marked() {
    let email = rendered(&[message(1, arrived_in_doha())]);
    assert_eq!(
        attribute_values(&email.html, "data-station"),
        ["FRA", "DOH", "SYD"]
    );
    let current = tag_with(&email.html, "aria-current=\"location\"");
    assert!(current.contains("data-station=\"DOH\""), "{current}");
    assert_eq!(email.html.matches("aria-current").count(), 1);
    assert_eq!(
        attribute_values(&email.html, "data-leg"),
        ["flown", "ahead"]
    );
    let strip = &email.html[email.html.find("data-route").unwrap()..];
    let strip = &strip[..strip.find("</table>").unwrap()];
    let (qr68, qr908) = (
        strip.find(">QR68<").unwrap(),
        strip.find(">QR908<").unwrap(),
    );
    assert!(strip.find("\"FRA\"").unwrap() < qr68 && qr68 < strip.find("\"DOH\"").unwrap());
    assert!(strip.find("\"DOH\"").unwrap() < qr908 && qr908 < strip.find("\"SYD\"").unwrap());
    assert!(
        email
            .text
            .contains("\nRoute: FRA → DOH → SYD (now at DOH)\n"),
        "{}",
        email.text
    );
}

#[test]
fn planned_events_are_dashed_italic_and_labelled_actual_ones_solid() {
    let email = rendered(&[message(1, arrived_in_doha())]);
    assert_eq!(
        attribute_values(&email.html, "data-event"),
        ["actual", "planned"]
    );
    let actual = tag_with(&email.html, "data-event=\"actual\"");
    assert!(actual.contains("border-left:3px solid"), "{actual}");
    assert!(!actual.contains("italic"), "{actual}");
    let planned = tag_with(&email.html, "data-event=\"planned\"");
    assert!(
        planned.contains("border-left:3px dashed #9a6700"),
        "{planned}"
    );
    assert!(planned.contains("font-style:italic"), "{planned}");
    let block = &email.html[email.html.find("data-event=\"planned\"").unwrap()..];
    assert!(block.contains("DEP DOH · Departed <span"), "{block}");
    assert!(block[..block.find("</p>").unwrap()].contains(">planned</span>"));
    // The text part says it in words, as before.
    assert!(email.text.contains("DEP DOH · Departed (planned)\n"));
    assert!(!email.text.contains("ARR DOH · Arrived (planned)"));
}

#[test]
fn a_hostile_reference_station_and_console_base_are_shown_as_text() {
    let MessageBody::TrackingUpdated(mut update) = arrived_in_doha() else {
        unreachable!()
    };
    let hostile_station = "<img src=x onerror=alert(1)>";
    update.summary.origin = Some(hostile_station.into());
    update.events[0].event_location = Some(hostile_station.into());
    let mut hostile = message(1, MessageBody::TrackingUpdated(update));
    hostile.reference = Some("<script>alert(1)</script>".into());
    let email = render(
        &[hostile],
        Some("https://skyhook.example.com/\"><script>alert(2)</script>"),
    );
    let html = email.html.to_ascii_lowercase();
    for raw in ["<script", "<img"] {
        assert!(!html.contains(raw), "{raw} in {html}");
    }
    assert!(
        email
            .html
            .contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>")
    );
    // Stations are shown upper-cased, as carriers write them.
    let station = "&lt;IMG SRC=X ONERROR=ALERT(1)&gt;";
    assert_eq!(
        attribute_values(&email.html, "data-station")[0],
        station,
        "{}",
        email.html
    );
    assert!(email.html.contains(&format!(">{station}</span>")));
    assert!(
        email
            .html
            .contains("href=\"https://skyhook.example.com/&quot;&gt;&lt;script&gt;")
    );
    assert!(email.text.contains("Reference: <script>alert(1)</script>"));
}

#[test]
fn a_delivered_shipment_is_green_and_said_delivered_in_the_route() {
    let dlv = update(
        SummaryStatus::Delivered,
        vec![
            event("DEP", "FRA", "2026-11-23T10:15:00+01:00"),
            event("DLV", "ORD", "2026-11-24T09:00:00-06:00"),
        ],
    );
    let email = rendered(&[message(1, dlv)]);
    assert!(tag_with(&email.html, ">Delivered ORD<").contains("color:#1a7f37"));
    assert!(
        email
            .text
            .contains("\nRoute: FRA → ORD (delivered at ORD)\n")
    );
    let current = tag_with(&email.html, "aria-current=\"location\"");
    assert!(current.contains("data-station=\"ORD\""), "{current}");
}

#[test]
fn a_notice_alone_has_the_same_frame_with_its_own_headline_and_no_route() {
    let expired = MessageBody::SubscriptionExpired(lifecycle("Expired."));
    let email = rendered(&[message(3, expired)]);
    assert!(tag_with(&email.html, ">Subscription expired<").contains("font-size:28px"));
    assert!(!email.html.contains("data-route"));
    assert!(!email.text.contains("Route:"));
    assert!(email.html.contains("View in console</a>"));
}
