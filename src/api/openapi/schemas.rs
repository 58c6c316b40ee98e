//! The constraints of request bodies and parameters, stated in the document exactly as the
//! parsers in `domain/` enforce them (each pattern names the function it mirrors). They are
//! written here, on the generated document, because the derive attributes cannot say
//! "exactly one of these fields" or share a pattern between fields and parameters.

use crate::api::subscriptions::batch::MAX_BATCH_ITEMS;
use crate::domain::{
    KNOWN_STATUS_CODES, MAX_EMAILS, MAX_HEADER_VALUE_LEN, MAX_HEADERS, MAX_REFERENCE_LEN,
    MAX_URL_LEN, RESERVED_HEADERS,
};
use serde_json::{Value, json};

/// What Rust's `str::trim` removes (Unicode `White_Space`): written out because JSON Schema's
/// and Python's `\s` differ from it and from each other.
const WS: &str =
    r"[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// `AwbNumber::parse`: 11 digits, optionally `-` or a space after the 3-digit prefix,
/// surrounding whitespace ignored. (The mod-7 check digit is checked too, but is no pattern.)
pub fn awb_pattern() -> String {
    format!("^{WS}*[0-9]{{3}}[- ]?[0-9]{{8}}{WS}*$")
}

/// `FlightNumber::parse`: whitespace anywhere is dropped and case ignored; then a 3-letter
/// ICAO or 2-character IATA designator (not two digits), 1 to 4 digits after leading zeros
/// (at most 5 with them) and an optional letter.
pub fn flight_number_pattern() -> String {
    let w = format!("{WS}*");
    let designator =
        format!("([A-Za-z]{w}[A-Za-z]{w}[A-Za-z]|[A-Za-z]{w}[A-Za-z0-9]|[0-9]{w}[A-Za-z])");
    let zeros = |n: u8| format!("(0{w}){{0,{n}}}");
    let more = |n: u8| format!("({w}[0-9]){{{n}}}");
    let digits = format!(
        "({}[1-9]|{}[1-9]{}|{}[1-9]{}|{}[1-9]{})",
        zeros(4),
        zeros(3),
        more(1),
        zeros(2),
        more(2),
        zeros(1),
        more(3)
    );
    format!("^{w}{designator}{w}{digits}({w}[A-Za-z])?{w}$")
}

/// `parse_flight_date`: `YYYY-MM-DD` (and `format: date` says it is a calendar date).
fn date_pattern() -> String {
    format!("^{WS}*[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}{WS}*$")
}

/// `AirportCode::parse`.
fn airport_pattern() -> String {
    format!("^{WS}*[A-Za-z]{{3}}{WS}*$")
}

/// `CallbackUrl::parse`: absolute `http`/`https` (any case), a host without credentials, no
/// `#fragment`.
const URL_PATTERN: &str = "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#@]+([/?][^#]*)?$";

/// `Reference::parse`: no control characters (Unicode `Cc`).
const NO_CONTROLS: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// Adds the constraints to the component schemas and parameters of the generated document
/// (as JSON: utoipa's types cannot hold every JSON Schema keyword used here).
pub fn add_constraints(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    let channels = channel_properties();
    let create = &mut schemas["CreateSubscriptionRequest"];
    set_properties(create, &target_properties());
    set_properties(create, &channels);
    create["allOf"] = json!([
        {"oneOf": one_target()},
        {"anyOf": some_channel()},
        one_spelling()
    ]);
    create["examples"] = json!([
        {"awb": "020-08002050", "url": "https://tms.example.com/hooks/skyhook",
         "emails": ["ops@forwarder.example"], "states": ["DEP", "ARR", "DLV"],
         "reference": "PO-4711", "headers": {"Authorization": "Bearer my-tms-token"}},
        {"flight": {"number": "LH8160", "date": "2026-11-25", "origin": "FRA"}, "feed": true}
    ]);
    let update = &mut schemas["UpdateSubscriptionRequest"];
    set_properties(update, &channels);
    update["anyOf"] = some_channel();
    update["examples"] = json!([
        {"url": "https://tms.example.com/hooks/skyhook", "emails": ["ops@forwarder.example"],
         "states": ["*"], "reference": "PO-4711"}
    ]);
    let unsubscribe = &mut schemas["UnsubscribeRequest"];
    set_properties(unsubscribe, &target_properties());
    // Any number of addresses may be removed at once.
    let mut emails = channels["emails"].clone();
    emails.as_object_mut().map(|e| e.remove("maxItems"));
    emails["description"] =
        json!("Remove these addresses from your active subscriptions of the target.");
    set_properties(
        unsubscribe,
        &json!({"url": channels["url"], "emails": emails}),
    );
    unsubscribe["allOf"] = json!([one_spelling(), {"oneOf": one_target()}, {"anyOf": [
        {"required": ["url"], "properties": {"url": {"type": "string"}}},
        {"required": ["emails"], "properties": {"emails": {"type": "array", "minItems": 1}}}
    ]}]);
    unsubscribe["examples"] = json!([{"awb": "020-08002050", "emails": ["ops@forwarder.example"]}]);
    set_properties(
        &mut schemas["FlightRequest"],
        &json!({
            "number": {"type": "string", "pattern": flight_number_pattern()},
            "date": {"type": "string", "format": "date", "pattern": date_pattern()},
            "origin": {"type": ["string", "null"], "pattern": airport_pattern()},
        }),
    );
    // Each item is checked on its own and answered in `results`: any JSON value is taken
    // (an item that is not a create body fails alone), so the document may not refuse one.
    let batch = &mut schemas["BatchRequest"]["properties"]["items"];
    batch["maxItems"] = json!(MAX_BATCH_ITEMS);
    batch["items"] = json!({
        "description": "A body of `POST /v1/subscriptions`; one that is not fails alone, \
                        with its error in `results`",
        "anyOf": [{"$ref": "#/components/schemas/CreateSubscriptionRequest"}, {}]
    });
    patch_parameters(doc);
    add_body_examples(doc);
}

/// Each request body shows its schema's first example, where tools look for one.
fn add_body_examples(doc: &mut Value) {
    let schemas = doc["components"]["schemas"].clone();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for operation in paths
        .values_mut()
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut())
    {
        let Some(media) = operation.pointer_mut("/requestBody/content/application~1json") else {
            continue;
        };
        let name = media["schema"]["$ref"]
            .as_str()
            .and_then(|r| r.rsplit('/').next());
        let schema = &schemas[name.unwrap_or_default()];
        let example = schema["examples"].get(0).or(schema.get("example"));
        if let Some(example) = example {
            media["example"] = example.clone();
        }
    }
}

/// `awb`, `flight`, `flightUUID` (and the `flightUuid` alias) as properties.
fn target_properties() -> Value {
    let uuid = json!({"type": ["string", "null"], "format": "uuid",
        "description": "A flight Skyhook already knows (see `GET /v1/flights`)."});
    let mut alias = uuid.clone();
    alias["deprecated"] = json!(true);
    alias["description"] = json!("Another spelling of `flightUUID`.");
    json!({
        "awb": {"type": ["string", "null"], "pattern": awb_pattern(),
                "description": "Air waybill, `NNN-NNNNNNNN` or 11 digits, with a valid mod-7 \
                                check digit. One of `awb`, `flight`, `flightUUID`.",
                "example": "020-08002050"},
        "flightUUID": uuid,
        "flightUuid": alias,
    })
}

/// Exactly one target: a field counts when it is present and not `null` (as the server sees
/// it).
fn one_target() -> Value {
    let given =
        |name: &str, kind: &str| json!({"required": [name], "properties": {name: {"type": kind}}});
    json!([
        given("awb", "string"),
        given("flight", "object"),
        given("flightUUID", "string"),
        given("flightUuid", "string")
    ])
}

/// `flightUUID` and its alias are one field: both present (even as `null`) is a duplicate.
fn one_spelling() -> Value {
    json!({"not": {"required": ["flightUUID", "flightUuid"]}})
}

/// At least one channel: a `url`, a non-empty `emails` or `"feed": true`.
fn some_channel() -> Value {
    json!([
        {"required": ["url"], "properties": {"url": {"type": "string"}}},
        {"required": ["emails"], "properties": {"emails": {"type": "array", "minItems": 1}}},
        {"required": ["feed"], "properties": {"feed": {"const": true}}}
    ])
}

fn channel_properties() -> Value {
    let mut states: Vec<&str> = KNOWN_STATUS_CODES.to_vec();
    states.push("*");
    let reserved = RESERVED_HEADERS.join("`, `");
    json!({
        "url": {"type": ["string", "null"], "format": "uri", "maxLength": MAX_URL_LEN,
                "pattern": URL_PATTERN,
                "description": "Callback URL that receives signed JSON POSTs: absolute http(s), \
                                without credentials or `#fragment`. It must also pass the SSRF \
                                guard and the preflight (`webhooks.preflight`).",
                "example": "https://tms.example.com/hooks/skyhook"},
        "emails": {"type": ["array", "null"], "maxItems": MAX_EMAILS,
                   "items": {"type": "string", "format": "email"},
                   "description": "Up to five email recipients, each at most 254 characters \
                                   (case-insensitive; repeats count once).",
                   "example": ["ops@forwarder.example"]},
        "states": {"type": ["array", "null"], "minItems": 1,
                   "items": {"type": "string", "enum": states},
                   "description": "Status codes to be notified of (case-insensitive); `[\"*\"]` \
                                   (the default) means every change.",
                   "example": ["DEP", "ARR", "DLV"]},
        "reference": {"type": ["string", "null"], "maxLength": MAX_REFERENCE_LEN,
                      "pattern": NO_CONTROLS,
                      "description": "Free text for your own identifier, echoed in every message.",
                      "example": "PO-4711"},
        "headers": {"type": ["object", "null"], "maxProperties": MAX_HEADERS,
                    "propertyNames": {"pattern": format!("^{WS}*[A-Za-z0-9!#$%&'*+.^_`|~-]+{WS}*$")},
                    "additionalProperties": {"type": "string", "maxLength": MAX_HEADER_VALUE_LEN,
                                             "pattern": "^[ -~]*$"},
                    "description": format!("Up to {MAX_HEADERS} static headers sent with every \
                        webhook, e.g. an `Authorization` your endpoint expects (names are \
                        case-insensitive and may not repeat; not `{reserved}` nor `webhook-*`). \
                        Shown back by name only."),
                    "example": {"Authorization": "Bearer my-tms-token"}},
    })
}

/// Replaces (or adds) each property in `schema`.
fn set_properties(schema: &mut Value, properties: &Value) {
    for (name, property) in properties.as_object().expect("properties are an object") {
        schema["properties"][name] = property.clone();
    }
}

/// Query and path parameters: AWBs, flight numbers, dates, `status` and ids.
fn patch_parameters(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            else {
                continue;
            };
            for parameter in parameters {
                let schema = match (parameter["in"].as_str(), parameter["name"].as_str()) {
                    (_, Some("awb")) => json!({"type": "string", "pattern": awb_pattern()}),
                    (Some("query"), Some("number")) => {
                        json!({"type": "string", "pattern": flight_number_pattern()})
                    }
                    (Some("query"), Some("date")) => {
                        json!({"type": "string", "format": "date", "pattern": date_pattern()})
                    }
                    (Some("query"), Some("status")) => json!({"type": "string",
                        "enum": ["active", "completed", "expired", "unsubscribed"]}),
                    (Some("path"), Some("id" | "flightUUID")) => {
                        json!({"type": "string", "format": "uuid"})
                    }
                    _ => continue,
                };
                parameter["schema"] = schema;
            }
        }
    }
}

#[cfg(test)]
mod tests;
