//! Gateway errors, rendered the way DESIGN.md says: a JSON body
//! `{"code", "message", "request_id"}` and the headers `X-Ca-Error-Code`,
//! `X-Ca-Error-Message` and `X-Ca-Request-Id`.

use crate::body::{Body, BudgetSpent};
use http::{header, HeaderValue, Response, StatusCode};

/// Why the gateway answered instead of a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayError {
    /// No group answers on this host, or the group has nothing live in the environment, or
    /// no API matches the path.
    NotFound(String),
    /// The `X-Ca-Stage` header names no environment.
    BadStage(String),
    /// The path matches an API but not with this method.
    MethodNotAllowed(String),
    /// A declared parameter is missing or invalid.
    InvalidParameter(String),
    /// The request path has no canonical form ([`crate::path::normalize`]).
    InvalidPath(String),
    /// The request body is malformed (an invalid chunk) or ended before its length (400).
    InvalidBody(String),
    /// The body's content type is one the API's body parameters cannot be read from.
    UnsupportedMediaType(String),
    /// The caller stopped sending its request body.
    RequestTimeout(String),
    /// The gateway is at a limit it shares between callers (buffered body bytes).
    Overloaded(String),
    /// The API cannot be served (e.g. its backend kind is not available).
    Unavailable(String),
    /// The backend could not be reached, or failed mid-response.
    BadGateway(String),
    /// The backend did not answer in time.
    GatewayTimeout(String),
    /// The request body is larger than allowed.
    PayloadTooLarge(String),
    /// The request's headers are larger than allowed.
    HeadersTooLarge(String),
    /// App authentication or authorization failed (401 / 403).
    Auth(AuthFailure, String),
    /// A Function backend threw, hit a limit or returned a bad value (502).
    Function(String),
    /// A throttling policy's limit is reached; a request passes again after this many
    /// seconds (429, `Retry-After`).
    Throttled(String, u64),
    /// An IP access policy refuses the caller's address (403).
    IpDenied(String),
    /// An HTTPS-only API called over plain HTTP (403 `HttpsRequired`).
    HttpsRequired(String),
    /// An HTTP-only API called over TLS (403 `HttpRequired`).
    HttpRequired(String),
    /// Every target of the backend is ejected or down (503 `NoHealthyUpstream`).
    NoHealthyUpstream(String),
    /// The backend's targets are at their connection limit for longer than the API's
    /// timeout (503 `UpstreamBusy`).
    UpstreamBusy(String),
    /// A signed request while the cluster's shared nonce store (Redis) does not answer:
    /// refused, since a replay could not be told apart (503 `SharedStateUnavailable`).
    SharedStateUnavailable(String),
}

impl From<BudgetSpent> for GatewayError {
    fn from(spent: BudgetSpent) -> GatewayError {
        GatewayError::Overloaded(spent.to_string())
    }
}

/// Why an `auth = app` API refused a caller; each has its own `X-Ca-Error-Code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    /// Neither an AppCode nor an `X-Ca-Key` and signature.
    MissingCredentials,
    /// No app has this AppKey.
    InvalidAppKey,
    /// No app has this AppCode.
    InvalidAppCode,
    /// `X-Ca-Timestamp` missing, unreadable or more than 15 minutes off.
    InvalidTimestamp,
    /// `X-Ca-Nonce` missing, or seen within the window (a replay).
    InvalidNonce,
    /// The signature does not match the server's StringToSign.
    InvalidSignature,
    /// `Content-MD5` does not match the body.
    InvalidContentMd5,
    /// The app is disabled.
    AppDisabled,
    /// The app is not authorized for this API in this environment.
    Unauthorized,
    /// The app's authorization for this API has expired.
    AuthorizationExpired,
}

impl AuthFailure {
    /// 401 for credentials, 403 for an app that is known but may not call.
    pub fn status(self) -> StatusCode {
        match self {
            AuthFailure::AppDisabled | AuthFailure::Unauthorized | AuthFailure::AuthorizationExpired => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The `X-Ca-Error-Code`.
    pub fn code(self) -> &'static str {
        match self {
            AuthFailure::MissingCredentials => "MissingCredentials",
            AuthFailure::InvalidAppKey => "InvalidAppKey",
            AuthFailure::InvalidAppCode => "InvalidAppCode",
            AuthFailure::InvalidTimestamp => "InvalidTimestamp",
            AuthFailure::InvalidNonce => "InvalidNonce",
            AuthFailure::InvalidSignature => "InvalidSignature",
            AuthFailure::InvalidContentMd5 => "InvalidContentMD5",
            AuthFailure::AppDisabled => "AppDisabled",
            AuthFailure::Unauthorized => "Unauthorized",
            AuthFailure::AuthorizationExpired => "AuthorizationExpired",
        }
    }
}

impl GatewayError {
    /// The HTTP status a caller receives.
    pub fn status(&self) -> StatusCode {
        match self {
            GatewayError::NotFound(_) => StatusCode::NOT_FOUND,
            GatewayError::BadStage(_)
            | GatewayError::InvalidParameter(_)
            | GatewayError::InvalidPath(_)
            | GatewayError::InvalidBody(_) => StatusCode::BAD_REQUEST,
            GatewayError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            GatewayError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            GatewayError::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            GatewayError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            GatewayError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            GatewayError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            GatewayError::Overloaded(_)
            | GatewayError::SharedStateUnavailable(_)
            | GatewayError::NoHealthyUpstream(_)
            | GatewayError::UpstreamBusy(_) => StatusCode::SERVICE_UNAVAILABLE,
            GatewayError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            GatewayError::Auth(failure, _) => failure.status(),
            GatewayError::Function(_) => StatusCode::BAD_GATEWAY,
            GatewayError::Throttled(..) => StatusCode::TOO_MANY_REQUESTS,
            GatewayError::IpDenied(_) | GatewayError::HttpsRequired(_) | GatewayError::HttpRequired(_) => {
                StatusCode::FORBIDDEN
            }
        }
    }

    /// The stable, machine-readable code (`X-Ca-Error-Code`).
    pub fn code(&self) -> &'static str {
        match self {
            GatewayError::NotFound(_) => "NotFound",
            GatewayError::BadStage(_) => "InvalidStage",
            GatewayError::MethodNotAllowed(_) => "MethodNotAllowed",
            GatewayError::InvalidParameter(_) => "InvalidParameter",
            GatewayError::InvalidPath(_) => "InvalidPath",
            GatewayError::InvalidBody(_) => "InvalidBody",
            GatewayError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            GatewayError::RequestTimeout(_) => "RequestTimeout",
            GatewayError::Overloaded(_) => "Overloaded",
            GatewayError::Unavailable(_) => "ServiceUnavailable",
            GatewayError::BadGateway(_) => "BadGateway",
            GatewayError::GatewayTimeout(_) => "GatewayTimeout",
            GatewayError::PayloadTooLarge(_) => "PayloadTooLarge",
            GatewayError::HeadersTooLarge(_) => "RequestHeaderFieldsTooLarge",
            GatewayError::Auth(failure, _) => failure.code(),
            GatewayError::Function(_) => "FunctionError",
            GatewayError::Throttled(..) => "Throttled",
            GatewayError::IpDenied(_) => "IpDenied",
            GatewayError::HttpsRequired(_) => "HttpsRequired",
            GatewayError::HttpRequired(_) => "HttpRequired",
            GatewayError::SharedStateUnavailable(_) => "SharedStateUnavailable",
            GatewayError::NoHealthyUpstream(_) => "NoHealthyUpstream",
            GatewayError::UpstreamBusy(_) => "UpstreamBusy",
        }
    }

    /// The human-readable reason (`X-Ca-Error-Message`).
    pub fn message(&self) -> &str {
        match self {
            GatewayError::NotFound(m)
            | GatewayError::BadStage(m)
            | GatewayError::MethodNotAllowed(m)
            | GatewayError::InvalidParameter(m)
            | GatewayError::InvalidPath(m)
            | GatewayError::InvalidBody(m)
            | GatewayError::UnsupportedMediaType(m)
            | GatewayError::RequestTimeout(m)
            | GatewayError::Overloaded(m)
            | GatewayError::Unavailable(m)
            | GatewayError::BadGateway(m)
            | GatewayError::GatewayTimeout(m)
            | GatewayError::PayloadTooLarge(m)
            | GatewayError::HeadersTooLarge(m)
            | GatewayError::Auth(_, m)
            | GatewayError::Function(m)
            | GatewayError::Throttled(m, _)
            | GatewayError::IpDenied(m)
            | GatewayError::HttpsRequired(m)
            | GatewayError::HttpRequired(m)
            | GatewayError::SharedStateUnavailable(m)
            | GatewayError::NoHealthyUpstream(m)
            | GatewayError::UpstreamBusy(m) => m,
        }
    }

    /// Renders the error as the caller sees it.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let body = serde_json::json!({
            "code": self.code(),
            "message": self.message(),
            "request_id": request_id,
        });
        let mut response = Response::new(crate::body::full(body.to_string()));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
        headers.insert("x-ca-error-code", HeaderValue::from_static(self.code()));
        if let Ok(message) = HeaderValue::from_str(&header_safe(self.message())) {
            headers.insert("x-ca-error-message", message);
        }
        if let GatewayError::Throttled(_, retry_after_s) = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
        }
        response
    }
}

/// Header values must be visible ASCII: anything else (including newlines) becomes `#`,
/// the same convention the X-Ca signature error uses for its StringToSign.
fn header_safe(text: &str) -> String {
    text.chars().map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '#' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_code_message_and_request_id() {
        let response = GatewayError::NotFound("no API here".into()).into_response("rid-1");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["x-ca-error-code"], "NotFound");
        assert_eq!(response.headers()["x-ca-error-message"], "no API here");
    }

    #[test]
    fn newlines_in_messages_become_hashes() {
        assert_eq!(header_safe("GET\n\n/x"), "GET##/x");
    }
}
