//! What the OpenAPI document says of every `/v1` route, written once instead of on each
//! handler: the bearer key it needs, the answers the layers around every route can give
//! (`401`, `408`, `429`, `500`; `413` and `415` where a body is taken; `Idempotency-Key` with
//! its `400` and `409` on every `POST`), and, in [`schemas`], the constraints of bodies and
//! parameters. A handler's own annotation lists only what is its own.

use utoipa::Modify;
pub mod responses;
mod schemas;

/// The document served at `/openapi.json` and printed by `skyhook openapi`.
pub fn document() -> serde_json::Value {
    use utoipa::OpenApi;
    let mut doc = serde_json::to_value(super::ApiDoc::openapi()).expect("the document serialises");
    schemas::add_constraints(&mut doc);
    doc
}
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Required, ResponseBuilder};

/// The `bearer` scheme: an API key.
pub struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API key from `skyhook keys create NAME`"))
                    .build(),
            ),
        );
    }
}

/// Every operation under `/v1`: needs the bearer key, and may answer what the layers around
/// every `/v1` route answer (`safety.rs`, `middleware.rs`, `extract.rs`).
pub struct V1Routes;

/// The answers every `/v1` route can give, whatever it does.
const COMMON_ANSWERS: [(&str, &str); 4] = [
    (
        "401",
        "ErrUnauthorized: no `Authorization: Bearer` key, or one that is unknown or revoked",
    ),
    (
        "408",
        "ErrRequestTimeout: the request ran longer than `server.request_timeout`",
    ),
    (
        "429",
        "ErrRateLimited: over this key's `server.rate_limit`; retry after `Retry-After` seconds",
    ),
    ("500", "ErrInternalServerError"),
];

/// The answers of a route that takes a body.
const BODY_ANSWERS: [(&str, &str); 2] = [
    (
        "413",
        "ErrPayloadTooLarge: the body is over the route's limit (64 KiB)",
    ),
    (
        "415",
        "ErrUnsupportedMediaType: a `Content-Type` other than JSON (none at all is taken as JSON)",
    ),
];

/// What `Idempotency-Key` adds to every `POST` (`idempotency.rs`).
const IDEMPOTENCY_ANSWERS: [(&str, &str); 2] = [
    (
        "400",
        "ErrInvalidIdempotencyKey: a malformed `Idempotency-Key`",
    ),
    (
        "409",
        "ErrIdempotencyKeyReused: the `Idempotency-Key` was used for another request within \
         `server.idempotency_window`; ErrIdempotencyKeyInFlight: the first request with it still \
         runs (see `Retry-After`)",
    ),
];

/// `IdempotencyKey::parse`: 1-255 visible ASCII characters but `"` and `\`, bare or quoted.
pub(crate) const IDEMPOTENCY_KEY_PATTERN: &str =
    r#"^[ \t]*("[!#-\[\]-~]{1,255}"|[!#-\[\]-~]{1,255})[ \t]*$"#;

impl Modify for V1Routes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            if !path.starts_with("/v1/") {
                continue;
            }
            if let Some(post) = &mut item.post {
                add_idempotency(post);
            }
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_common(operation);
            }
        }
    }
}

fn add_common(operation: &mut Operation) {
    operation
        .security
        .get_or_insert_with(|| vec![SecurityRequirement::new("bearer", Vec::<String>::new())]);
    add_answers(operation, &COMMON_ANSWERS);
    if operation.request_body.is_some() {
        add_answers(operation, &BODY_ANSWERS);
    }
}

fn add_idempotency(operation: &mut Operation) {
    let key = ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes a retry safe: the same request with the same key within \
             `server.idempotency_window` (24 h) gets the first answer again, marked \
             `Idempotent-Replayed: true`.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(IDEMPOTENCY_KEY_PATTERN)),
        ))
        .example(Some(serde_json::json!(
            "8e03978e-40d5-43e8-bc93-6894a57f9324"
        )))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(RefOr::T(key));
    add_answers(operation, &IDEMPOTENCY_ANSWERS);
}

/// Adds each answer, or names its cause in the route's own answer with that status.
fn add_answers(operation: &mut Operation, answers: &[(&str, &str)]) {
    for (status, description) in answers {
        let responses = &mut operation.responses.responses;
        if let Some(RefOr::T(own)) = responses.get_mut(*status) {
            if !own
                .description
                .contains(description.split(':').next().unwrap_or_default())
            {
                own.description = format!("{}; or {description}", own.description);
            }
            continue;
        }
        let body = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorBody")))
            .build();
        responses.insert(
            (*status).to_owned(),
            ResponseBuilder::new()
                .description(*description)
                .content("application/json", body)
                .build()
                .into(),
        );
    }
}
