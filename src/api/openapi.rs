//! What the OpenAPI document says of every `/v1` route, written once instead of on each
//! handler: the bearer key it needs, and the answers any of them can give for that reason
//! (`401`) or none (`500`). A handler's own annotation lists only what is its own.

use utoipa::Modify;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

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

/// Every operation under `/v1`: needs the bearer key, and may answer `401` and `500`.
pub struct V1Routes;

/// The answers every `/v1` route can give, whatever it does.
const COMMON_ANSWERS: [(&str, &str); 2] = [
    (
        "401",
        "ErrUnauthorized: no `Authorization: Bearer` key, or one that is unknown or revoked",
    ),
    ("500", "ErrInternalServerError"),
];

impl Modify for V1Routes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in &mut openapi.paths.paths {
            if !path.starts_with("/v1/") {
                continue;
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
    for (status, description) in COMMON_ANSWERS {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| {
                let body = ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build();
                ResponseBuilder::new()
                    .description(description)
                    .content("application/json", body)
                    .build()
                    .into()
            });
    }
}
