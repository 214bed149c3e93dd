//! What a hostile caller sends to the gateway (issue 17): each test was seen to fail on the
//! gateway before its fix.

use crate::apps::signed_petstore;
use crate::helpers::{spawn_app, TestApp};
use gateway::signature::{self, SignatureMethod};
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{json, Value};

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

/// A GET of `/pets` signed with `app`'s secret over the `x-ca-*` headers named in `signed`
/// only (the caller's choice, as the scheme allows).
fn signed_get(app: &Value, signed: &[&str], timestamp: i64, nonce: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // Sent, so signed (reqwest would otherwise add `accept: */*` after signing).
    headers.insert(reqwest::header::ACCEPT, HeaderValue::from_static("application/json"));
    let key = app["app_key"].as_str().expect("key");
    headers.insert(signature::X_CA_KEY, HeaderValue::from_str(key).expect("key"));
    headers.insert(signature::X_CA_TIMESTAMP, HeaderValue::from(timestamp));
    headers.insert(signature::X_CA_NONCE, HeaderValue::from_str(nonce).expect("nonce"));
    headers.insert(signature::X_CA_SIGNATURE_HEADERS, HeaderValue::from_str(&signed.join(",")).expect("list"));
    let names: Vec<String> = signed.iter().map(|n| n.to_string()).collect();
    let text = signature::string_to_sign("GET", &headers, &names, "/pets", &[]);
    let secret = app["app_secret"].as_str().expect("secret");
    let value = signature::sign(secret, SignatureMethod::HmacSha256, &text);
    headers.insert(signature::X_CA_SIGNATURE, HeaderValue::from_str(&value).expect("signature"));
    headers
}

async fn send(app: &TestApp, headers: HeaderMap) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .get(format!("{}/pets", app.gateway))
        .header("host", "petstore.localhost")
        .header("x-ca-stage", "TEST");
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("gateway answers");
    let status = response.status().as_u16();
    let code = response.headers().get("x-ca-error-code").map(|v| v.to_str().expect("ascii").to_owned());
    (status, code.unwrap_or_default(), response.text().await.expect("body"))
}

#[tokio::test]
async fn a_signature_that_leaves_out_the_timestamp_or_nonce_cannot_be_replayed() {
    let app = spawn_app().await;
    let (_rest, web, _ids) = signed_petstore(&app).await;

    // Signed over X-Ca-Key alone: a captured signature would pass with any fresh timestamp
    // and nonce, forever. Refused, naming the header that must be signed.
    let captured = signed_get(&web, &["x-ca-key"], now_ms(), "n-1");
    let (status, code, body) = send(&app, captured).await;
    assert_eq!((status, code.as_str()), (401, "InvalidSignature"), "{body}");
    assert!(body.contains("X-Ca-Timestamp must be signed"), "{body}");

    let (status, code, body) = send(&app, signed_get(&web, &["x-ca-key", "x-ca-timestamp"], now_ms(), "n-2")).await;
    assert_eq!((status, code.as_str()), (401, "InvalidSignature"), "{body}");
    assert!(body.contains("X-Ca-Nonce must be signed"), "{body}");

    // Both signed: accepted once, the same nonce again is a replay.
    let signed = ["x-ca-key", "x-ca-nonce", "x-ca-timestamp"];
    let timestamp = now_ms();
    let (status, _, body) = send(&app, signed_get(&web, &signed, timestamp, "n-3")).await;
    assert_eq!(status, 200, "{body}");
    let (status, code, body) = send(&app, signed_get(&web, &signed, timestamp, "n-3")).await;
    assert_eq!((status, code.as_str()), (401, "InvalidNonce"), "{body}");
}

#[tokio::test]
async fn a_disabled_app_does_not_use_up_nonces() {
    let app = spawn_app().await;
    let (rest, web, _ids) = signed_petstore(&app).await;
    let signed = ["x-ca-key", "x-ca-nonce", "x-ca-timestamp"];
    let timestamp = now_ms();

    let (status, body) = rest.send(reqwest::Method::PATCH, "/apps/web", Some(json!({"enabled": false}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, code, body) = send(&app, signed_get(&web, &signed, timestamp, "kept")).await;
    assert_eq!((status, code.as_str()), (403, "AppDisabled"), "{body}");

    // Refused calls recorded nothing: the same nonce works once the app may call.
    let (status, body) = rest.send(reqwest::Method::PATCH, "/apps/web", Some(json!({"enabled": true}))).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = send(&app, signed_get(&web, &signed, timestamp, "kept")).await;
    assert_eq!(status, 200, "{body}");
}

/// Sends `head` (a request line and headers, without the blank line) as written, byte for
/// byte: an HTTP client library would normalise the very paths these tests are about.
async fn raw(app: &TestApp, head: &str) -> (u16, String, String) {
    raw_with_body(app, format!("{head}\r\n\r\n")).await
}

/// Sends a whole request (head, blank line, body) as given, with `Connection: close` added,
/// and returns the answer's bytes as text, whole.
async fn raw_answer(app: &TestApp, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.gateway.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect to the gateway");
    let request = request.replacen("\r\n", "\r\nConnection: close\r\n", 1);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// [`raw_answer`]'s status, `X-Ca-Error-Code` and body.
async fn raw_with_body(app: &TestApp, request: String) -> (u16, String, String) {
    let text = raw_answer(app, &request).await;
    let status = text.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let code = text.lines().find_map(|l| l.strip_prefix("x-ca-error-code: ")).map(str::to_owned).unwrap_or_default();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, code, body)
}

/// Creates group `name` (its subdomain too) with `apis`, freezes version `1` and releases it
/// to Test on the HTTP backend at `backend`.
async fn live_in_test(app: &TestApp, name: &str, apis: Vec<Value>, backend: &str) -> crate::helpers::RestClient {
    let rest = app.rest().await;
    assert_eq!(rest.post("/groups", json!({"name": name, "subdomain": name})).await.0, 201);
    for api in apis {
        let (status, body) = rest.post(&format!("/groups/{name}/apis"), api).await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(rest.post(&format!("/groups/{name}/versions"), json!({"label": "1"})).await.0, 201);
    let release = json!({"version": "1", "backend": {"type": "http", "address": backend}});
    let (status, body) = rest.put(&format!("/groups/{name}/deployments/test"), release).await;
    assert_eq!(status, 200, "{body}");
    rest
}

/// Group `paths`, live in Test on an echo backend: `/pets/mine` needs an app, `/pets/{id}`
/// does not, `/files/{name}` serves `/public/{name}`, and `/q` maps query `name` into the
/// backend path `/public/{name}`.
async fn paths_group(app: &TestApp) {
    let backend = crate::helpers::spawn_echo_backend().await;
    let apis = vec![
        json!({"name": "Mine", "auth": "app", "request": {"method": "GET", "path": "/pets/mine"}}),
        json!({"name": "Ours", "auth": "app", "request": {"method": "GET", "path": "/pets/our:pet=1"}}),
        json!({"name": "Any pet", "request": {"method": "GET", "path": "/pets/{id}"}}),
        json!({"name": "Files", "request": {"method": "GET", "path": "/files/{name}"},
               "backend": {"http": {"path": "/public/{name}"}}}),
        json!({"name": "Query", "request": {"method": "GET", "path": "/q", "mode": "mapping",
                 "params": [{"name": "name", "in": "query", "required": true}]},
               "backend": {"http": {"path": "/public/{name}",
                 "mapping": [{"param": "name", "name": "name", "in": "path"}]}}}),
    ];
    live_in_test(app, "paths", apis, &backend).await;
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: paths.localhost\r\nX-Ca-Stage: TEST")
}

#[tokio::test]
async fn a_percent_encoded_spelling_routes_like_the_plain_one() {
    let app = spawn_app().await;
    paths_group(&app).await;
    // The literal route needs an app, whichever way its path is spelt.
    let (status, code, body) = raw(&app, &get("/pets/mine")).await;
    assert_eq!((status, code.as_str()), (401, "MissingCredentials"), "{body}");
    let (status, code, body) = raw(&app, &get("/pets/%6Dine")).await;
    assert_eq!((status, code.as_str()), (401, "MissingCredentials"), "{body}");
    let (status, code, body) = raw(&app, &get("/pets/%6d%69%6e%65")).await;
    assert_eq!((status, code.as_str()), (401, "MissingCredentials"), "{body}");
    // Sub-delimiters and `:` / `@` escaped are the same characters unescaped (found by the
    // fuzzer for raw non-ASCII bytes, which are one path with their escapes).
    for spelling in ["/pets/our:pet=1", "/pets/our%3Apet%3d1", "/pets/our%3apet=%31"] {
        let (status, code, body) = raw(&app, &get(spelling)).await;
        assert_eq!((status, code.as_str()), (401, "MissingCredentials"), "{spelling}: {body}");
    }
    let (status, _, body) = raw(&app, &get("/pets/caf\u{e9}")).await;
    assert_eq!(status, 200, "{body}");
    let echoed: Value = serde_json::from_str(&body).expect("echo JSON");
    assert_eq!(echoed["path"], "/pets/caf%C3%A9", "a raw non-ASCII byte reaches the backend escaped");
    // Any other pet is served, its id decoded once.
    let (status, _, body) = raw(&app, &get("/pets/%7Etom")).await;
    assert_eq!(status, 200, "{body}");
    let echoed: Value = serde_json::from_str(&body).expect("echo JSON");
    assert_eq!(echoed["path"], "/pets/~tom");
}

#[tokio::test]
async fn dot_segments_encoded_slashes_and_control_bytes_are_refused() {
    let app = spawn_app().await;
    paths_group(&app).await;
    for path in [
        "/files/%2e%2e",
        "/files/..",
        "/files/%2E",
        "/files/..%2Fadmin",
        "/files/a%5Cb",
        "/files/a%00b",
        "/x/../files/a",
    ] {
        let (status, code, body) = raw(&app, &get(path)).await;
        assert_eq!((status, code.as_str()), (400, "InvalidPath"), "{path}: {body}");
    }
    // A value mapped from the query into the backend path cannot climb out of it either.
    for query in ["name=..", "name=%2e%2e", "name=."] {
        let (status, code, body) = raw(&app, &get(&format!("/q?{query}"))).await;
        assert_eq!((status, code.as_str()), (400, "InvalidPath"), "{query}: {body}");
    }
    // ... while a slash in it stays inside its segment.
    let (status, _, body) = raw(&app, &get("/q?name=a%2Fb")).await;
    assert_eq!(status, 200, "{body}");
    let echoed: Value = serde_json::from_str(&body).expect("echo JSON");
    assert_eq!(echoed["path"], "/public/a%2Fb");
}

#[tokio::test]
async fn a_semicolon_in_a_parameter_reaches_the_backend_encoded() {
    let app = spawn_app().await;
    paths_group(&app).await;
    // Tomcat and Spring read `;…` as path parameters and route `/public/x;a=1` as `/public/x`.
    for path in ["/files/x%3Bjsessionid=1", "/files/x;jsessionid=1"] {
        let (status, _, body) = raw(&app, &get(path)).await;
        assert_eq!(status, 200, "{path}: {body}");
        let echoed: Value = serde_json::from_str(&body).expect("echo JSON");
        assert_eq!(echoed["path"], "/public/x%3Bjsessionid=1", "{path}");
    }
}

/// Group `pay`, live in Test on an echo backend: `POST /pay` declares query `amount`
/// (int, at most 100), header `x-tier` and form field `note`.
async fn pay_group(app: &TestApp) {
    let backend = crate::helpers::spawn_echo_backend().await;
    let api = json!({"name": "Pay", "request": {"method": "POST", "path": "/pay", "params": [
        {"name": "amount", "in": "query", "type": "int", "constraints": {"max": 100.0}},
        {"name": "x-tier", "in": "header"},
        {"name": "note", "in": "form"},
    ]}});
    live_in_test(app, "pay", vec![api], &backend).await;
}

fn post_pay(query: &str, extra: &str, body: &str, content_type: &str) -> String {
    format!(
        "POST /pay?{query} HTTP/1.1\r\nHost: pay.localhost\r\nX-Ca-Stage: TEST\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}{extra}\r\n\r\n{body}",
        body.len()
    )
    .trim_end_matches("\r\n")
    .to_owned()
}

#[tokio::test]
async fn a_declared_parameter_given_twice_is_refused_wherever_it_travels() {
    let app = spawn_app().await;
    pay_group(&app).await;
    let form = "application/x-www-form-urlencoded";
    let (status, _, body) = raw_with_body(&app, post_pay("amount=5", "\r\nX-Tier: gold", "note=hi", form)).await;
    assert_eq!(status, 200, "{body}");
    let cases = [
        ("amount=5&amount=99999", "\r\nX-Tier: gold", "note=hi", "query parameter `amount` is given 2 times"),
        ("amount=5", "\r\nX-Tier: gold\r\nX-Tier: root", "note=hi", "header parameter `x-tier` is given 2 times"),
        ("amount=5", "\r\nX-Tier: gold", "note=hi&note=rm", "form parameter `note` is given 2 times"),
    ];
    for (query, extra, form_body, message) in cases {
        let (status, code, body) = raw_with_body(&app, post_pay(query, extra, form_body, form)).await;
        assert_eq!((status, code.as_str()), (400, "InvalidParameter"), "{query} {extra} {form_body}: {body}");
        assert!(body.contains(message), "{body}");
    }
}

#[tokio::test]
async fn body_parameters_cannot_be_skipped_with_another_content_type() {
    let app = spawn_app().await;
    pay_group(&app).await;
    for content_type in ["text/plain", "application/xml", "multipart/form-data; boundary=x"] {
        let (status, code, body) = raw_with_body(&app, post_pay("amount=5", "", "note=hi", content_type)).await;
        assert_eq!((status, code.as_str()), (415, "UnsupportedMediaType"), "{content_type}: {body}");
    }
}

#[tokio::test]
async fn a_502_says_what_failed_but_not_where_and_the_trace_says_where() {
    let app = spawn_app().await;
    let api = json!({"name": "Down", "request": {"method": "GET", "path": "/down"}});
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let rest = live_in_test(&app, "down", vec![api], "http://127.0.0.1:9").await;

    let response = app.call_gateway(reqwest::Method::GET, "down.localhost", "TEST", "/down").await;
    assert_eq!(response.status(), 502);
    let message = response.headers()["x-ca-error-message"].to_str().expect("ascii").to_owned();
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["message"], "the backend could not be reached (connection failed)");
    for leak in ["127.0.0.1", ":9", "refused", "os error"] {
        assert!(!body.to_string().contains(leak) && !message.contains(leak), "{leak} in {body} / {message}");
    }

    // The Debug API trace has the whole reason.
    let (status, result) = rest.post("/debug", json!({"group": "down", "env": "test", "api": "Down"})).await;
    assert_eq!(status, 200, "{result}");
    let failed = result["trace"]["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .find(|p| p["outcome"] == "failed")
        .map(|p| p["detail"].as_str().unwrap_or_default().to_owned())
        .expect("a failed phase");
    assert!(failed.contains("http://127.0.0.1:9") && failed.contains("connect"), "{failed}");
}

#[tokio::test]
async fn only_verified_credentials_reach_a_backend_or_a_function() {
    let app = spawn_app().await;
    let (rest, web, ids) = signed_petstore(&app).await;
    let code = web["app_code"].as_str().expect("AppCode").to_owned();
    let call = |path: &'static str, extra: Vec<(&'static str, String)>| {
        let mut request = reqwest::Client::new()
            .get(format!("{}{path}", app.gateway))
            .header("host", "petstore.localhost")
            .header("x-ca-stage", "TEST");
        for (name, value) in extra {
            request = request.header(name, value);
        }
        request.send()
    };
    // An AppCode call that also claims another app's key: the claim is dropped.
    let response = call("/pets", vec![("authorization", format!("APPCODE {code}")), ("x-ca-key", "forged".into())])
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.expect("echo JSON");
    assert!(echoed["headers"].get("x-ca-key").is_none(), "{echoed}");
    assert!(echoed["headers"].get("authorization").is_none(), "{echoed}");

    // An anonymous API whose backend reads the app key from a system-parameter header: a
    // caller's own header of that name never passes for the gateway's.
    let anonymous = json!({"name": "Who", "request": {"method": "GET", "path": "/who"},
        "backend": {"http": {"system": [{"param": "app_key", "name": "x-app-key"}]}}});
    assert_eq!(rest.post("/groups/petstore/apis", anonymous).await.0, 201);
    // A Function behind AppCode sees no credentials either.
    let function = json!({"name": "Fn", "auth": "app", "request": {"method": "GET", "path": "/fn"},
        "backend": {"unified": false, "type": "function", "function": {
            "code": "export default function handler(req) { return {status: 200, body: req.headers}; }"}}});
    let (status, created) = rest.post("/groups/petstore/apis", function).await;
    assert_eq!(status, 201, "{created}");
    rest.freeze("petstore", "2").await;
    let backend = crate::helpers::spawn_echo_backend().await;
    let release = json!({"version": "2", "backend": {"type": "http", "address": backend}});
    let (status, body) = rest.put("/groups/petstore/deployments/test", release).await;
    assert_eq!(status, 200, "{body}");
    let mut grant_ids: Vec<Value> = ids.iter().map(|id| json!(id)).collect();
    grant_ids.push(created["id"].clone());
    let grant = json!({"group": "petstore", "apis": grant_ids, "env": "test"});
    assert_eq!(rest.post("/apps/web/authorizations", grant).await.0, 201);

    let response = call("/who", vec![("x-app-key", "admin-app".into())]).await.expect("send");
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.expect("echo JSON");
    assert!(echoed["headers"].get("x-app-key").is_none(), "{echoed}");

    let response = call("/fn", vec![("authorization", format!("APPCODE {code}")), ("x-ca-key", "forged".into())])
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let seen: Value = response.json().await.expect("function JSON");
    assert!(seen.get("authorization").is_none() && seen.get("x-ca-key").is_none(), "{seen}");
}

#[tokio::test]
async fn a_signature_covers_one_request_only() {
    let app = spawn_app().await;
    let (_rest, web, _ids) = signed_petstore(&app).await;
    let signed = ["x-ca-extra", "x-ca-key", "x-ca-nonce", "x-ca-timestamp"];
    let key = web["app_key"].as_str().expect("key");
    let secret = web["app_secret"].as_str().expect("secret");
    let sign = |extra: &str, nonce: &str, params: &[(String, String)]| {
        let mut headers = HeaderMap::new();
        headers.insert(signature::X_CA_KEY, HeaderValue::from_str(key).expect("key"));
        headers.insert(signature::X_CA_TIMESTAMP, HeaderValue::from(now_ms()));
        headers.insert(signature::X_CA_NONCE, HeaderValue::from_str(nonce).expect("nonce"));
        headers.insert("x-ca-extra", HeaderValue::from_str(extra).expect("extra"));
        headers.insert(signature::X_CA_SIGNATURE_HEADERS, HeaderValue::from_str(&signed.join(",")).expect("list"));
        let names: Vec<String> = signed.iter().map(|n| n.to_string()).collect();
        let text = signature::string_to_sign("GET", &headers, &names, "/pets", params);
        let value = signature::sign(secret, SignatureMethod::HmacSha256, &text);
        headers.insert(signature::X_CA_SIGNATURE, HeaderValue::from_str(&value).expect("signature"));
        headers
    };
    let head = |query: &str, headers: &HeaderMap| {
        let mut text = format!("GET /pets{query} HTTP/1.1\r\nHost: petstore.localhost\r\nX-Ca-Stage: TEST");
        for (name, value) in headers {
            text.push_str(&format!("\r\n{name}: {}", value.to_str().expect("ascii")));
        }
        text
    };

    // As signed: accepted.
    let headers = sign("a", "c-1", &[]);
    let (status, _, body) = raw(&app, &head("", &headers)).await;
    assert_eq!(status, 200, "{body}");

    // The signed header given twice: the signature covered the first value only.
    let headers = sign("a", "c-2", &[]);
    let doubled = format!("{}\r\nx-ca-extra: b", head("", &headers));
    let (status, code, body) = raw(&app, &doubled).await;
    assert_eq!((status, code.as_str()), (401, "InvalidSignature"), "{body}");
    assert!(body.contains("`x-ca-extra` is given more than once"), "{body}");

    // One parameter `a` = `1&b=2` signs as the two parameters `a=1`, `b=2` would.
    let two = [("a".to_owned(), "1".to_owned()), ("b".to_owned(), "2".to_owned())];
    let headers = sign("a", "c-3", &two);
    let (status, code, body) = raw(&app, &head("?a=1%26b%3D2", &headers)).await;
    assert_eq!((status, code.as_str()), (401, "InvalidSignature"), "{body}");
    assert!(body.contains("holds `&`"), "{body}");
    let headers = sign("a", "c-4", &two);
    let (status, _, body) = raw(&app, &head("?a=1&b=2", &headers)).await;
    assert_eq!(status, 200, "{body}");
}

/// Reads what the gateway sends until it closes the connection, or `None` if it is still
/// open after `limit`.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, limit: std::time::Duration) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut answer = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

/// What a listener at `address` does with a slow head, an idle keep-alive connection, and
/// one that is idle for less than its idle time (head 1 s, idle 3 s).
async fn head_and_idle_clocks(address: &str, host: &str) {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let request = format!("GET /x HTTP/1.1\r\nHost: {host}\r\n\r\n");
    async fn status(stream: &mut tokio::net::TcpStream) -> String {
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.expect("an answer");
        // Read the rest of this answer (small, sent at once) so the next read starts afresh.
        let mut rest = [0u8; 16 * 1024];
        let _ = tokio::time::timeout(Duration::from_millis(200), stream.read(&mut rest)).await;
        String::from_utf8_lossy(&head).into_owned()
    }

    // A head that never ends (slowloris), on a new connection.
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(format!("GET /x HTTP/1.1\r\nHost: {host}\r\nX-Slow: ").as_bytes()).await.expect("send");
    let closed = read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert!(closed.is_some(), "{address}: the connection with an unfinished head is still open after 4 s");

    // A new connection that sends nothing is on the head clock too.
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    let closed = read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert!(closed.is_some(), "{address}: a silent new connection is still open after 4 s");

    // Idle for longer than the head time but less than the idle time: still served.
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let first = status(&mut stream).await;
    tokio::time::sleep(Duration::from_millis(1800)).await;
    stream.write_all(request.as_bytes()).await.expect("the connection is still open");
    assert_eq!(status(&mut stream).await, first, "{address}: a keep-alive request after 1.8 s idle");

    // The next head's clock starts at its first byte: unfinished, it is cut off.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(b"GET /x HTTP/1.1\r\n").await.expect("send");
    let started = std::time::Instant::now();
    let closed = read_until_closed(&mut stream, Duration::from_secs(4)).await;
    assert!(closed.is_some(), "{address}: an unfinished second head is still open after 4 s");
    assert!(started.elapsed() < Duration::from_millis(2500), "{address}: cut off by the head clock, not the idle one");

    // Idle past the idle time: closed.
    let mut stream = tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    status(&mut stream).await;
    let closed = read_until_closed(&mut stream, Duration::from_secs(6)).await;
    assert!(closed.is_some(), "{address}: the idle keep-alive connection is still open after 6 s");
}

#[tokio::test]
async fn gateway_slow_heads_and_idle_connections_are_closed() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.header_timeout_s = 1;
        s.idle_timeout_s = 3;
    })
    .await;
    head_and_idle_clocks(app.gateway.trim_start_matches("http://"), "nowhere.localhost").await;
}

#[tokio::test]
async fn console_slow_heads_and_idle_connections_are_closed() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.header_timeout_s = 1;
        s.idle_timeout_s = 3;
    })
    .await;
    head_and_idle_clocks(app.console.trim_start_matches("http://"), "localhost").await;
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_a_408() {
    use tokio::io::AsyncWriteExt;
    let app = crate::helpers::spawn_app_with(|s| s.body_timeout_s = 1).await;
    pay_group(&app).await;
    let address = app.gateway.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let head = "POST /pay?amount=5 HTTP/1.1\r\nHost: pay.localhost\r\nX-Ca-Stage: TEST\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nnote=";
    stream.write_all(head.as_bytes()).await.expect("send");
    let answer = read_until_closed(&mut stream, std::time::Duration::from_secs(5)).await;
    let answer = answer.expect("an answer within 5 s, not a stalled request");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("RequestTimeout"), "{answer}");
}

#[tokio::test]
async fn a_caller_who_cannot_be_authorised_gets_no_body_read() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let (_rest, web, _ids) = signed_petstore(&app).await;
    let address = app.gateway.trim_start_matches("http://").to_owned();
    // A signed form POST with a Content-MD5 (the body would be read to check either) from an
    // unknown AppKey, whose body never comes: refused at once, not after waiting for it.
    let key = web["app_key"].as_str().expect("key");
    for (who, expected) in [("nobody", "InvalidAppKey"), (key, "InvalidSignature")] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
        let head = format!(
            "POST /form HTTP/1.1\r\nHost: petstore.localhost\r\nX-Ca-Stage: TEST\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\
             X-Ca-Key: {who}\r\nX-Ca-Signature: x\r\nX-Ca-Timestamp: {}\r\nX-Ca-Nonce: n\r\n\
             X-Ca-Signature-Headers: x-ca-key\r\nConnection: close\r\n\r\n",
            now_ms()
        );
        stream.write_all(head.as_bytes()).await.expect("send");
        let answer = read_until_closed(&mut stream, std::time::Duration::from_secs(3)).await;
        let answer = answer.expect("answered without the body");
        assert!(answer.contains(expected), "{who}: {answer}");
    }
}

#[tokio::test]
async fn buffered_bodies_share_one_budget_and_the_rest_is_served() {
    use tokio::io::AsyncWriteExt;
    let app = crate::helpers::spawn_app_with(|s| s.body_buffer_bytes = 64 * 1024).await;
    pay_group(&app).await;
    let address = app.gateway.trim_start_matches("http://").to_owned();
    // One caller holds 60 KiB of the 64 KiB budget with a body it sends slowly.
    let mut holder = tokio::net::TcpStream::connect(&address).await.expect("connect");
    let head = "POST /pay?amount=5 HTTP/1.1\r\nHost: pay.localhost\r\nX-Ca-Stage: TEST\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 61440\r\n\r\nnote=";
    holder.write_all(head.as_bytes()).await.expect("send");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // Another 10 KiB body does not fit: 503 at once.
    let body = format!("note={}", "x".repeat(10 * 1024));
    let (status, code, answer) =
        raw_with_body(&app, post_pay("amount=5", "", &body, "application/x-www-form-urlencoded")).await;
    assert_eq!((status, code.as_str()), (503, "Overloaded"), "{answer}");
    // A small one fits, and requests without bodies never wait.
    let (status, _, answer) =
        raw_with_body(&app, post_pay("amount=5", "", "note=hi", "application/x-www-form-urlencoded")).await;
    assert_eq!(status, 200, "{answer}");
    drop(holder);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, _, answer) =
        raw_with_body(&app, post_pay("amount=5", "", &body, "application/x-www-form-urlencoded")).await;
    assert_eq!(status, 200, "the budget is back once the first caller left: {answer}");
}

#[tokio::test]
async fn past_the_connection_cap_callers_wait_and_the_console_still_answers() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(|s| s.max_connections = 3).await;
    let address = app.gateway.trim_start_matches("http://").to_owned();
    let request = b"GET /x HTTP/1.1\r\nHost: nowhere.localhost\r\n\r\n";
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut stream = tokio::net::TcpStream::connect(&address).await.expect("connect");
        stream.write_all(request).await.expect("send");
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await.expect("answered");
        held.push(stream);
    }
    // The fourth caller's request waits: the gateway does not take the connection yet.
    let mut waiting = tokio::net::TcpStream::connect(&address).await.expect("the kernel accepts it");
    waiting.write_all(request).await.expect("send");
    let mut head = [0u8; 12];
    let early = tokio::time::timeout(std::time::Duration::from_millis(700), waiting.read_exact(&mut head)).await;
    assert!(early.is_err(), "a fourth connection was served past a cap of three");
    // The console is another listener: it answers meanwhile.
    let console = app.get("/login").await;
    assert_eq!(console.status(), 200);
    // One caller leaves; the waiting one is served.
    drop(held.pop());
    tokio::time::timeout(std::time::Duration::from_secs(5), waiting.read_exact(&mut head))
        .await
        .expect("served once a slot was free")
        .expect("read");
    assert_eq!(&head, b"HTTP/1.1 404");
}

#[tokio::test]
async fn the_ssrf_guard_refuses_blocked_backends_at_release_debug_and_connect() {
    let guard = gateway::guard::AddressGuard::parse("127.0.0.0/8, ::1/128").expect("ranges");
    let app = crate::helpers::spawn_app_with(move |s| s.blocked_backend_ranges = guard.clone()).await;
    let backend = crate::helpers::spawn_echo_backend().await;
    let rest = app.rest().await;
    rest.create_group("guarded").await;
    let ping = json!({"name": "Ping", "request": {"method": "GET", "path": "/ping"}});
    assert_eq!(rest.post("/groups/guarded/apis", ping).await.0, 201);
    rest.freeze("guarded", "1").await;

    // A release to a loopback backend is refused, naming the field and the range.
    let release = json!({"version": "1", "backend": {"type": "http", "address": backend}});
    let (status, body) = rest.put("/groups/guarded/deployments/test", release).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("backend.address")), "{body}");
    assert!(body.to_string().contains("blocked range 127.0.0.0/8"), "{body}");

    // Released on a service with an allowed URL, then the URL is moved to loopback: the
    // gateway itself refuses to connect (and says nothing of where).
    assert_eq!(rest.post("/backend-services", json!({"name": "svc", "type": "http"})).await.0, 201);
    let allowed = json!({"url": "http://192.0.2.1:80"});
    assert_eq!(rest.put("/backend-services/svc/environments/test", allowed).await.0, 200);
    let release = json!({"version": "1", "backend": {"type": "service", "service": "svc"}});
    let (status, body) = rest.put("/groups/guarded/deployments/test", release).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rest.put("/backend-services/svc/environments/test", json!({"url": backend})).await.0, 200);
    let response = app.call_gateway(reqwest::Method::GET, "guarded.localhost", "TEST", "/ping").await;
    assert_eq!(response.status(), 502);
    let text = response.text().await.expect("body");
    assert!(!text.contains("127.0.0.1"), "the refusal does not say where: {text}");

    // The Debug API refuses it with the reason.
    let (status, body) = rest.post("/debug", json!({"group": "guarded", "env": "test", "api": "Ping"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("api")), "{body}");
    assert!(body.to_string().contains("blocked range"), "{body}");
}

// Multi-threaded: the calls really overlap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodiless_calls_to_functions_take_nothing_from_the_body_budget() {
    // Found by the function benchmark: a GET without a body reserved the whole body limit
    // (32 MiB) of the buffer budget, so a ninth call at once was a 503 `Overloaded`.
    let app = spawn_app().await;
    let backend = crate::helpers::spawn_echo_backend().await;
    let function = json!({"name": "Fn", "request": {"method": "GET", "path": "/fn"},
        "backend": {"unified": false, "type": "function",
            "function": {"code": "export default (req) => { const t = Date.now(); while (Date.now() - t < 20) {} return {body: 'ok'}; }"}}});
    live_in_test(&app, "budget", vec![function], &backend).await;
    let address = app.gateway.clone();
    let calls: Vec<_> = (0..48)
        .map(|_| {
            let address = address.clone();
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .get(format!("{address}/fn"))
                    .header("host", "budget.localhost")
                    .header("x-ca-stage", "TEST")
                    .send()
                    .await
                    .expect("send");
                (response.status().as_u16(), response.text().await.unwrap_or_default())
            })
        })
        .collect();
    for call in calls {
        let (status, body) = call.await.expect("task");
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn a_bad_chunk_is_the_callers_400_and_never_ejects_a_healthy_target() {
    // Before: a body that broke while it was sent counted as the backend's failure (502),
    // so a few bad chunks from anyone ejected a healthy target for everyone (503).
    let app = crate::helpers::spawn_app().await;
    let backend = crate::helpers::spawn_echo_backend().await;
    let upload = json!({"name": "Upload", "request": {"method": "POST", "path": "/upload"}});
    live_in_test(&app, "chunks", vec![upload], &backend).await;
    let head =
        "POST /upload HTTP/1.1\r\nHost: chunks.localhost\r\nX-Ca-Stage: TEST\r\nTransfer-Encoding: chunked\r\n\r\n";
    for bad in ["5\r\nhello\r\nzz\r\n\r\n", "5\r\nhello\r\n-1\r\n\r\n", "5\r\nhello\r\nfffffffffffffffffff\r\n\r\n"] {
        for _ in 0..3 {
            let (status, code, _) = raw_with_body(&app, format!("{head}{bad}")).await;
            assert_eq!((status, code.as_str()), (400, "InvalidBody"), "{bad:?}");
        }
    }
    let (status, _, body) = raw_with_body(&app, format!("{head}5\r\nhello\r\n0\r\n\r\n")).await;
    assert_eq!(status, 200, "the target is still in: {body}");
    assert!(body.contains("hello"), "{body}");
}

/// A backend answering every request on every connection with `answer`, byte for byte.
async fn spawn_fixed_backend(answer: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

/// Every field line of a raw answer's head, as (lower-case name, value).
fn head_fields(answer: &str) -> Vec<(String, String)> {
    let head = answer.split_once("\r\n\r\n").map(|(head, _)| head).unwrap_or(answer);
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_backends_hop_by_hop_fields_and_its_own_request_id_never_reach_the_caller() {
    let app = spawn_app().await;
    // The fields a caller must never get from a backend, with the ones it must.
    let plain = spawn_fixed_backend(
        "HTTP/1.1 200 OK\r\nServer: upstream\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\
         Trailer: x-sum\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nX-Kept: yes\r\n\r\nok",
    )
    .await;
    live_in_test(&app, "plain", vec![json!({"name": "Any", "request": {"method": "GET", "path": "/x"}})], &plain).await;
    let spoofing = spawn_fixed_backend(
        "HTTP/1.1 200 OK\r\nX-Ca-Request-Id: spoofed\r\nConnection: x-hop\r\nX-Hop: 1\r\nContent-Length: 2\r\n\r\nok",
    )
    .await;
    live_in_test(&app, "spoofing", vec![json!({"name": "Any", "request": {"method": "GET", "path": "/x"}})], &spoofing)
        .await;
    let request = |host: &str| format!("GET /x HTTP/1.1\r\nHost: {host}\r\nX-Ca-Stage: TEST\r\n\r\n");
    for host in ["plain.localhost", "spoofing.localhost"] {
        let answer = raw_answer(&app, &request(host)).await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{host}: {answer}");
        assert!(answer.ends_with("\r\n\r\nok"), "{host}: {answer}");
        let fields = head_fields(&answer);
        let count = |name: &str| fields.iter().filter(|(n, _)| n == name).count();
        for hop in ["keep-alive", "trailer", "x-hop", "transfer-encoding"] {
            assert_eq!(count(hop), 0, "{host}: {hop} reached the caller: {answer}");
        }
        assert_eq!(count("content-length"), 1, "{host}: {answer}");
        assert_eq!(count("date"), 1, "{host}: {answer}");
        let connection: Vec<&str> = fields.iter().filter(|(n, _)| n == "connection").map(|(_, v)| v.as_str()).collect();
        assert_eq!(connection, ["close"], "{host}: only the gateway's own Connection: {answer}");
        let ids: Vec<&str> = fields.iter().filter(|(n, _)| n == "x-ca-request-id").map(|(_, v)| v.as_str()).collect();
        assert_eq!(ids.len(), 1, "{host}: one request id: {answer}");
        assert_ne!(ids[0], "spoofed", "{host}: the backend's request id reached the caller");
    }
    let answer = raw_answer(&app, &request("plain.localhost")).await;
    let fields = head_fields(&answer);
    for (name, value) in [("server", "upstream"), ("content-type", "text/plain"), ("x-kept", "yes")] {
        assert!(fields.iter().any(|(n, v)| n == name && v == value), "{name} was not passed on: {answer}");
    }
}
