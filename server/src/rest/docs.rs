//! SDK & Docs and OpenAPI: generated docs and SDKs of what is live, OpenAPI export, import.

use crate::rest::error::{env_path, ApiError, ValidationErrorBody};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use control::openapi::{ImportReport, Source};
use control::sdk::{Artifact, Generated};
use control::{ControlError, CurrentUser};
use serde::Deserialize;

fn file(generated: Generated) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", generated.file_name);
    (
        [(header::CONTENT_TYPE, generated.content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        generated.content,
    )
        .into_response()
}

/// `?source=draft|version:<label>|test|pre|prod&format=json|yaml`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    source: String,
    format: String,
}

/// The OpenAPI 3.1 document of the draft, a version, or what is live in an environment.
#[utoipa::path(get, path = "/groups/{group}/openapi", tag = "docs", params(("group" = String, Path), ("source" = Option<String>, Query), ("format" = Option<String>, Query)), responses(
    (status = 200, description = "OpenAPI 3.1 (JSON, or YAML with format=yaml)"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn export_openapi(
    State(state): State<AppState>,
    Path(group): Path<String>,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let source = Source::parse(&query.source)?;
    let document = state.control.export_openapi(&group, &source).await?;
    let stem = format!("{group}-{}", if query.source.is_empty() { "draft" } else { &query.source }).replace(':', "-");
    Ok(match query.format.as_str() {
        "yaml" | "yml" => file(Generated {
            file_name: format!("{stem}.openapi.yaml"),
            content_type: "application/yaml",
            content: serde_saphyr::to_string(&document).map_err(|e| ControlError::Internal(e.to_string()))?,
        }),
        "" | "json" => {
            let content = serde_json::to_string_pretty(&document).map_err(|e| ControlError::Internal(e.to_string()))?;
            file(Generated { file_name: format!("{stem}.openapi.json"), content_type: "application/json", content })
        }
        other => return Err(ControlError::field("format", format!("`{other}` is not json or yaml")).into()),
    })
}

/// `?format=markdown|html`
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DocsQuery {
    format: String,
}

/// The docs of what is live in an environment (Markdown by default, or HTML).
#[utoipa::path(get, path = "/groups/{group}/docs/{env}", tag = "docs", params(("group" = String, Path), ("env" = String, Path), ("format" = Option<String>, Query)), responses((status = 200, description = "Markdown or HTML")))]
pub async fn docs(
    State(state): State<AppState>,
    Path((group, env)): Path<(String, String)>,
    Query(query): Query<DocsQuery>,
) -> Result<Response, ApiError> {
    let artifact = match query.format.as_str() {
        "" | "markdown" | "md" => Artifact::Markdown,
        "html" => Artifact::Html,
        other => return Err(ControlError::field("format", format!("`{other}` is not markdown or html")).into()),
    };
    Ok(file(state.control.generate(&group, env_path(&env)?, artifact).await?))
}

/// The Python or TypeScript SDK of what is live in an environment.
#[utoipa::path(get, path = "/groups/{group}/sdk/{env}/{language}", tag = "docs", params(("group" = String, Path), ("env" = String, Path), ("language" = String, Path)), responses((status = 200, description = "One source file")))]
pub async fn sdk(
    State(state): State<AppState>,
    Path((group, env, language)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let artifact = match Artifact::parse(&language)? {
        artifact @ (Artifact::Python | Artifact::TypeScript) => artifact,
        _ => return Err(ControlError::field("language", "must be python or typescript").into()),
    };
    Ok(file(state.control.generate(&group, env_path(&env)?, artifact).await?))
}

/// `?dry_run=true` previews.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImportQuery {
    dry_run: bool,
}

/// Import an OpenAPI 3.0/3.1 document (the request body, JSON or YAML) into the group's draft.
#[utoipa::path(post, path = "/groups/{group}/import", tag = "docs", params(("group" = String, Path), ("dry_run" = Option<bool>, Query)), request_body(content = String, description = "The OpenAPI document"), responses(
    (status = 200, description = "`{add, overwrite, skip, unsupported, applied}`"),
    (status = 422, body = ValidationErrorBody),
))]
pub async fn import(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(group): Path<String>,
    Query(query): Query<ImportQuery>,
    body: String,
) -> Result<Json<ImportReport>, ApiError> {
    Ok(Json(state.control.import_openapi(&group, &body, query.dry_run, &user).await?))
}
