//! Phase 7: the backend is called, over the pooled client with the API's timeout, or the
//! API's function runs on the function pool.

use super::auth::strip_credentials;
use super::validate::Values;
use crate::body::{self, Body};
use crate::compiled::HttpBackend;
use crate::context::{AuthMethod, RequestContext};
use crate::function::{FunctionCode, FunctionPool};
use crate::upstream::Upstream;
use crate::GatewayError;
use http::{HeaderName, HeaderValue, Request, Response};
use std::sync::Arc;
use std::time::Instant;

/// Phase 7: sends the request over the pooled client; the response body streams back.
pub async fn proxy(
    ctx: &mut RequestContext,
    upstream: &Upstream,
    backend: &HttpBackend,
    request: Request<Body>,
) -> Result<Response<Body>, GatewayError> {
    let mut response = call_backend(ctx, backend, upstream.send(backend, request)).await?;
    super::upstream_request::strip_hop_by_hop(response.headers_mut());
    Ok(response)
}

/// Awaits a call to `backend` within the API's timeout and notes its time and status. The
/// caller learns what failed (504, 502); the backend's address and the OS or TLS error text
/// go to the access log and the Debug API trace only.
pub async fn call_backend<B>(
    ctx: &mut RequestContext,
    backend: &HttpBackend,
    call: impl std::future::Future<Output = Result<Response<B>, crate::upstream::UpstreamError>>,
) -> Result<Response<B>, GatewayError> {
    let started = Instant::now();
    ctx.backend = Some(backend.origin.key.clone());
    let response = match tokio::time::timeout(backend.timeout, call).await {
        Err(_) => {
            let ms = backend.timeout.as_millis();
            ctx.upstream_error = Some(format!("{} did not answer within {ms} ms", backend.address));
            return Err(GatewayError::GatewayTimeout(format!("the backend did not answer within {ms} ms")));
        }
        Ok(Err(error)) => {
            ctx.upstream_error = Some(format!("{}: {}", backend.address, error.detail));
            return Err(GatewayError::BadGateway(error.kind.public_message().into()));
        }
        Ok(Ok(response)) => response,
    };
    ctx.upstream_micros = Some(started.elapsed().as_micros() as u64);
    ctx.upstream_status = Some(response.status().as_u16());
    Ok(response)
}

/// Phase 7 for a Function backend: runs the API's function on the pool with
/// `{method, path, params, query, headers, body, json}` and answers with what it returns.
pub async fn function(
    ctx: &mut RequestContext,
    pool: &FunctionPool,
    code: &Arc<FunctionCode>,
    request: &Request<Body>,
    query: &[(String, String)],
    values: &Values,
    body: bytes::Bytes,
) -> Result<Response<Body>, GatewayError> {
    let mut params = serde_json::Map::new();
    for (_, name, value) in &values.declared {
        params.insert(name.clone(), serde_json::Value::String(value.clone()));
    }
    let mut query_object = serde_json::Map::new();
    for (name, value) in query {
        query_object.entry(name.clone()).or_insert_with(|| serde_json::Value::String(value.clone()));
    }
    let mut visible = request.headers().clone();
    strip_credentials(&mut visible, ctx.auth == Some(AuthMethod::Signature));
    let mut headers = serde_json::Map::new();
    for (name, value) in &visible {
        if let Ok(value) = value.to_str() {
            headers.entry(name.as_str().to_owned()).or_insert_with(|| serde_json::Value::String(value.to_owned()));
        }
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    // `req.json` is parsed from `body` in the sandbox, and only if the function reads it.
    let argument = serde_json::json!({
        "method": ctx.method.as_str(), "path": ctx.path, "params": params, "query": query_object,
        "headers": headers, "body": text,
    });
    if let Some(notes) = ctx.debug.as_mut() {
        notes.upstream = Some(domain::debug::UpstreamTrace {
            method: "FUNCTION".into(),
            url: format!(
                "function {} (code {})",
                ctx.api.as_ref().map(|a| a.name.as_str()).unwrap_or("-"),
                &code.hash[..12]
            ),
            headers: Vec::new(),
            body_bytes: Some(body.len() as u64),
        });
    }
    let started = Instant::now();
    // Waiting for a worker counts against the function's own time limit.
    let group = ctx.group.as_ref().map_or(-1, |g| g.id);
    let answer = pool.call(group, code.clone(), argument.to_string(), code.timeout).await;
    ctx.upstream_micros = Some(started.elapsed().as_micros() as u64);
    let answer = answer.map_err(|error| match error {
        crate::function::CallError::QueueFull => {
            GatewayError::Overloaded("as many function calls wait as the gateway queues; try again shortly".into())
        }
        crate::function::CallError::Failed(message) => GatewayError::Function(message),
    })?;
    ctx.upstream_status = Some(answer.status);
    let mut response = Response::new(body::full(answer.body));
    *response.status_mut() = http::StatusCode::from_u16(answer.status).unwrap_or(http::StatusCode::OK);
    for (name, value) in answer.headers {
        match (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(&value)) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            _ => return Err(GatewayError::Function(format!("the handler returned an invalid header `{name}`"))),
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::{Backend, CompiledApi, Target};
    use http::{HeaderMap, Method};
    use std::net::{IpAddr, Ipv4Addr};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn http_api(address: &str, timeout_ms: u64) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(serde_json::json!({
            "name": "p", "request": {"method": "GET", "path": "/p"},
            "backend": {"http": {"path": "/", "timeout_ms": timeout_ms}}
        }))
        .expect("spec");
        let target = Target::Http(domain::BackendAddress::parse(address).expect("address"));
        CompiledApi::compile(1, &spec.validate().expect("valid"), target).expect("compile")
    }

    fn context() -> RequestContext {
        RequestContext::new(Method::GET, "/p", &HeaderMap::new(), &IpAddr::V4(Ipv4Addr::LOCALHOST).into())
    }

    fn client() -> Upstream {
        Upstream::new(crate::upstream::tls_config(None).expect("tls"))
    }

    fn request_to(backend: &HttpBackend) -> Request<Body> {
        let mut request = Request::new(body::full(""));
        *request.uri_mut() = format!("http://{}/", backend.origin.uri_authority).parse().expect("uri");
        request.headers_mut().insert(http::header::HOST, backend.origin.host_header.clone());
        request
    }

    #[tokio::test]
    async fn the_answer_streams_back_without_hop_by_hop_headers_and_is_noted() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut head = [0u8; 1024];
            let _ = socket.read(&mut head).await;
            let answer =
                "HTTP/1.1 201 Created\r\ncontent-length: 2\r\nconnection: x-hop\r\nx-hop: 1\r\nx-kept: 2\r\n\r\nok";
            socket.write_all(answer.as_bytes()).await.expect("write");
        });
        let api = http_api(&address, 5_000);
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = context();
        let response = proxy(&mut ctx, &client(), backend, request_to(backend)).await.expect("answered");
        assert_eq!(response.status(), 201);
        assert!(response.headers().contains_key("x-kept"));
        assert!(!response.headers().contains_key("x-hop") && !response.headers().contains_key("connection"));
        assert_eq!(ctx.upstream_status, Some(201));
        assert!(ctx.upstream_micros.is_some());
    }

    #[tokio::test]
    async fn a_silent_backend_is_a_gateway_timeout_whose_address_stays_in_the_log() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("addr"));
        // Accepts and holds the connection until the test ends, never answering.
        let (_keep, held) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let (_socket, _) = listener.accept().await.expect("accept");
            let _ = held.await;
        });
        let api = http_api(&address, 50);
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = context();
        let error = proxy(&mut ctx, &client(), backend, request_to(backend)).await.expect_err("timeout");
        assert!(matches!(&error, GatewayError::GatewayTimeout(m) if m.contains("50 ms") && !m.contains("127.0.0.1")));
        assert!(ctx.upstream_error.as_deref().is_some_and(|e| e.contains("127.0.0.1")));
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_bad_gateway() {
        // A port that was free a moment ago: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let api = http_api(&format!("http://127.0.0.1:{port}"), 5_000);
        let Backend::Http(backend) = &api.backend else { panic!("http") };
        let mut ctx = context();
        let error = proxy(&mut ctx, &client(), backend, request_to(backend)).await.expect_err("refused");
        assert!(matches!(error, GatewayError::BadGateway(_)), "{error:?}");
        assert!(ctx.upstream_error.is_some());
    }
}
