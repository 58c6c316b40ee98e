//! The CSV upload (`awb,url,emails,reference`, the format of `skyhook import`), through the
//! batch endpoint's own path (`create_batch`): every row gets its own result.

use super::ConsoleError;
use super::page::{self, Page};
use super::session::Signed;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::subscriptions::batch::{MAX_BATCH_BYTES, MAX_BATCH_ITEMS, create_batch};
use crate::api::subscriptions::csv_rows::{column_positions, create_body, row};
use askama::Template;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};

/// The largest upload: a batch's largest body, and room for the form around the file.
pub const UPLOAD_LIMIT: usize = MAX_BATCH_BYTES + 16 * 1024;

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
                Err(e) => (None, Some(page::api_error(&e))),
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
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        // The file's limit, as `read_csv` says it: the route's extra room is for the form's
        // framing, not more file.
        return ApiError::PayloadTooLarge(MAX_BATCH_BYTES / 1024);
    }
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
    fn a_csv_is_read_by_its_header_and_an_unknown_column_refused() {
        let rows = read_csv(b"reference,awb\nPO-1,020-08002050\n").unwrap();
        assert_eq!(rows[0][0], "020-08002050");
        assert_eq!(rows[0][3], "PO-1");
        let err = read_csv(b"awb,emial\n1,2\n").unwrap_err().to_string();
        assert!(err.contains("emial"), "{err}");
        assert!(read_csv(b"awb\n").is_err());
    }
}
