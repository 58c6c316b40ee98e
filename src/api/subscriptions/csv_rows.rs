//! The CSV form of a batch of subscriptions (`skyhook import` and the console's upload): a
//! header row naming the columns `awb,url,emails,reference` in any order, one subscription
//! per row, `emails` separated by `;` or spaces.

pub const COLUMNS: [&str; 4] = ["awb", "url", "emails", "reference"];

/// Where each of [`COLUMNS`] is in the file; an unknown column is an error (a typo would
/// otherwise drop its data silently).
pub fn column_positions(header: &csv::StringRecord) -> anyhow::Result<[Option<usize>; 4]> {
    let mut positions = [None; 4];
    for (i, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        let Some(column) = COLUMNS.iter().position(|c| *c == name) else {
            anyhow::bail!(
                "unknown column `{name}` in the header row; the columns are {}",
                COLUMNS.join(",")
            );
        };
        positions[column] = Some(i);
    }
    if positions[0].is_none() {
        anyhow::bail!(
            "the header row names no `awb` column; the columns are {}",
            COLUMNS.join(",")
        );
    }
    Ok(positions)
}

/// The `POST /v1/subscriptions` body a row stands for; empty cells are left out.
pub fn create_body([awb, url, emails, reference]: &[String; 4]) -> serde_json::Value {
    let mut body = serde_json::json!({ "awb": awb });
    if !url.is_empty() {
        body["url"] = url.as_str().into();
    }
    let emails: Vec<&str> = emails.split([';', ' ']).filter(|e| !e.is_empty()).collect();
    if !emails.is_empty() {
        body["emails"] = emails.into();
    }
    if !reference.is_empty() {
        body["reference"] = reference.as_str().into();
    }
    body
}

/// A record's cells in [`COLUMNS`] order (a column the header lacks is empty).
pub fn row(columns: &[Option<usize>; 4], record: &csv::StringRecord) -> [String; 4] {
    columns.map(|position| {
        position
            .and_then(|i| record.get(i))
            .unwrap_or_default()
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_becomes_the_create_body_it_stands_for() {
        let row = [
            "020-08002050".to_owned(),
            String::new(),
            "a@x.io; b@x.io".to_owned(),
            "PO-1".to_owned(),
        ];
        assert_eq!(
            create_body(&row),
            serde_json::json!({"awb": "020-08002050", "emails": ["a@x.io", "b@x.io"],
                               "reference": "PO-1"})
        );
    }

    #[test]
    fn an_unknown_column_is_refused_by_name() {
        let header = csv::StringRecord::from(vec!["awb", "emial"]);
        let err = column_positions(&header).unwrap_err().to_string();
        assert!(err.contains("`emial`"), "{err}");
    }
}
