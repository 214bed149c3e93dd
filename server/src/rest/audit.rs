//! The audit log: `GET /audit` (a page of changes, newest first, with the total) and
//! `GET /audit/export` (every matching change as CSV or JSON lines). There is no route that
//! changes or deletes an audit row.

use crate::rest::error::ApiError;
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::audit::{AuditPage, AuditQuery, CSV_HEADER};
use serde::Deserialize;

/// Changes: `?user=&group=&action=&from=&to=&page=&per_page=` (action: a kind such as `api`
/// or an action such as `api.update`; from/to: RFC 3339, or a date and time without an
/// offset taken as UTC; per_page 1–500, default 50) → `{items: [{id, time, user, address,
/// action, group, target, diff: [{field, old, new}]}], total, page, per_page}`.
#[utoipa::path(get, path = "/audit", tag = "audit", responses(
    (status = 200, description = "`{items, total, page, per_page}`, newest first"),
    (status = 422, body = crate::rest::error::ValidationErrorBody),
))]
pub async fn audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    Ok(Json(state.control.audit(&query).await?))
}

/// `GET /audit/export`'s query: the filter of `GET /audit` and the format.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(flatten)]
    pub filter: AuditQuery,
    /// `csv` (default) or `jsonl`.
    pub format: Option<String>,
}

/// Every matching change (at most 100,000, newest first) as `text/csv` (`time, user,
/// address, action, group, target, diff`) or JSON lines (`?format=jsonl`, one item of
/// `GET /audit` per line), as a download.
#[utoipa::path(get, path = "/audit/export", tag = "audit", responses(
    (status = 200, description = "CSV or JSON lines"),
    (status = 422, body = crate::rest::error::ValidationErrorBody),
))]
pub async fn export(State(state): State<AppState>, Query(query): Query<ExportQuery>) -> Result<Response, ApiError> {
    let jsonl = match query.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => false,
        Some("jsonl") => true,
        Some(_) => return Err(control::ControlError::field("format", "use csv or jsonl").into()),
    };
    let items = state.control.audit_export(&query.filter).await?;
    let (body, kind, file) = if jsonl {
        let mut body = String::new();
        for item in &items {
            body.push_str(&serde_json::to_string(item).unwrap_or_default());
            body.push('\n');
        }
        (body, "application/x-ndjson", "audit.jsonl")
    } else {
        let mut body = format!("{CSV_HEADER}\r\n");
        for item in &items {
            body.push_str(&item.csv_line());
            body.push_str("\r\n");
        }
        (body, "text/csv; charset=utf-8", "audit.csv")
    };
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
        ],
        body,
    )
        .into_response())
}
