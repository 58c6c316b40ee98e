//! The subscription list (search, status filter, pages), the new-subscription form and the
//! CSV upload. Creating goes through the API's own operations (`create_for`, `create_batch`),
//! so a form gets exactly the validation, error names and duplicate rules of `/v1`.

use super::ConsoleError;
use super::page::{self, Page, utc};
use super::session::Signed;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::subscriptions::batch::{MAX_BATCH_BYTES, MAX_BATCH_ITEMS, create_batch};
use crate::api::subscriptions::csv_rows::{column_positions, create_body, row};
use crate::api::subscriptions::dto::{
    CreateSubscriptionRequest, FlightRequest, ListQuery, SubscriptionResponse,
};
use crate::api::subscriptions::{create_for, list_page};
use askama::Template;
use axum::extract::{Form, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const PAGE_SIZE: u32 = 25;
const STATUSES: [&str; 4] = ["active", "completed", "expired", "unsubscribed"];

/// One row of the list.
pub struct Row {
    pub id: String,
    pub target: String,
    pub reference: String,
    pub status: String,
    pub channels: String,
    pub created: String,
    pub expires: String,
    pub updated: String,
}

impl From<SubscriptionResponse> for Row {
    fn from(s: SubscriptionResponse) -> Self {
        let target = describe_target(&s);
        Self {
            id: s.id.to_string(),
            target,
            reference: s.reference.clone().unwrap_or_default(),
            status: s.status.clone(),
            channels: channels(&s),
            created: utc(s.created_at),
            expires: utc(s.expires_at),
            updated: utc(s.updated_at),
        }
    }
}

/// `020-08002050`, or `LH8160 2026-12-01 FRA`.
pub fn describe_target(s: &SubscriptionResponse) -> String {
    match (&s.awb, &s.flight) {
        (Some(awb), _) => awb.clone(),
        (None, Some(f)) => [
            Some(f.number.as_str()),
            Some(f.date.as_str()),
            f.origin.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
        (None, None) => "—".to_owned(),
    }
}

/// `webhook · 2 emails · feed`.
pub fn channels(s: &SubscriptionResponse) -> String {
    let mut parts = Vec::new();
    if s.url.is_some() {
        parts.push(if s.url_disabled_at.is_some() {
            "webhook (disabled)".to_owned()
        } else {
            "webhook".to_owned()
        });
    }
    match s.emails.len() {
        0 => {}
        1 => parts.push("1 email".to_owned()),
        n => parts.push(format!("{n} emails")),
    }
    if s.feed {
        parts.push("feed".to_owned());
    }
    parts.join(" · ")
}

#[derive(Template)]
#[template(path = "console/subscriptions.html")]
struct ListPage {
    page: Page,
    q: String,
    status: String,
    statuses: [&'static str; 4],
    rows: Vec<Row>,
    error: Option<String>,
    next: Option<String>,
    first: Option<String>,
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    cursor: Option<String>,
}

/// `GET /console/subscriptions`: newest first, searchable by AWB, flight or reference.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    Query(params): Query<ListParams>,
) -> Result<Response, ConsoleError> {
    let query = ListQuery {
        awb: None,
        status: Some(params.status.clone()).filter(|s| !s.is_empty()),
        url: None,
        q: Some(params.q.clone()),
        limit: Some(PAGE_SIZE),
        cursor: params.cursor.clone().filter(|c| !c.is_empty()),
    };
    let (rows, next, error) = match list_page(&state, signed.key.tenant, query).await {
        Ok(found) => (
            found.items.into_iter().map(Row::from).collect(),
            found
                .next_cursor
                .map(|cursor| list_link(&params.q, &params.status, Some(&cursor))),
            None,
        ),
        Err(e @ ApiError::InvalidQuery(_)) => (Vec::new(), None, Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let html = page::render(&ListPage {
        page: Page::signed("Subscriptions", &signed, "subscriptions"),
        first: params
            .cursor
            .is_some()
            .then(|| list_link(&params.q, &params.status, None)),
        q: params.q,
        status: params.status,
        statuses: STATUSES,
        rows,
        error,
        next,
    })?;
    Ok(html.into_response())
}

fn list_link(q: &str, status: &str, cursor: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        query.append_pair("q", q);
    }
    if !status.is_empty() {
        query.append_pair("status", status);
    }
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    format!("/console/subscriptions?{}", query.finish())
}

/// What the new-subscription form holds, as typed (shown again beside its errors).
#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    awb: String,
    #[serde(default)]
    flight_number: String,
    #[serde(default)]
    flight_date: String,
    #[serde(default)]
    flight_origin: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    emails: String,
    #[serde(default)]
    states: String,
    #[serde(default)]
    reference: String,
}

impl NewForm {
    /// The API request the form stands for; empty fields are left out.
    fn request(&self) -> CreateSubscriptionRequest {
        let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let list = |s: &str, separators: &[char]| {
            let items: Vec<String> = s
                .split(separators)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            (!items.is_empty()).then_some(items)
        };
        let flight = given(&self.flight_number).map(|number| FlightRequest {
            number,
            date: self.flight_date.trim().to_owned(),
            origin: given(&self.flight_origin),
        });
        CreateSubscriptionRequest {
            awb: given(&self.awb),
            flight,
            flight_uuid: None,
            url: given(&self.url),
            emails: list(&self.emails, &['\n', '\r', ',', ';']),
            feed: None,
            states: list(&self.states, &[',', ' ', '\n']),
            reference: given(&self.reference),
            headers: None,
        }
    }
}

/// An error shown beside the field it is about.
#[derive(Default)]
pub struct FieldErrors {
    pub awb: Option<String>,
    pub flight_number: Option<String>,
    pub flight_date: Option<String>,
    pub flight_origin: Option<String>,
    pub url: Option<String>,
    pub emails: Option<String>,
    pub states: Option<String>,
    pub reference: Option<String>,
    /// Errors of no one field (no target given, already subscribed…).
    pub form: Option<String>,
}

impl FieldErrors {
    /// Puts the API's error beside the field it names, as `ErrName: message`.
    fn of(err: &ApiError) -> Self {
        let text = Some(format!("{}: {err}", err.name()));
        let message = err.to_string();
        let mut errors = Self::default();
        let slot = match err {
            ApiError::Awb(_) | ApiError::NoCarrier(_) => &mut errors.awb,
            ApiError::InvalidFlightNumber(_) => &mut errors.flight_number,
            ApiError::InvalidFlightDate(_) => &mut errors.flight_date,
            ApiError::InvalidUrl(_) | ApiError::CallbackPreflightFailed(_) => &mut errors.url,
            ApiError::InvalidEmail(_)
            | ApiError::MaximumFiveEmails(_)
            | ApiError::AllEmailsSubscribed(_) => &mut errors.emails,
            _ if message.contains("`states`") => &mut errors.states,
            _ if message.contains("`reference`") => &mut errors.reference,
            _ => &mut errors.form,
        };
        *slot = text;
        errors
    }
}

#[derive(Template)]
#[template(path = "console/new.html")]
struct NewPage {
    page: Page,
    form: NewForm,
    errors: FieldErrors,
    max_rows: usize,
}

/// `GET /console/subscriptions/new`.
pub async fn new_form(signed: Signed) -> Result<Response, ConsoleError> {
    let html = page::render(&NewPage {
        page: Page::signed("New subscription", &signed, "new"),
        form: NewForm {
            states: "*".to_owned(),
            ..NewForm::default()
        },
        errors: FieldErrors::default(),
        max_rows: MAX_BATCH_ITEMS,
    })?;
    Ok(html.into_response())
}

#[derive(Template)]
#[template(path = "console/created.html")]
struct CreatedPage {
    page: Page,
    id: String,
    target: String,
    secret: String,
    skipped_emails: Vec<String>,
}

/// `POST /console/subscriptions`: the form, through the API's create. A refusal shows the form
/// again with the error beside its field, and stores nothing.
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    Form(form): Form<NewForm>,
) -> Result<Response, ConsoleError> {
    signed.check_csrf(&form.csrf)?;
    match create_for(&state, &signed.key, form.request()).await {
        Ok(saved) => {
            let html = page::render(&CreatedPage {
                page: Page::signed("Subscription created", &signed, "new"),
                id: saved.subscription.id.to_string(),
                target: describe_target(&saved.subscription),
                secret: saved.signing_secret.unwrap_or_default(),
                skipped_emails: saved.skipped_emails,
            })?;
            Ok((StatusCode::CREATED, html).into_response())
        }
        Err(ApiError::Internal(cause)) => Err(ApiError::Internal(cause).into()),
        Err(refused) => {
            let status = refused.status();
            let html = page::render(&NewPage {
                page: Page::signed("New subscription", &signed, "new"),
                errors: FieldErrors::of(&refused),
                form,
                max_rows: MAX_BATCH_ITEMS,
            })?;
            Ok((status, html).into_response())
        }
    }
}

/// One CSV row's outcome.
pub struct ImportRow {
    /// 1 = the first row after the header.
    pub line: usize,
    pub awb: String,
    pub reference: String,
    pub created: Option<String>,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "console/imported.html")]
struct ImportedPage {
    page: Page,
    rows: Vec<ImportRow>,
    created: usize,
    rejected: usize,
}

/// `POST /console/subscriptions/import`: a CSV file (`awb,url,emails,reference`) through the
/// batch endpoint's own path; every row gets its own result.
pub async fn import(
    State(state): State<AppState>,
    signed: Signed,
    mut multipart: Multipart,
) -> Result<Response, ConsoleError> {
    let mut csrf = String::new();
    let mut file: Option<Vec<u8>> = None;
    while let Some(field) = multipart.next_field().await.map_err(bad_upload)? {
        match field.name() {
            Some("csrf") => csrf = field.text().await.map_err(bad_upload)?,
            Some("csv") => file = Some(field.bytes().await.map_err(bad_upload)?.to_vec()),
            _ => {}
        }
    }
    signed.check_csrf(&csrf)?;
    let file = file.filter(|f| !f.is_empty()).ok_or_else(|| {
        ApiError::InvalidBody("choose a CSV file to upload (field `csv`)".to_owned())
    })?;
    let rows = read_csv(&file)?;
    let bodies = rows.iter().map(create_body).collect();
    let outcomes = create_batch(
        &state.subscribing(),
        signed.key.tenant,
        &signed.key.allow_networks,
        bodies,
    )
    .await?;
    let rows: Vec<ImportRow> = rows
        .into_iter()
        .zip(outcomes)
        .enumerate()
        .map(|(i, ([awb, _, _, reference], outcome))| {
            let (created, error) = match outcome {
                Ok(saved) => (Some(saved.subscription.id.to_string()), None),
                Err(e) => (None, Some(format!("{}: {e}", e.name()))),
            };
            ImportRow {
                line: i + 1,
                awb,
                reference,
                created,
                error,
            }
        })
        .collect();
    let created = rows.iter().filter(|r| r.created.is_some()).count();
    let html = page::render(&ImportedPage {
        page: Page::signed("CSV upload", &signed, "new"),
        rejected: rows.len() - created,
        created,
        rows,
    })?;
    Ok(html.into_response())
}

fn bad_upload(e: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::InvalidBody(format!("the upload could not be read: {e}"))
}

/// The rows of an uploaded CSV, in [`crate::api::subscriptions::csv_rows::COLUMNS`] order.
fn read_csv(file: &[u8]) -> Result<Vec<[String; 4]>, ApiError> {
    if file.len() > MAX_BATCH_BYTES {
        return Err(ApiError::PayloadTooLarge(MAX_BATCH_BYTES / 1024));
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(file);
    let header = reader
        .headers()
        .map_err(|e| ApiError::InvalidBody(format!("cannot read the CSV header row: {e}")))?;
    let columns = column_positions(header).map_err(|e| ApiError::InvalidBody(e.to_string()))?;
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record
            .map_err(|e| ApiError::InvalidBody(format!("cannot read CSV row {}: {e}", i + 1)))?;
        rows.push(row(&columns, &record));
        if rows.len() > MAX_BATCH_ITEMS {
            return Err(ApiError::TooManyItems(format!(
                "an upload holds at most {MAX_BATCH_ITEMS} rows (split the file)"
            )));
        }
    }
    if rows.is_empty() {
        return Err(ApiError::InvalidBody("the CSV file has no rows".to_owned()));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_request_it_stands_for() {
        let form = NewForm {
            awb: " 020-08002050 ".into(),
            emails: "a@x.io\r\nb@x.io, c@x.io".into(),
            states: "DEP, ARR".into(),
            ..NewForm::default()
        };
        let request = form.request();
        assert_eq!(request.awb.as_deref(), Some("020-08002050"));
        assert_eq!(request.emails.unwrap(), vec!["a@x.io", "b@x.io", "c@x.io"]);
        assert_eq!(request.states.unwrap(), vec!["DEP", "ARR"]);
        assert!(request.url.is_none() && request.flight.is_none() && request.reference.is_none());
    }

    #[test]
    fn errors_go_beside_their_field() {
        let err = ApiError::InvalidEmail("`emails[0]` is not an email".into());
        let errors = FieldErrors::of(&err);
        assert!(errors.emails.unwrap().starts_with("ErrInvalidEmail: "));
        assert!(errors.awb.is_none() && errors.form.is_none());
        let missing = FieldErrors::of(&ApiError::MissingKeyParams("give a target".into()));
        assert!(missing.form.is_some());
    }

    #[test]
    fn a_csv_is_read_by_its_header_and_an_unknown_column_refused() {
        let rows = read_csv(b"reference,awb\nPO-1,020-08002050\n").unwrap();
        assert_eq!(rows[0][0], "020-08002050");
        assert_eq!(rows[0][3], "PO-1");
        let err = read_csv(b"awb,emial\n1,2\n").unwrap_err().to_string();
        assert!(err.contains("emial"), "{err}");
        assert!(read_csv(b"awb\n").is_err());
    }
}
