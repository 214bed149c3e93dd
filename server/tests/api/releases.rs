//! Versions and deployments through the REST API, served by the real gateway.

use crate::helpers::{spawn_app, spawn_echo_backend};
use reqwest::Method;
use serde_json::json;

const HOST: &str = "petstore.localhost";

async fn petstore(app: &crate::helpers::TestApp) -> crate::helpers::RestClient {
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    rest
}

fn hello(body: &str) -> serde_json::Value {
    json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}, "backend": {"mock": {"body": body}}})
}

/// Freezes the draft as version `1` and releases it to `env` with `backend`.
async fn release_v1(rest: &crate::helpers::RestClient, env: &str, backend: serde_json::Value) {
    rest.freeze("petstore", "1").await;
    rest.release("petstore", env, "1", backend).await;
}

/// Two versions of the Hello API: `1` answers `first`, `2` answers `second`.
async fn two_versions(rest: &crate::helpers::RestClient, first: &str, second: &str) {
    let api = rest.create_api("petstore", hello(first)).await;
    rest.freeze("petstore", "1").await;
    let mut changed = hello(second);
    changed["id"] = json!(api.id);
    let (status, body) = rest.put(&format!("/groups/petstore/apis/{}", api.id), changed).await;
    assert_eq!(status, 200, "{body}");
    rest.freeze("petstore", "2").await;
}

async fn body_of(app: &crate::helpers::TestApp, stage: &str) -> (u16, String) {
    let response = app.call_gateway(Method::GET, HOST, stage, "/hello").await;
    (response.status().as_u16(), response.text().await.expect("body"))
}

#[tokio::test]
async fn release_serves_a_version_and_switch_and_offline_take_effect_at_once() {
    let app = spawn_app().await;
    let rest = petstore(&app).await;
    let (_, api) = rest.post("/groups/petstore/apis", hello("first")).await;
    let id = api["id"].as_i64().expect("id");
    let (status, _) = rest.post("/groups/petstore/versions", json!({"label": "1.0.0"})).await;
    assert_eq!(status, 201);
    let (status, live) = rest
        .put(
            "/groups/petstore/deployments/test",
            json!({"version": "1.0.0", "backend": {"type": "mock"}, "note": "first"}),
        )
        .await;
    assert_eq!(status, 200, "{live}");
    assert_eq!(body_of(&app, "TEST").await, (200, "first".to_owned()));
    assert_eq!(body_of(&app, "RELEASE").await.0, 404, "nothing is live in Production");

    // Editing the draft changes nothing live; a new version does.
    let mut edited = hello("second");
    edited["id"] = json!(id);
    rest.put(&format!("/groups/petstore/apis/{id}"), edited).await;
    assert_eq!(body_of(&app, "TEST").await.1, "first");
    rest.freeze("petstore", "1.1.0").await;
    rest.put("/groups/petstore/deployments/test", json!({"version": "1.1.0", "backend": {"type": "mock"}})).await;
    assert_eq!(body_of(&app, "TEST").await.1, "second");

    // Switch back, then off-line.
    rest.put("/groups/petstore/deployments/test", json!({"version": "1.0.0", "backend": {"type": "mock"}})).await;
    assert_eq!(body_of(&app, "TEST").await.1, "first");
    let (status, _) = rest.delete("/groups/petstore/deployments/test").await;
    assert_eq!(status, 204);
    assert_eq!(body_of(&app, "TEST").await.0, 404);

    let (_, history) = rest.get("/groups/petstore/deployments/history").await;
    let actions: Vec<&str> = history.as_array().expect("history").iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["offline", "switch", "switch", "release"]);
    let (_, versions) = rest.get("/groups/petstore/versions").await;
    assert_eq!(versions[0]["changes"]["changed"][0]["fields"][0]["field"], "backend.mock.body");
    let (_, health) = rest.get("/health").await;
    assert_eq!(health["config_revision"], health["gateway_revision"]);
    // Creating the group (its host starts answering), the release, two switches, off-line.
    assert_eq!(health["config_revision"], 5);
}

#[tokio::test]
async fn a_bad_release_is_422_and_changes_nothing() {
    let app = spawn_app().await;
    let rest = petstore(&app).await;
    rest.create_api("petstore", hello("x")).await;
    rest.freeze("petstore", "1.0.0").await;
    let (status, body) = rest
        .put(
            "/groups/petstore/deployments/test",
            json!({"version": "1.0.0", "backend": {"type": "http", "address": "nope"}}),
        )
        .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("backend.address")));
    let (status, body) =
        rest.put("/groups/petstore/deployments/test", json!({"version": "7", "backend": {"type": "mock"}})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("version")));
    let (status, _) = rest
        .put("/groups/petstore/deployments/staging", json!({"version": "1.0.0", "backend": {"type": "mock"}}))
        .await;
    assert_eq!(status, 404);
    let (_, live) = rest.get("/groups/petstore/deployments").await;
    assert_eq!(live, json!([]));
}

#[tokio::test]
async fn the_draft_is_released_in_one_step_and_a_refused_one_leaves_no_version() {
    let app = spawn_app().await;
    let rest = petstore(&app).await;
    rest.create_api("petstore", hello("drafted")).await;
    let release = |label: &str, backend: serde_json::Value| json!({"version": {"label": label, "description": "from the draft"}, "backend": backend, "note": "one step"});

    // Refused: the release backend is not an address. No version is left behind.
    let (status, body) = rest
        .post("/groups/petstore/deployments/test/draft", release("1.0.0", json!({"type": "http", "address": "nope"})))
        .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("backend.address")), "{body}");
    assert_eq!(rest.get("/groups/petstore/versions").await.1, json!([]));
    // A body that is not a draft release names the field.
    let (status, body) = rest.post("/groups/petstore/deployments/test/draft", json!({"version": "1.0.0"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) =
        rest.post("/groups/petstore/deployments/staging/draft", release("1.0.0", json!({"type": "mock"}))).await;
    assert_eq!(status, 404);

    let (status, body) =
        rest.post("/groups/petstore/deployments/test/draft", release("1.0.0", json!({"type": "mock"}))).await;
    assert_eq!(
        (status, body["version"].as_str(), body["note"].as_str()),
        (200, Some("1.0.0"), Some("one step")),
        "{body}"
    );
    assert_eq!(body_of(&app, "TEST").await, (200, "drafted".to_owned()));
    let (_, versions) = rest.get("/groups/petstore/versions").await;
    assert_eq!(versions[0]["description"], "from the draft");

    // What is live, with its APIs, per environment.
    let (status, live) = rest.get("/groups/petstore/live").await;
    assert_eq!(status, 200);
    assert_eq!(live.as_array().map(Vec::len), Some(1), "{live}");
    assert_eq!((live[0]["environment"].as_str(), live[0]["version"].as_str()), (Some("test"), Some("1.0.0")));
    assert_eq!(live[0]["apis"][0]["spec"]["name"], "Hello");
    assert_eq!(rest.get("/groups/nobody/live").await.0, 404);
}

#[tokio::test]
async fn one_api_is_released_beside_what_is_live_and_the_rest_of_the_draft_stays_unreleased() {
    let app = spawn_app().await;
    let rest = petstore(&app).await;
    let hello_api = rest.create_api("petstore", hello("first")).await;
    let other = json!({"name": "Other", "request": {"method": "GET", "path": "/other"}, "backend": {"mock": {"body": "other one"}}});
    let other_api = rest.create_api("petstore", other.clone()).await;
    release_v1(&rest, "test", json!({"type": "mock"})).await;

    // Both APIs change in the draft; only Hello is released.
    let mut changed = hello("second");
    changed["id"] = json!(hello_api.id);
    assert_eq!(rest.put(&format!("/groups/petstore/apis/{}", hello_api.id), changed).await.0, 200);
    let mut other_changed = other.clone();
    other_changed["backend"]["mock"]["body"] = json!("other two");
    assert_eq!(rest.put(&format!("/groups/petstore/apis/{}", other_api.id), other_changed).await.0, 200);
    let path = format!("/groups/petstore/apis/{}/release/test", hello_api.id);
    let (status, body) = rest.post(&path, json!({"note": "just Hello"})).await;
    let label = format!("1-api{}", hello_api.id);
    assert_eq!(
        (status, body["version"].as_str(), body["note"].as_str()),
        (200, Some(label.as_str()), Some("just Hello")),
        "{body}"
    );
    assert_eq!(body_of(&app, "TEST").await, (200, "second".to_owned()));
    let other_now = app.call_gateway(Method::GET, HOST, "TEST", "/other").await.text().await.expect("body");
    assert_eq!(other_now, "other one", "the other API's draft is not released");
    let (_, version) = rest.get(&format!("/groups/petstore/versions/{label}")).await;
    assert_eq!(version["base"], "1");
    assert_eq!(version["changes"]["changed"].as_array().map(Vec::len), Some(1), "{version}");
    assert!(version["description"].as_str().is_some_and(|d| d.contains("Hello")), "{version}");

    // Again: the next free label. A label given is used.
    assert_eq!(rest.post(&path, json!({})).await.1["version"], format!("{label}-2"));
    assert_eq!(rest.post(&path, json!({"label": "hotfix.1"})).await.1["version"], "hotfix.1");

    // Refusals name the field and leave no version: nothing live in Pre-release and no
    // backend given; a taken label; a hostile label; an unknown API or environment.
    let versions = rest.get("/groups/petstore/versions").await.1.as_array().map(Vec::len);
    let pre = format!("/groups/petstore/apis/{}/release/pre", hello_api.id);
    let (status, body) = rest.post(&pre, json!({})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("backend")), "{body}");
    let (status, body) = rest.post(&path, json!({"label": "hotfix.1"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("label")), "{body}");
    let (status, body) = rest.post(&path, json!({"label": "../../etc"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("label")), "{body}");
    let (status, body) = rest.post(&path, json!({"backend": {"type": "http", "address": "nope"}})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("backend.address")), "{body}");
    assert_eq!(rest.post("/groups/petstore/apis/99999/release/test", json!({})).await.0, 404);
    assert_eq!(rest.post(&format!("/groups/petstore/apis/{}/release/qa", hello_api.id), json!({})).await.0, 404);
    assert_eq!(rest.get("/groups/petstore/versions").await.1.as_array().map(Vec::len), versions, "nothing left behind");

    // Into an empty environment with a backend: a version of this API alone.
    let (status, body) = rest.post(&pre, json!({"backend": {"type": "mock"}})).await;
    assert_eq!((status, body["version"].as_str()), (200, Some(format!("api{}", hello_api.id).as_str())), "{body}");
    assert_eq!(body_of(&app, "PRE").await, (200, "second".to_owned()));
    assert_eq!(app.call_gateway(Method::GET, HOST, "PRE", "/other").await.status().as_u16(), 404);

    // In the draft, Other moves away and Hello takes its path: fine as a draft, but Hello
    // alone would clash with the live Other, so it is refused, naming both.
    let mut moved = other.clone();
    moved["request"]["path"] = json!("/elsewhere");
    assert_eq!(rest.put(&format!("/groups/petstore/apis/{}", other_api.id), moved).await.0, 200);
    let mut clash = hello("clash");
    clash["id"] = json!(hello_api.id);
    clash["request"]["path"] = json!("/other");
    assert_eq!(
        rest.put(&format!("/groups/petstore/apis/{}", hello_api.id), clash).await.0,
        200,
        "the draft alone is fine"
    );
    let (status, body) = rest.post(&path, json!({})).await;
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("api")), "{body}");
    assert!(message.contains("Other"), "{message}");
}

#[tokio::test]
async fn http_backends_get_the_mapped_request() {
    let app = spawn_app().await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    let api = json!({
        "name": "Get pet",
        "request": {"method": "GET", "path": "/pets/{petId}", "mode": "mapping", "params": [
            {"name": "petId", "in": "path", "type": "int"},
            {"name": "verbose", "in": "query", "type": "boolean"}
        ]},
        "backend": {"http": {
            "path": "/v2/pet/{id}",
            "mapping": [{"param": "petId", "name": "id", "in": "path"}],
            "constants": [{"name": "host", "in": "header", "value": "pets.internal"}],
            "system": [{"param": "client_ip", "name": "x-client-ip"}]
        }}
    });
    let (status, body) = rest.post("/groups/petstore/apis", api).await;
    assert_eq!(status, 201, "{body}");
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;

    let response = app.call_gateway(Method::GET, HOST, "RELEASE", "/pets/42?verbose=true&junk=1").await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-ca-request-id"));
    let echo: serde_json::Value = response.json().await.expect("json");
    assert_eq!(echo["path"], "/v2/pet/42");
    assert_eq!(echo["query"], "verbose=true", "mapping mode drops undeclared query parameters");
    assert_eq!(echo["headers"]["host"], "pets.internal");
    assert_eq!(echo["headers"]["x-client-ip"], "127.0.0.1");
    assert_eq!(echo["headers"]["x-forwarded-for"], "127.0.0.1");

    let invalid = app.call_gateway(Method::GET, HOST, "RELEASE", "/pets/abc").await;
    assert_eq!(invalid.status(), 400);
    assert_eq!(invalid.headers()["x-ca-error-code"], "InvalidParameter");
    let wrong_method = app.call_gateway(Method::DELETE, HOST, "RELEASE", "/pets/1").await;
    assert_eq!(wrong_method.status(), 405);
}

#[tokio::test]
async fn slow_and_unreachable_backends_are_504_and_502() {
    let app = spawn_app().await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    let slow = json!({"name": "Slow", "request": {"method": "GET", "path": "/slow"}, "backend": {"http": {"timeout_ms": 200}}});
    rest.create_api("petstore", slow).await;
    let down = json!({"name": "Down", "request": {"method": "GET", "path": "/down"},
        "backend": {"unified": false, "type": "http", "http": {"address": "http://127.0.0.1:9"}}});
    let (status, body) = rest.post("/groups/petstore/apis", down).await;
    assert_eq!(status, 201, "{body}");
    release_v1(&rest, "test", json!({"type": "http", "address": backend})).await;

    let timed_out = app.call_gateway(Method::GET, HOST, "TEST", "/slow").await;
    assert_eq!(timed_out.status(), 504);
    assert_eq!(timed_out.headers()["x-ca-error-code"], "GatewayTimeout");
    let unreachable = app.call_gateway(Method::GET, HOST, "TEST", "/down").await;
    assert_eq!(unreachable.status(), 502);
    assert_eq!(unreachable.headers()["x-ca-error-code"], "BadGateway");
}

#[tokio::test]
async fn a_new_subdomain_moves_live_apis_at_once() {
    let app = spawn_app().await;
    let rest = petstore(&app).await;
    rest.create_api("petstore", hello("moved")).await;
    release_v1(&rest, "prod", json!({"type": "mock"})).await;
    rest.put("/groups/petstore", json!({"name": "petstore", "subdomain": "pets"})).await;
    let old = app.call_gateway(Method::GET, HOST, "RELEASE", "/hello").await;
    assert_eq!(old.status(), 404);
    let new = app.call_gateway(Method::GET, "pets.localhost", "RELEASE", "/hello").await;
    assert_eq!(new.text().await.expect("body"), "moved");
}

#[tokio::test]
async fn what_is_live_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = crate::helpers::spawn_app_on(dir.path(), crate::helpers::ADMIN_PASSWORD).await;
    let rest = petstore(&first).await;
    rest.create_api("petstore", hello("persisted")).await;
    release_v1(&rest, "pre", json!({"type": "mock"})).await;
    first.stop().await;
    let second = crate::helpers::spawn_app_on(dir.path(), crate::helpers::ADMIN_PASSWORD).await;
    let response = second.call_gateway(Method::GET, HOST, "PRE", "/hello").await;
    assert_eq!(response.text().await.expect("body"), "persisted");
}

#[tokio::test]
async fn a_mebibyte_streams_both_ways_and_the_backend_method_can_differ() {
    let app = spawn_app().await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    let upload = json!({"name": "Upload", "request": {"method": "POST", "path": "/upload"},
        "backend": {"http": {"path": "/mirror", "method": "PUT"}}});
    rest.create_api("petstore", upload).await;
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;

    let body: Vec<u8> = (0..1024 * 1024).map(|i| (i % 251) as u8).collect();
    let response = reqwest::Client::new()
        .post(format!("{}/upload", app.gateway))
        .header("host", HOST)
        .body(body.clone())
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-backend-method"], "PUT");
    let echoed = response.bytes().await.expect("body");
    assert_eq!(echoed.len(), body.len());
    assert!(echoed == body, "the body comes back unchanged");
}

#[tokio::test]
async fn switching_under_keep_alive_load_drops_nothing() {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    let app = spawn_app().await;
    let rest = petstore(&app).await;
    two_versions(&rest, "one", "two").await;
    rest.put("/groups/petstore/deployments/prod", json!({"version": "1", "backend": {"type": "mock"}})).await;

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed, saw_two) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let mut clients = Vec::new();
    for _ in 0..4 {
        let (stop, ok, failed, saw_two) = (stop.clone(), ok.clone(), failed.clone(), saw_two.clone());
        let url = format!("{}/hello", app.gateway);
        clients.push(tokio::spawn(async move {
            // One keep-alive connection per client, reused for every request.
            let client = reqwest::Client::builder().pool_max_idle_per_host(1).build().expect("client");
            while !stop.load(Ordering::Relaxed) {
                match client.get(&url).header("host", HOST).send().await {
                    Ok(response) if response.status() == 200 => match response.text().await.as_deref() {
                        Ok("one") => {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok("two") => {
                            saw_two.store(true, Ordering::Relaxed);
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    },
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    for i in 0..100 {
        let version = if i % 2 == 0 { "2" } else { "1" };
        let (status, _) = rest
            .put("/groups/petstore/deployments/prod", json!({"version": version, "backend": {"type": "mock"}}))
            .await;
        assert_eq!(status, 200);
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.expect("client task");
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0, "no request may fail during switches");
    assert!(ok.load(Ordering::Relaxed) >= 100, "the clients kept calling: {}", ok.load(Ordering::Relaxed));
    assert!(saw_two.load(Ordering::Relaxed), "switches were visible to callers");
}

#[tokio::test]
async fn metrics_count_requests_and_need_a_token() {
    let app = spawn_app().await;
    let rest = petstore(&app).await;
    rest.create_api("petstore", hello("counted")).await;
    release_v1(&rest, "test", json!({"type": "mock"})).await;
    for _ in 0..3 {
        assert_eq!(body_of(&app, "TEST").await.0, 200);
    }
    let anonymous = reqwest::get(format!("{}/metrics", app.console)).await.expect("metrics");
    assert_eq!(anonymous.status(), 401);
    let token = app.control.create_token("prometheus", "admin").await.expect("token");
    let text = reqwest::Client::new()
        .get(format!("{}/metrics", app.console))
        .bearer_auth(token)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(
            r#"gantry_requests_total{group="petstore",environment="test",version="1",api="Hello",status="200"} 3"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"gantry_request_duration_seconds_count{group="petstore",environment="test",version="1"} 3"#),
        "the version label lets Prometheus compare versions: {text}"
    );
}

#[tokio::test]
async fn https_backends_are_trusted_through_the_ca_setting() {
    let (address, ca_pem) = crate::helpers::spawn_https_backend().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca_pem).expect("write CA");
    let app = crate::helpers::spawn_app_with(|s| s.upstream_ca_file = Some(ca_file.clone())).await;
    let rest = petstore(&app).await;
    let api = json!({"name": "Secure", "request": {"method": "GET", "path": "/secure"}});
    rest.create_api("petstore", api).await;
    release_v1(&rest, "test", json!({"type": "http", "address": address})).await;
    let response = app.call_gateway(Method::GET, HOST, "TEST", "/secure").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.expect("body"), "secure hello");

    // Without the CA the same backend is untrusted: 502.
    let untrusting = spawn_app().await;
    let rest = petstore(&untrusting).await;
    rest.post("/groups/petstore/apis", json!({"name": "Secure", "request": {"method": "GET", "path": "/secure"}}))
        .await;
    release_v1(&rest, "test", json!({"type": "http", "address": address})).await;
    let response = untrusting.call_gateway(Method::GET, HOST, "TEST", "/secure").await;
    assert_eq!(response.status(), 502);
}

#[tokio::test]
async fn oversized_bodies_and_headers_are_413_and_431() {
    let app = crate::helpers::spawn_app_with(|s| s.max_body_bytes = 1024).await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    let upload = json!({"name": "Upload", "request": {"method": "POST", "path": "/upload"}, "backend": {"http": {"path": "/mirror"}}});
    rest.create_api("petstore", upload).await;
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;
    let client = reqwest::Client::new();
    let small = client.post(format!("{}/upload", app.gateway)).header("host", HOST).body(vec![1u8; 1000]).send().await;
    assert_eq!(small.expect("small").status(), 200);
    let large = client.post(format!("{}/upload", app.gateway)).header("host", HOST).body(vec![1u8; 2000]).send().await;
    let large = large.expect("large");
    assert_eq!(large.status(), 413);
    assert_eq!(large.headers()["x-ca-error-code"], "PayloadTooLarge");
    let huge_header = "x".repeat(100 * 1024);
    let response =
        client.get(format!("{}/upload", app.gateway)).header("host", HOST).header("x-big", huge_header).send().await;
    assert_eq!(response.expect("response").status(), 431);
}

#[tokio::test]
async fn upstream_connections_are_reused() {
    let app = spawn_app().await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    rest.create_api("petstore", json!({"name": "Echo", "request": {"method": "GET", "path": "/echo"}})).await;
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;
    let mut peers = std::collections::HashSet::new();
    for _ in 0..20 {
        let echo: serde_json::Value =
            app.call_gateway(Method::GET, HOST, "RELEASE", "/echo").await.json().await.expect("json");
        peers.insert(echo["peer"].as_str().expect("peer").to_owned());
    }
    assert_eq!(peers.len(), 1, "20 sequential requests should share one pooled connection: {peers:?}");
}

/// A backend that answers one request per connection, saying `keep-alive`, and closes that
/// connection when told to (a message on the returned sender), answering on the oneshot once
/// the socket is closed: the pooled connection dies while idle. Counts the connections it
/// accepted.
async fn spawn_one_shot_backend(
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>, tokio::sync::mpsc::Sender<tokio::sync::oneshot::Sender<()>>)
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    let (close, mut closing) = tokio::sync::mpsc::channel::<tokio::sync::oneshot::Sender<()>>(1);
    tokio::spawn(async move {
        // One connection at a time: the test closes each before it sends the next request.
        while let Ok((mut stream, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let answer = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok";
            let _ = stream.write_all(answer.as_bytes()).await;
            let Some(closed) = closing.recv().await else { return };
            drop(stream);
            let _ = closed.send(());
        }
    });
    (address, accepted, close)
}

#[tokio::test]
async fn a_pooled_connection_the_backend_closed_is_not_a_failed_request() {
    let app = spawn_app().await;
    let (backend, accepted, close) = spawn_one_shot_backend().await;
    let rest = petstore(&app).await;
    rest.create_api("petstore", json!({"name": "Echo", "request": {"method": "GET", "path": "/echo"}})).await;
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;
    for i in 0..5 {
        let response = app.call_gateway(Method::GET, HOST, "RELEASE", "/echo").await;
        assert_eq!(response.status(), 200, "request {i}");
        assert_eq!(response.text().await.expect("body"), "ok");
        // The backend closes the idle pooled connection, and says when it has.
        let (closed, was_closed) = tokio::sync::oneshot::channel();
        close.send(closed).await.expect("backend running");
        was_closed.await.expect("closed");
        // The gateway sees the close on its own time (no request of ours races it here;
        // the pool's handling of a connection that closed is unit-tested without timing in
        // gateway::upstream).
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 5, "one connection per request");
}

#[tokio::test]
async fn a_response_body_the_caller_abandons_does_not_poison_the_pool() {
    let app = spawn_app().await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    rest.create_api("petstore", json!({"name": "Echo", "request": {"method": "GET", "path": "/echo"}})).await;
    rest.post("/groups/petstore/apis", json!({"name": "Slow", "request": {"method": "GET", "path": "/slow"}})).await;
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;
    // The caller gives up while the backend is still working on the response.
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_millis(200)).build().expect("client");
    let abandoned = client.get(format!("{}/slow", app.gateway)).header("host", HOST).send().await;
    let abandoned = abandoned.expect_err("the slow call should time out on the caller's side");
    assert!(abandoned.is_timeout(), "{abandoned}");
    for _ in 0..5 {
        let response = app.call_gateway(Method::GET, HOST, "RELEASE", "/echo").await;
        assert_eq!(response.status(), 200);
        let echo: serde_json::Value = response.json().await.expect("json");
        assert_eq!(echo["path"], "/echo");
    }
}

#[tokio::test]
async fn custom_domains_serve_the_group_and_may_pin_an_environment() {
    let app = spawn_app().await;
    let rest = petstore(&app).await;
    two_versions(&rest, "test body", "prod body").await;
    rest.put("/groups/petstore/deployments/test", json!({"version": "1", "backend": {"type": "mock"}})).await;
    rest.put("/groups/petstore/deployments/prod", json!({"version": "2", "backend": {"type": "mock"}})).await;

    let (status, body) = rest.post("/groups/petstore/domains", json!({"host": "Pets.Example.com"})).await;
    assert_eq!((status, body["host"].as_str()), (201, Some("pets.example.com")));
    let (status, _) =
        rest.post("/groups/petstore/domains", json!({"host": "test-pets.example.com", "environment": "test"})).await;
    assert_eq!(status, 201);
    let (status, body) = rest.post("/groups/petstore/domains", json!({"host": "pets.example.com"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("host")));
    let (status, _) = rest.post("/groups/petstore/domains", json!({"host": "x.petstore.localhost"})).await;
    assert_eq!(status, 422, "hosts under the base domain belong to subdomains");

    let text = |r: reqwest::Response| async move { r.text().await.expect("body") };
    assert_eq!(text(app.call_gateway(Method::GET, "pets.example.com", "RELEASE", "/hello").await).await, "prod body");
    assert_eq!(text(app.call_gateway(Method::GET, "pets.example.com", "TEST", "/hello").await).await, "test body");
    assert_eq!(
        text(app.call_gateway(Method::GET, "test-pets.example.com:8080", "RELEASE", "/hello").await).await,
        "test body"
    );

    let (status, _) = rest.delete("/groups/petstore/domains/pets.example.com").await;
    assert_eq!(status, 204);
    assert_eq!(app.call_gateway(Method::GET, "pets.example.com", "RELEASE", "/hello").await.status(), 404);
    let (_, list) = rest.get("/groups/petstore/domains").await;
    assert_eq!(list, json!([{"host": "test-pets.example.com", "environment": "test"}]));
}

#[tokio::test]
async fn json_and_form_fields_are_validated_and_mapped() {
    let app = spawn_app().await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    let order = json!({"name": "Order", "request": {"method": "POST", "path": "/orders", "mode": "mapping", "params": [
        {"name": "petId", "in": "body", "type": "int", "required": true},
        {"name": "note", "in": "body"},
        {"name": "source", "in": "query"}
    ]}, "backend": {"http": {"mapping": [
        {"param": "petId", "name": "pet_id", "in": "query"},
        {"param": "source", "name": "origin", "in": "body"}
    ]}}});
    let (status, body) = rest.post("/groups/petstore/apis", order).await;
    assert_eq!(status, 201, "{body}");
    let form = json!({"name": "Form", "request": {"method": "POST", "path": "/form", "params": [
        {"name": "qty", "in": "form", "type": "int", "required": true}
    ]}, "backend": {"http": {"mapping": [{"param": "qty", "name": "x-qty", "in": "header"}]}}});
    let (status, body) = rest.post("/groups/petstore/apis", form).await;
    assert_eq!(status, 201, "{body}");
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;

    let client = reqwest::Client::new();
    let post_json = |body: serde_json::Value| {
        client.post(format!("{}/orders?source=web", app.gateway)).header("host", HOST).json(&body).send()
    };
    let echo: serde_json::Value =
        post_json(json!({"petId": 7, "note": "hi", "extra": 1})).await.expect("order").json().await.expect("json");
    assert_eq!(echo["query"], "pet_id=7");
    let sent: serde_json::Value = serde_json::from_str(echo["body"].as_str().expect("body")).expect("json body");
    assert_eq!(sent, json!({"note": "hi", "origin": "web"}));
    assert_eq!(echo["headers"]["content-type"], "application/json");

    let bad = post_json(json!({"petId": "seven"})).await.expect("bad");
    assert_eq!(bad.status(), 400);
    assert!(bad.headers()["x-ca-error-message"].to_str().expect("ascii").contains("petId"));
    assert_eq!(post_json(json!({"note": "no pet"})).await.expect("missing").status(), 400);

    let echo: serde_json::Value = client
        .post(format!("{}/form", app.gateway))
        .header("host", HOST)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("qty=3&color=red")
        .send()
        .await
        .expect("form")
        .json()
        .await
        .expect("json");
    assert_eq!(echo["headers"]["x-qty"], "3");
    assert_eq!(echo["body"], "color=red", "pass-through keeps undeclared fields, minus the mapped one");
}

#[tokio::test]
async fn bodies_stream_through_without_being_read_whole() {
    use http_body_util::BodyExt;
    let app = spawn_app().await;
    let backend = spawn_echo_backend().await;
    let rest = petstore(&app).await;
    let upload = json!({"name": "Upload", "request": {"method": "POST", "path": "/upload"}, "backend": {"http": {"path": "/mirror"}}});
    rest.create_api("petstore", upload).await;
    release_v1(&rest, "prod", json!({"type": "http", "address": backend})).await;

    // A request body that is still open: the first chunk must come back through the gateway
    // and the backend before the second is even sent. A gateway that read bodies whole would
    // wait forever here.
    let gateway = app.gateway.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&gateway).await.expect("connect");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(connection);
    let (mut body_tx, body) = http_body_util::channel::Channel::<bytes::Bytes, std::convert::Infallible>::new(1);
    let request = hyper::Request::post("/upload").header("host", HOST).body(body).expect("request");
    let responding = tokio::spawn(async move { sender.send_request(request).await });
    body_tx.send_data(bytes::Bytes::from_static(b"first chunk")).await.expect("first chunk");
    let within = std::time::Duration::from_secs(5);
    let response = tokio::time::timeout(within, responding)
        .await
        .expect("response head while the body is open")
        .expect("task")
        .expect("response");
    assert_eq!(response.status(), 200);
    let mut incoming = response.into_body();
    let first =
        tokio::time::timeout(within, incoming.frame()).await.expect("first chunk back").expect("frame").expect("ok");
    assert_eq!(first.into_data().expect("data"), "first chunk");
    body_tx.send_data(bytes::Bytes::from_static(b"second chunk")).await.expect("second chunk");
    let second =
        tokio::time::timeout(within, incoming.frame()).await.expect("second chunk back").expect("frame").expect("ok");
    assert_eq!(second.into_data().expect("data"), "second chunk");
    drop(body_tx);
}

/// A 404 says whether the host is unknown or the group has nothing live where asked.
#[tokio::test]
async fn a_group_with_nothing_live_says_so_and_an_unknown_host_does_too() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let (status, body) = rest.post("/groups", json!({"name": "walk", "subdomain": "walk"})).await;
    assert_eq!(status, 201, "{body}");
    let message = |response: reqwest::Response| async move {
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.expect("a JSON error");
        (status, body["message"].as_str().unwrap_or_default().to_owned())
    };
    // Nothing released yet, anywhere.
    let answer = message(app.call_gateway(Method::GET, "walk.localhost", "TEST", "/hello").await).await;
    assert_eq!(answer, (404, "nothing of group walk is live in TEST".to_owned()));

    // Live in Test only: Production still says so.
    rest.create_api("walk", hello("hi")).await;
    rest.freeze("walk", "1").await;
    let (status, body) =
        rest.put("/groups/walk/deployments/test", json!({"version": "1", "backend": {"type": "mock"}})).await;
    assert_eq!(status, 200, "{body}");
    let answer = message(app.call_gateway(Method::GET, "walk.localhost", "RELEASE", "/hello").await).await;
    assert_eq!(answer, (404, "nothing of group walk is live in RELEASE".to_owned()));

    // Off-line again: the group still answers, with nothing live.
    let (status, body) = rest.delete("/groups/walk/deployments/test").await;
    assert!(status == 200 || status == 204, "{status} {body}");
    let answer = message(app.call_gateway(Method::GET, "walk.localhost", "TEST", "/hello").await).await;
    assert_eq!(answer, (404, "nothing of group walk is live in TEST".to_owned()));

    let answer = message(app.call_gateway(Method::GET, "nowhere.localhost", "TEST", "/hello").await).await;
    assert_eq!(answer, (404, "no API group answers on host `nowhere.localhost`".to_owned()));

    // A deleted group's host stops answering.
    let (status, body) = rest.delete("/groups/walk").await;
    assert!(status == 200 || status == 204, "{status} {body}");
    let answer = message(app.call_gateway(Method::GET, "walk.localhost", "TEST", "/hello").await).await;
    assert_eq!(answer, (404, "no API group answers on host `walk.localhost`".to_owned()));
}
