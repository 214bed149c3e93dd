//! `/config`: the declarative configuration over REST: export as YAML, diff and apply a YAML
//! file.

use crate::config_file;
use crate::rest::error::{ApiError, ValidationErrorBody};
use crate::AppState;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use control::config::{ConfigApplied, ConfigDiff, ExportOptions};
use control::users::Action;
use control::{ControlError, CurrentUser};
use serde::Deserialize;

/// `?group=&with_secrets=`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    group: Option<String>,
    with_secrets: bool,
}

/// The configuration as YAML (`gantry config export`); `?with_secrets=true` adds apps'
/// credentials (developer and up).
#[utoipa::path(get, path = "/config/export", tag = "config", params(("group" = Option<String>, Query), ("with_secrets" = Option<bool>, Query)), responses(
    (status = 200, description = "The YAML document", content_type = "application/yaml"),
))]
pub async fn export(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    if query.with_secrets {
        user.require(Action::RevealSecret)?;
    }
    let options = ExportOptions { group: query.group, with_secrets: query.with_secrets };
    let document = state.control.export_config(&options).await?;
    let text = config_file::to_yaml(&document).map_err(|e| ControlError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/yaml; charset=utf-8")], text).into_response())
}

/// What a YAML file (the request body) would change: `{different, changes: [{field, old, new}]}`.
#[utoipa::path(post, path = "/config/diff", tag = "config", request_body(content = String, description = "A file written by `gantry config export`", content_type = "application/yaml"), responses(
    (status = 200, description = "`{different, changes}`"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn diff(State(state): State<AppState>, body: String) -> Result<Json<ConfigDiff>, ApiError> {
    let document = config_file::from_yaml(&body).map_err(|message| ControlError::field("file", message))?;
    Ok(Json(state.control.diff_config(&document).await?))
}

/// Makes the configuration what a YAML file (the request body) says, in one transaction, as
/// the caller (each change checked against the caller's role, each audited):
/// `{applied, changes: [{field, old, new}], revision}`. A refusal changes nothing.
#[utoipa::path(post, path = "/config/apply", tag = "config", request_body(content = String, description = "A file written by `gantry config export`", content_type = "application/yaml"), responses(
    (status = 200, description = "`{applied, changes, revision}`"),
    (status = 403, description = "A change the caller's role does not allow (the message names where in the file)"),
    (status = 409, description = "A change Gantry refuses (live version deleted, the file not reproducible exactly, …)"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn apply(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: String,
) -> Result<Json<ConfigApplied>, ApiError> {
    let document = config_file::from_yaml(&body).map_err(|message| ControlError::field("file", message))?;
    Ok(Json(state.control.apply_config(&document, &user).await?))
}
