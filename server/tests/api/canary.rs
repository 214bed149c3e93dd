//! Canary releases through the real gateway: the share over 10,000 requests, sticky
//! callers, rules, promote and roll back under keep-alive load without a failed request,
//! the Debug API's forced side, the refusals, and parallel writers.

use crate::helpers::{spawn_app, RestClient, TestApp};
use reqwest::Method;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const HOST: &str = "petstore.localhost";

/// petstore with Hello answering "one" in 1.0.0 (live on Test) and "two" in 1.1.0.
async fn two_versions(app: &TestApp) -> RestClient {
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    let hello = |body: &str| json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}, "backend": {"mock": {"body": body}}});
    let api = rest.create_api("petstore", hello("one")).await;
    rest.freeze("petstore", "1.0.0").await;
    let (status, body) = rest.put(&format!("/groups/petstore/apis/{}", api.id), hello("two")).await;
    assert_eq!(status, 200, "{body}");
    rest.freeze("petstore", "1.1.0").await;
    rest.release("petstore", "test", "1.0.0", json!({"type": "mock"})).await;
    rest
}

/// The body and `X-Ca-Version` of GET /hello on Test.
async fn hello(client: &reqwest::Client, gateway: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
    let mut request = client.get(format!("{gateway}/hello")).header("host", HOST).header("x-ca-stage", "TEST");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("gateway");
    let status = response.status().as_u16();
    let version = response.headers().get("x-ca-version").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    (status, response.text().await.expect("body"), version)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_percent_canary_takes_ten_percent_of_ten_thousand_requests_and_names_itself() {
    let app = spawn_app().await;
    let rest = two_versions(&app).await;
    let (status, canary) = rest
        .put(
            "/groups/petstore/deployments/test/canary",
            json!({"version": "1.1.0", "backend": {"type": "mock"}, "weight": 10.0}),
        )
        .await;
    assert_eq!(status, 200, "{canary}");
    assert_eq!((canary["weight"].clone(), canary["match"].clone()), (json!(10.0), json!(null)));
    let on_canary = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (gateway, on_canary) = (app.gateway.clone(), on_canary.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for _ in 0..1_250 {
                let (status, body, version) = hello(&client, &gateway, &[]).await;
                assert_eq!(status, 200);
                match version.as_str() {
                    "1.1.0" => {
                        assert_eq!(body, "two");
                        on_canary.fetch_add(1, Ordering::Relaxed);
                    }
                    "1.0.0" => assert_eq!(body, "one"),
                    other => panic!("X-Ca-Version `{other}`"),
                }
            }
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    let taken = on_canary.load(Ordering::Relaxed);
    assert!((850..=1150).contains(&taken), "{taken} of 10,000 on a 10 % canary");
    // Deployment Management shows it beside what is live.
    let (_, deployments) = rest.get("/groups/petstore/deployments").await;
    assert_eq!(deployments[0]["canary"]["version"], json!("1.1.0"), "{deployments}");
    // The Debug API chooses a side.
    for (side, body) in [("canary", "two"), ("stable", "one")] {
        let (status, result) =
            rest.post("/debug", json!({"group": "petstore", "env": "test", "api": "Hello", "side": side})).await;
        assert_eq!(status, 200, "{result}");
        assert_eq!(result["response"]["body"], json!(body), "{side}: {result}");
    }
    let (status, refused) =
        rest.post("/debug", json!({"group": "petstore", "env": "test", "api": "Hello", "side": "left"})).await;
    assert_eq!((status, refused["errors"][0]["field"].clone()), (422, json!("side")), "{refused}");
}

#[tokio::test]
async fn sticky_callers_and_rules_pick_their_side() {
    let app = spawn_app().await;
    let rest = two_versions(&app).await;
    let client = reqwest::Client::new();
    let set = |body: serde_json::Value| {
        let rest = &rest;
        async move {
            let (status, answer) = rest.put("/groups/petstore/deployments/test/canary", body).await;
            assert_eq!(status, 200, "{answer}");
        }
    };
    set(json!({"version": "1.1.0", "backend": {"type": "mock"}, "weight": 50.0, "sticky": true})).await;
    let mut sides = std::collections::BTreeSet::new();
    for caller in 0..20 {
        let key = format!("key-{caller}");
        let (_, _, first) = hello(&client, &app.gateway, &[("x-ca-key", &key)]).await;
        for _ in 0..5 {
            assert_eq!(hello(&client, &app.gateway, &[("x-ca-key", &key)]).await.2, first, "{key} moved");
        }
        sides.insert(first);
    }
    assert_eq!(sides.len(), 2, "20 sticky callers on a 50 % canary land on both sides");
    // A header rule: only those callers, all of them.
    set(json!({"version": "1.1.0", "backend": {"type": "mock"}, "match": {"header": {"name": "X-Canary", "value": "yes"}}})).await;
    for _ in 0..10 {
        assert_eq!(hello(&client, &app.gateway, &[("x-canary", "yes")]).await.1, "two");
        assert_eq!(hello(&client, &app.gateway, &[("x-canary", "no")]).await.1, "one");
        assert_eq!(hello(&client, &app.gateway, &[]).await.1, "one");
    }
    // An app rule names an app that exists; an address range takes its callers.
    let (status, answer) = rest
        .put(
            "/groups/petstore/deployments/test/canary",
            json!({"version": "1.1.0", "backend": {"type": "mock"}, "match": {"app": "ghost"}}),
        )
        .await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("match.app")), "{answer}");
    set(json!({"version": "1.1.0", "backend": {"type": "mock"}, "match": {"ip": "127.0.0.0/8"}})).await;
    assert_eq!(hello(&client, &app.gateway, &[]).await.1, "two", "the test client is 127.0.0.1");
    set(json!({"version": "1.1.0", "backend": {"type": "mock"}, "match": {"ip": "10.0.0.0/8"}})).await;
    assert_eq!(hello(&client, &app.gateway, &[]).await.1, "one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_and_roll_back_under_keep_alive_load_fail_no_request() {
    let app = spawn_app().await;
    let rest = two_versions(&app).await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for _ in 0..4 {
        let (gateway, stop) = (app.gateway.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let (mut served, mut failed) = (0usize, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                let (status, body, version) = hello(&client, &gateway, &[]).await;
                let expected = if version == "1.1.0" { "two" } else { "one" };
                if status != 200 || body != expected {
                    failed.push(format!("{status} {version} {body}"));
                }
                served += 1;
            }
            (served, failed)
        }));
    }
    let canary = json!({"version": "1.1.0", "backend": {"type": "mock"}, "weight": 30.0, "note": "try it"});
    assert_eq!(rest.put("/groups/petstore/deployments/test/canary", canary).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (status, promoted) = rest.post("/groups/petstore/deployments/test/canary/promote", json!({})).await;
    assert_eq!(status, 200, "{promoted}");
    assert_eq!((promoted["version"].clone(), promoted["note"].clone()), (json!("1.1.0"), json!("try it")));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let back = json!({"version": "1.0.0", "backend": {"type": "mock"}, "weight": 50.0});
    assert_eq!(rest.put("/groups/petstore/deployments/test/canary", back).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(rest.delete("/groups/petstore/deployments/test/canary").await.0, 204);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for task in load {
        let (served, failed) = task.await.expect("load");
        assert!(failed.is_empty(), "failed requests: {failed:?}");
        total += served;
    }
    assert!(total > 100, "the load ran ({total} requests)");
    let client = reqwest::Client::new();
    assert_eq!(hello(&client, &app.gateway, &[]).await.1, "two", "promoted, and the roll-back kept it");
    // Each step is in the history and the audit log.
    let (_, history) = rest.get("/groups/petstore/deployments/history").await;
    let actions: Vec<&str> = history.as_array().expect("history").iter().filter_map(|e| e["action"].as_str()).collect();
    for step in ["canary.start", "canary.promote", "canary.rollback"] {
        assert!(actions.contains(&step), "{step} in {actions:?}");
    }
    let (_, audit) = rest.get("/audit?action=deployment.canary_promote").await;
    assert_eq!(audit["total"], json!(1), "{audit}");
}

#[tokio::test]
async fn refusals_name_the_field_or_the_state_and_parallel_writers_all_land() {
    let app = spawn_app().await;
    let rest = two_versions(&app).await;
    let put = |env: &'static str, body: serde_json::Value| {
        let rest = &rest;
        async move { rest.put(&format!("/groups/petstore/deployments/{env}/canary"), body).await }
    };
    // Nothing live in Pre-release.
    let (status, answer) = put("pre", json!({"version": "1.1.0", "backend": {"type": "mock"}, "weight": 5.0})).await;
    assert_eq!(status, 409, "{answer}");
    // The live version with the live backend is no canary; shares out of range; no version.
    let (status, answer) = put("test", json!({"version": "1.0.0", "backend": {"type": "mock"}, "weight": 5.0})).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("version")), "{answer}");
    for weight in [json!(0), json!(100), json!(-3), json!("ten")] {
        let (status, answer) =
            put("test", json!({"version": "1.1.0", "backend": {"type": "mock"}, "weight": weight})).await;
        assert_eq!(status, 422, "{weight}: {answer}");
    }
    let (status, answer) = put("test", json!({"version": "9.9.9", "backend": {"type": "mock"}, "weight": 5.0})).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("version")), "{answer}");
    let (status, answer) =
        put("test", json!({"version": "1.1.0", "backend": {"type": "http", "address": "ftp://x"}, "weight": 5.0}))
            .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(rest.post("/groups/petstore/deployments/test/canary/promote", json!({})).await.0, 404);
    assert_eq!(rest.delete("/groups/petstore/deployments/test/canary").await.0, 404);
    // Eight writers at once: each lands (the last wins), no 500, one canary.
    let mut writers = Vec::new();
    for i in 0..8 {
        let client = app.rest().await;
        writers.push(tokio::spawn(async move {
            let body = json!({"version": "1.1.0", "backend": {"type": "mock"}, "weight": 1.0 + f64::from(i)});
            client.put("/groups/petstore/deployments/test/canary", body).await
        }));
    }
    for writer in writers {
        let (status, answer) = writer.await.expect("writer");
        assert_eq!(status, 200, "{answer}");
    }
    let (status, canary) = rest.get("/groups/petstore/deployments/test/canary").await;
    assert_eq!(status, 200, "{canary}");
    // The canary's version cannot be deleted; off-line takes the canary with it.
    let (status, answer) = rest.delete("/groups/petstore/versions/1.1.0").await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer["message"].as_str().expect("message").contains("canary"), "{answer}");
    assert_eq!(rest.delete("/groups/petstore/deployments/test").await.0, 204);
    assert_eq!(rest.get("/groups/petstore/deployments/test/canary").await.0, 404);
    assert_eq!(rest.delete("/groups/petstore/versions/1.1.0").await.0, 204);
    // A viewer may look, not start one.
    let (status, _) =
        rest.post("/users", json!({"username": "val", "password": "long enough password", "role": "viewer"})).await;
    assert_eq!(status, 201);
    let viewer = RestClient::new(&app.console, &app.control.create_token("v", "val").await.expect("token"));
    let (status, _) = viewer.send(Method::PUT, "/groups/petstore/deployments/test/canary", Some(json!({}))).await;
    assert_eq!(status, 403);
}
