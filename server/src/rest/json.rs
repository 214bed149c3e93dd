//! A JSON body extractor whose failures are 422 field errors like every other input error.

use crate::rest::error::ApiError;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use control::ControlError;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, but a malformed body is `422 {"errors": [{"field": "body", …}]}`.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError(ControlError::field("body", rejection_message(&rejection)))),
        }
    }
}

fn rejection_message(rejection: &JsonRejection) -> String {
    rejection.body_text()
}
