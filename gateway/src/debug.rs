//! The Debug API's view into the gateway: one-time debug tokens, and the trace of a request
//! that carried one.
//!
//! The console issues a token ([`DebugTokens::issue`]) and sends the request to the real
//! gateway listener with it in `X-Gantry-Debug`. The gateway removes the header (it never
//! reaches a backend), consumes the token, and, only when the token was valid, answers with
//! the trace of every phase in `X-Gantry-Trace` (Base64 of JSON). A forged, expired or
//! reused token is ignored: the request is served like any other, without a trace.

use crate::body::Body;
use crate::context::{AuthMethod, DebugNotes, Phase, RequestContext};
use crate::GatewayError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bytes::Bytes;
use domain::debug::{DebugTrace, PhaseStep};
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The request header that carries a debug token.
pub const TOKEN_HEADER: http::HeaderName = http::HeaderName::from_static("x-gantry-debug");

/// With a valid debug token: `canary` or `stable`, the side of a canary to serve from.
pub const SIDE_HEADER: http::HeaderName = http::HeaderName::from_static("x-gantry-debug-side");
/// The response header that carries the trace.
pub const TRACE_HEADER: http::HeaderName = http::HeaderName::from_static("x-gantry-trace");
/// How long an issued token stays valid.
const TOKEN_TTL: Duration = Duration::from_secs(60);
/// At most this many tokens wait to be used; older ones are dropped first.
const MAX_TOKENS: usize = 1024;

/// A fresh token: 64 hex digits, unguessable.
pub fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Tokens the console issued and the gateway has not seen yet.
#[derive(Debug, Default)]
pub struct DebugTokens {
    issued: Mutex<HashMap<String, Instant>>,
}

impl DebugTokens {
    /// A new one-time token, valid for a minute.
    pub fn issue(&self) -> String {
        let token = new_token();
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        issued.retain(|_, at| now.duration_since(*at) < TOKEN_TTL);
        if issued.len() >= MAX_TOKENS {
            if let Some(oldest) = issued.iter().min_by_key(|(_, at)| **at).map(|(t, _)| t.clone()) {
                issued.remove(&oldest);
            }
        }
        issued.insert(token.clone(), now);
        token
    }

    /// Consumes `token`: `true` only the first time, and only within its lifetime.
    pub fn consume(&self, token: &str) -> bool {
        let mut issued = self.issued.lock().unwrap_or_else(|p| p.into_inner());
        issued.remove(token).is_some_and(|at| at.elapsed() < TOKEN_TTL)
    }
}

/// The trace of a finished request.
pub fn trace(ctx: &RequestContext, notes: &DebugNotes, error: Option<&GatewayError>) -> DebugTrace {
    let api = ctx.api.as_ref();
    let mut phases = Vec::with_capacity(Phase::ALL.len());
    for phase in Phase::ALL {
        let (outcome, detail) = if notes.mock && phase > Phase::Mock {
            ("skipped", "the mock short-cut answered".to_owned())
        } else if phase > ctx.phase {
            ("not reached", String::new())
        } else if phase == ctx.phase && error.is_some() {
            let mut detail = ctx.upstream_error.as_deref().map(|d| format!(" ({d})")).unwrap_or_default();
            if !ctx.retried.is_empty() {
                detail.push_str(&format!(", after: {}", ctx.retried.join("; ")));
            }
            ("failed", error.map(|e| format!("{}: {}{detail}", e.code(), e.message())).unwrap_or_default())
        } else {
            match phase {
                Phase::Resolve => (
                    "ok",
                    format!(
                        "group `{}`, {}, version {}",
                        ctx.group.as_ref().map(|g| &*g.name).unwrap_or("-"),
                        ctx.environment.map(|e| e.label()).unwrap_or("-"),
                        ctx.version.as_deref().unwrap_or("-")
                    ),
                ),
                Phase::Route => ("ok", api.map(|a| format!("API `{}`", a.name)).unwrap_or_default()),
                Phase::Mock if notes.mock => {
                    ("answered", "the API's backend is Mock: answered without authentication".into())
                }
                Phase::Mock => ("skipped", "the backend is not Mock".into()),
                Phase::Authenticate => match (ctx.auth, &ctx.app) {
                    (Some(AuthMethod::None) | None, _) => ("ok", "the API needs no app (auth = none)".into()),
                    (Some(method), Some(app)) => ("ok", format!("{}: app `{}` authorized", method.as_str(), app.name)),
                    (Some(method), None) => ("ok", method.as_str().to_owned()),
                },
                Phase::Policies if notes.policies.is_empty() => ("ok", "no traffic policy is bound".into()),
                Phase::Policies => ("ok", notes.policies.join("; ")),
                Phase::Validate => ("ok", format!("{} declared parameter value(s)", notes.values.len())),
                Phase::UpstreamRequest => {
                    ("ok", notes.upstream.as_ref().map(|u| format!("{} {}", u.method, u.url)).unwrap_or_default())
                }
                Phase::Proxy => (
                    "ok",
                    match (ctx.upstream_status, ctx.upstream_micros) {
                        (Some(status), Some(micros)) if ctx.retried.is_empty() => {
                            format!("backend answered {status} in {:.1} ms", micros as f64 / 1000.0)
                        }
                        (Some(status), Some(micros)) => format!(
                            "backend answered {status} in {:.1} ms, on another target after: {}",
                            micros as f64 / 1000.0,
                            ctx.retried.join("; ")
                        ),
                        _ => String::new(),
                    },
                ),
            }
        };
        phases.push(PhaseStep { name: phase.as_str().to_owned(), outcome: outcome.to_owned(), detail });
    }
    DebugTrace {
        request_id: ctx.request_id.to_string(),
        group: ctx.group.as_ref().map(|g| g.name.to_string()),
        environment: ctx.environment.map(|e| e.as_str().to_owned()),
        version: ctx.version.as_deref().map(str::to_owned),
        api: api.map(|a| a.name.to_string()),
        route: api.map(|a| format!("{} {}", a.method().as_ref().map_or("ANY", http::Method::as_str), a.path)),
        path_params: notes.path_params.clone(),
        mock: notes.mock,
        auth: ctx.auth.map(|method| method.as_str().to_owned()),
        app: ctx.app.as_ref().map(|a| a.name.clone()),
        server_string_to_sign: ctx.string_to_sign.clone(),
        values: notes.values.clone(),
        upstream: notes.upstream.clone(),
        upstream_status: ctx.upstream_status,
        upstream_ms: ctx.upstream_micros.map(|m| m as f64 / 1000.0),
        failed_phase: error.map(|_| ctx.phase.as_str().to_owned()),
        error: error.map(|e| (e.code().to_owned(), e.message().to_owned())),
        phases,
        gateway_ms: ctx.started.elapsed().as_secs_f64() * 1000.0,
    }
}

/// Adds the trace header to a response.
pub fn attach(response: &mut Response<Body>, trace: &DebugTrace) {
    let json = serde_json::to_vec(trace).unwrap_or_default();
    if let Ok(value) = HeaderValue::from_str(&STANDARD.encode(json)) {
        response.headers_mut().insert(TRACE_HEADER, value);
    }
}

/// Reads the trace header of a response, if there is a valid one.
pub fn read_trace(headers: &http::HeaderMap) -> Option<DebugTrace> {
    let raw = headers.get(TRACE_HEADER)?.to_str().ok()?;
    serde_json::from_slice(&STANDARD.decode(raw).ok()?).ok()
}

/// Sends one request to the gateway at `address` (plain HTTP, loopback) and reads the whole
/// response. For the console's Debug API page.
pub async fn send(
    address: std::net::SocketAddr,
    request: Request<Bytes>,
    timeout: Duration,
    max_body: usize,
) -> Result<Answer, String> {
    let stream =
        tokio::net::TcpStream::connect(address).await.map_err(|e| format!("connecting to the gateway: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| format!("gateway handshake: {e}"))?;
    tokio::spawn(connection);
    let request = request.map(|b| http_body_util::Full::new(b));
    let call = async {
        let response = sender.send_request(request).await.map_err(|e| format!("gateway request: {e}"))?;
        let (parts, mut body) = response.into_parts();
        // At most `max_body` bytes are read: a backend that answers gigabytes costs the
        // console that much, not more. The rest is left unread (the connection is dropped).
        let mut bytes = bytes::BytesMut::new();
        let mut truncated = false;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| format!("gateway response: {e}"))?;
            let Ok(data) = frame.into_data() else { continue };
            let room = max_body - bytes.len();
            if data.len() > room {
                bytes.extend_from_slice(&data[..room]);
                truncated = true;
                break;
            }
            bytes.extend_from_slice(&data);
        }
        Ok(Answer { parts, body: bytes.freeze(), truncated })
    };
    tokio::time::timeout(timeout, call).await.map_err(|_| "the gateway did not answer in time".to_owned())?
}

/// What the gateway answered a debug call.
#[derive(Debug)]
pub struct Answer {
    /// Status and headers.
    pub parts: http::response::Parts,
    /// The body, or its first `max_body` bytes.
    pub body: Bytes,
    /// Whether the body was longer than `max_body` and cut.
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_work_once_and_forged_ones_never() {
        let tokens = DebugTokens::default();
        let token = tokens.issue();
        assert!(!tokens.consume("forged"));
        assert!(tokens.consume(&token));
        assert!(!tokens.consume(&token), "a token works once");
    }

    fn outcomes(trace: &DebugTrace) -> Vec<(&str, &str)> {
        trace.phases.iter().map(|step| (step.name.as_str(), step.outcome.as_str())).collect()
    }

    #[test]
    fn the_trace_marks_the_failed_phase_and_what_was_not_reached() {
        let peer = std::net::IpAddr::from([127, 0, 0, 1]).into();
        let mut ctx = RequestContext::new(http::Method::GET, "/pets", &http::HeaderMap::new(), &peer);
        ctx.phase = Phase::Authenticate;
        let error = GatewayError::Auth(crate::AuthFailure::InvalidAppCode, "Invalid AppCode".into());
        let trace = trace(&ctx, &DebugNotes::default(), Some(&error));
        assert_eq!(
            outcomes(&trace),
            [
                ("resolve", "ok"),
                ("route", "ok"),
                ("mock", "skipped"),
                ("authenticate", "failed"),
                ("policies", "not reached"),
                ("validate", "not reached"),
                ("upstream request", "not reached"),
                ("proxy", "not reached")
            ]
        );
        assert_eq!(trace.failed_phase.as_deref(), Some("authenticate"));
        assert!(trace.phases[3].detail.contains("Invalid AppCode"));
    }

    #[test]
    fn after_a_mock_answer_every_later_phase_is_skipped() {
        let peer = std::net::IpAddr::from([127, 0, 0, 1]).into();
        let mut ctx = RequestContext::new(http::Method::GET, "/pets", &http::HeaderMap::new(), &peer);
        ctx.phase = Phase::Mock;
        let notes = DebugNotes { mock: true, ..DebugNotes::default() };
        let trace = trace(&ctx, &notes, None);
        let after: Vec<_> = outcomes(&trace).into_iter().skip(2).collect();
        assert_eq!(after[0], ("mock", "answered"));
        assert!(after[1..].iter().all(|(_, outcome)| *outcome == "skipped"), "{after:?}");
        assert_eq!(trace.failed_phase, None);
    }
}
