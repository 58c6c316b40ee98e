//! Error answers several routes give alike, written once for their `#[utoipa::path]`
//! annotations (`responses(..., responses::SubscriptionNotFound)`); each is documented inline, as
//! if written on the route.

use crate::api::error::ErrorBody;
use utoipa::IntoResponses;

/// `404 ErrSubscriptionNotFound`, as the document lists it for each route under
/// `/v1/subscriptions/{id}`.
#[derive(IntoResponses)]
#[response(status = 404, description = "ErrSubscriptionNotFound")]
pub struct SubscriptionNotFound(pub ErrorBody);

/// `409 ErrSubscriptionNotActive`, as the document lists it for each route that changes a
/// subscription.
#[derive(IntoResponses)]
#[response(status = 409, description = "ErrSubscriptionNotActive")]
pub struct SubscriptionNotActive(pub ErrorBody);
