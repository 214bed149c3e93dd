//! Phase 8: one structured access-log line per request, whatever happened.

use crate::context::RequestContext;
use crate::Environment;
use std::time::Duration;

/// Phase 8: one structured access-log line per request, whatever happened. `bytes` is the
/// response body's size when known up front (streamed bodies of unknown length log `-1`).
pub fn log(ctx: &RequestContext, status: http::StatusCode, bytes: Option<u64>) {
    tracing::info!(
        target: "gantry::access",
        request_id = %ctx.request_id,
        client = %ctx.client,
        method = %ctx.method,
        host = %ctx.host,
        path = %ctx.path,
        group = ctx.group.as_ref().map(|g| &*g.name).unwrap_or("-"),
        environment = ctx.environment.map(Environment::as_str).unwrap_or("-"),
        version = ctx.version.as_deref().unwrap_or("-"),
        api = ctx.api.as_ref().map(|a| &*a.name).unwrap_or("-"),
        status = status.as_u16(),
        bytes = bytes.map(|b| b as i64).unwrap_or(-1),
        upstream_status = ctx.upstream_status.unwrap_or(0),
        upstream_micros = ctx.upstream_micros.unwrap_or(0),
        upstream_error = ctx.upstream_error.as_deref().unwrap_or("-"),
        attempts = ctx.retried.len() + usize::from(ctx.backend.is_some()),
        retried = %ctx.retried.join("; "),
        micros = ctx.started.elapsed().as_micros() as u64,
        "request"
    );
}

/// What the access log keeps of an answered request (`crate::access_log`), `elapsed` after
/// it started.
pub fn served(ctx: &RequestContext, status: http::StatusCode, elapsed: Duration) -> crate::access_log::Served<'_> {
    use crate::access_log::Label;
    crate::access_log::Served {
        request_id: ctx.request_id,
        group: ctx.group.as_ref().map_or(Label::NONE, |g| g.label),
        api: ctx.api.as_ref().map_or(Label::NONE, |a| a.label),
        app: ctx.app.as_ref().map_or(Label::NONE, |a| a.label),
        env: ctx.environment,
        method: &ctx.method,
        path: &ctx.path,
        status: status.as_u16(),
        latency_us: elapsed.as_micros() as u64,
        client_ip: ctx.caller,
    }
}

/// What the stats keep of an answered request (`crate::stats`), `elapsed` after it started;
/// `None` for a request that resolved no group and environment (a caller's made-up host is
/// not a series).
pub fn sample(
    ctx: &RequestContext,
    status: http::StatusCode,
    elapsed: Duration,
    bytes: Option<u64>,
    failure: Option<domain::stats::UpstreamFailure>,
) -> Option<crate::stats::Sample<'_>> {
    Some(crate::stats::Sample {
        group_id: ctx.group.as_ref()?.id,
        api_id: ctx.api.as_ref().map_or(-1, |a| a.id),
        env: ctx.environment?,
        version: ctx.version.as_deref().unwrap_or(domain::stats::NO_VERSION),
        status: status.as_u16(),
        latency_us: elapsed.as_micros() as u64,
        bytes: bytes.unwrap_or(0),
        backend: ctx.backend.as_ref(),
        failure,
        slot: ctx.api.as_ref().map(|a| &a.stats),
        names: (ctx.group.as_ref().map_or("-", |g| &*g.name), ctx.api.as_ref().map_or("-", |a| &*a.name)),
    })
}
