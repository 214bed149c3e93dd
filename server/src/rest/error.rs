//! REST error bodies: validation failures are 422 `{"errors": [{"field", "message"}]}`, every
//! other error `{"code", "message"}` with the status `ControlError::status_code` gives.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use control::ControlError;
use serde::Serialize;
use utoipa::ToSchema;

/// A non-validation error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `NotFound`.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
}

/// One invalid field.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// JSON path of the field, e.g. `request.path`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// A 422 answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationErrorBody {
    /// Every invalid field.
    pub errors: Vec<FieldErrorBody>,
}

/// A [`ControlError`] on its way out of a REST handler or guard.
#[derive(Debug)]
pub struct ApiError(pub ControlError);

impl From<ControlError> for ApiError {
    fn from(error: ControlError) -> ApiError {
        ApiError(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        match self.0 {
            ControlError::Validation(errors) => {
                let errors =
                    errors.into_iter().map(|e| FieldErrorBody { field: e.field, message: e.message }).collect();
                (status, Json(ValidationErrorBody { errors })).into_response()
            }
            ControlError::TooManyAttempts { retry_after_s } => {
                let body = ErrorBody { code: self.0.code().to_owned(), message: self.0.public_message() };
                (status, [(axum::http::header::RETRY_AFTER, retry_after_s.to_string())], Json(body)).into_response()
            }
            other => {
                let body = ErrorBody { code: other.code().to_owned(), message: other.public_message() };
                (status, Json(body)).into_response()
            }
        }
    }
}

/// axum's own refusals (a path segment or query string that does not deserialise, a body
/// too large or not UTF-8, a method the route lacks) are plain text; the API answers in its
/// JSON error shape instead: a bad path or query is a 422 naming `path` or `query`, the rest
/// keep their status with `{code, message}`.
pub async fn json_rejections(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    let plain = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/plain"));
    let status = response.status();
    if !(plain && status.is_client_error()) {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let field = if text.contains("query string") {
        Some("query")
    } else if text.starts_with("Invalid URL") || text.contains("path param") {
        Some("path")
    } else {
        None
    };
    match field {
        Some(field) if status == StatusCode::BAD_REQUEST => ApiError(ControlError::field(field, text)).into_response(),
        _ => {
            let code = status.canonical_reason().unwrap_or("Error").replace(' ', "");
            (status, Json(ErrorBody { code, message: text })).into_response()
        }
    }
}

/// Any path under the API that no route matches.
pub async fn not_found() -> ApiError {
    ApiError(ControlError::NotFound("this endpoint".to_owned()))
}

/// An `{env}` path segment whose environment is checked like a field (422 naming `env`).
pub fn env_path(raw: &str) -> Result<domain::Environment, ApiError> {
    raw.parse().map_err(|e: domain::environment::UnknownEnvironment| ControlError::field("env", e.to_string()).into())
}
