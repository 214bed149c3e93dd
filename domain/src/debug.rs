//! The Debug API call: what the console asks for, and what it shows: the request sent, the
//! response, timings, and the gateway's trace of every phase.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A debug call: one API of what is live in `env`, with parameter values by name.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DebugRequest {
    /// The group's name.
    pub group: String,
    /// `test`, `pre` or `prod`.
    pub env: String,
    /// The API's name or id (as text).
    pub api: String,
    /// The app to sign with (needed for `auth = app` APIs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Values of the API's declared parameters, by name.
    pub params: BTreeMap<String, String>,
    /// Extra headers to send.
    pub headers: BTreeMap<String, String>,
    /// A raw body, sent instead of one built from form or body parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// With a canary running: `canary` or `stable`, the side to call (absent: as the canary's
    /// share and rule decide).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub side: Option<String>,
}

/// The request exactly as it went to the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SentRequest {
    /// Method.
    pub method: String,
    /// Full URL (the gateway's address; the group's host is in the `host` header).
    pub url: String,
    /// Every header, signature headers included.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

/// The gateway's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReceivedResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body as text (pretty-printed when JSON), at most the Debug API's read limit.
    pub body: String,
    /// Body size in bytes (as declared by `Content-Length` when the body was cut).
    pub size: u64,
    /// Whether the body was longer than the read limit and is cut.
    #[serde(default)]
    pub truncated: bool,
    /// Whether the body is JSON.
    pub json: bool,
}

/// How long things took, in milliseconds.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// From sending the request to the end of the response body, as the console saw it.
    pub total_ms: f64,
    /// The gateway's own time for the request (from its trace).
    pub gateway_ms: Option<f64>,
    /// The backend's time to answer (from the trace), when a backend was called.
    pub upstream_ms: Option<f64>,
}

/// One phase of the gateway's request lifecycle, as it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseStep {
    /// `resolve`, `route`, `mock`, `authenticate`, `validate`, `upstream request`, `proxy`.
    pub name: String,
    /// `ok`, `answered`, `skipped`, `failed` or `not reached`.
    pub outcome: String,
    /// What happened, for a person.
    pub detail: String,
}

/// The backend request the gateway built.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UpstreamTrace {
    /// Method.
    pub method: String,
    /// Full backend URL.
    pub url: String,
    /// Headers sent to the backend.
    pub headers: Vec<(String, String)>,
    /// Body size when known (`None`: streamed).
    pub body_bytes: Option<u64>,
}

/// What the gateway did with one request; returned only for requests carrying a one-time
/// debug token the console issued.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DebugTrace {
    /// `X-Ca-Request-Id`.
    pub request_id: String,
    /// Resolved group.
    pub group: Option<String>,
    /// Resolved environment (`test`, `pre`, `prod`).
    pub environment: Option<String>,
    /// Live version.
    pub version: Option<String>,
    /// Matched API (name).
    pub api: Option<String>,
    /// Matched route (`GET /pets/{petId}`).
    pub route: Option<String>,
    /// Path parameters as matched.
    pub path_params: Vec<(String, String)>,
    /// Whether the mock short-cut answered.
    pub mock: bool,
    /// How the caller authenticated (`none`, `AppCode`, `Signature`).
    pub auth: Option<String>,
    /// The calling app.
    pub app: Option<String>,
    /// The server's StringToSign, when a signature did not match.
    pub server_string_to_sign: Option<String>,
    /// Declared parameters after validation: `(location, name, value)`.
    pub values: Vec<(String, String, String)>,
    /// The backend request.
    pub upstream: Option<UpstreamTrace>,
    /// The backend's status.
    pub upstream_status: Option<u16>,
    /// The backend's time to answer, ms.
    pub upstream_ms: Option<f64>,
    /// The phase that refused the request.
    pub failed_phase: Option<String>,
    /// The gateway's error code and message, when it answered with one.
    pub error: Option<(String, String)>,
    /// Every phase in order.
    pub phases: Vec<PhaseStep>,
    /// The gateway's time for the request up to the response head, ms.
    pub gateway_ms: f64,
}

/// The result of a debug call.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DebugResult {
    /// The request as sent.
    pub request: SentRequest,
    /// The response.
    pub response: ReceivedResponse,
    /// Timings.
    pub timings: Timings,
    /// The gateway's trace.
    pub trace: Option<DebugTrace>,
    /// The StringToSign the console signed, when it signed.
    pub client_string_to_sign: Option<String>,
}

/// The first line where two StringToSign texts differ (0-based), if they differ.
pub fn first_difference(client: &str, server: &str) -> Option<usize> {
    let (a, b): (Vec<&str>, Vec<&str>) = (client.split('\n').collect(), server.split('\n').collect());
    (0..a.len().max(b.len())).find(|&i| a.get(i) != b.get(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_differing_line_is_found() {
        assert_eq!(first_difference("GET\n\n/a", "GET\n\n/a"), None);
        assert_eq!(first_difference("GET\n\n/a?x=1", "GET\n\n/a?x=2"), Some(2));
        assert_eq!(first_difference("GET\n", "GET\n\nx"), Some(2));
    }
}
