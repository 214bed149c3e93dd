//! Function backends through the real gateway: user JavaScript answers requests, failures are
//! clean `FunctionError`s, and Switch Version switches code.

use crate::helpers::{spawn_app, RestClient};
use reqwest::Method;
use serde_json::{json, Value};

const HOST: &str = "fnstore.localhost";

fn function_api(name: &str, path: &str, code: &str) -> Value {
    json!({
        "name": name, "request": {"method": "ANY", "path": path, "params": [{"name": "q", "in": "query"}]},
        "backend": {"unified": false, "type": "function", "function": {"code": code, "timeout_ms": 200}},
    })
}

async fn setup(rest: &RestClient) -> i64 {
    rest.create_group("fnstore").await;
    let echo = "export default async function handler(req) {\n  return {status: 200, headers: {'x-fn': 'yes'}, body: {method: req.method, params: req.params, json: req.json}};\n}";
    let (status, api) = rest.post("/groups/fnstore/apis", function_api("Echo", "/echo/{id}", echo)).await;
    assert_eq!(status, 201, "{api}");
    let thrower = "export default function handler() { throw new Error('boom at ' + 42); }";
    assert_eq!(rest.post("/groups/fnstore/apis", function_api("Throw", "/throw", thrower)).await.0, 201);
    let looper = "export default function handler() { for (;;) {} }";
    assert_eq!(rest.post("/groups/fnstore/apis", function_api("Loop", "/loop", looper)).await.0, 201);
    api["id"].as_i64().expect("id")
}

#[tokio::test]
async fn functions_answer_fail_cleanly_and_switch_with_their_version() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let echo_id = setup(&rest).await;
    let (status, body) = rest.post("/groups/fnstore/apis", function_api("Bad", "/bad", "export default (")).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("backend.function.code")), "{body}");
    assert!(body["errors"][0]["message"].as_str().expect("message").starts_with("line 1, column"), "{body}");

    rest.freeze("fnstore", "1").await;
    let release = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/fnstore/deployments/test", release).await.0, 200);

    let response = reqwest::Client::new()
        .post(format!("{}/echo/7?q=hi", app.gateway))
        .header("host", HOST)
        .header("x-ca-stage", "TEST")
        .json(&json!({"n": 1}))
        .send()
        .await
        .expect("call");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-fn"], "yes");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body, json!({"method": "POST", "params": {"id": "7", "q": "hi"}, "json": {"n": 1}}));

    let thrown = app.call_gateway(Method::GET, HOST, "TEST", "/throw").await;
    assert_eq!(thrown.status(), 502);
    assert_eq!(thrown.headers()["x-ca-error-code"], "FunctionError");
    assert!(thrown.text().await.expect("body").contains("boom at 42"));
    let looped = app.call_gateway(Method::GET, HOST, "TEST", "/loop").await;
    assert_eq!(looped.status(), 502);
    assert!(looped.text().await.expect("body").contains("CPU-time limit of 200 ms"));
    assert_eq!(app.call_gateway(Method::GET, HOST, "TEST", "/echo/1").await.status(), 200, "still serving");

    // The Debug API's trace carries the reason.
    let (_, debug) = rest.post("/debug", json!({"group": "fnstore", "env": "test", "api": "Throw"})).await;
    assert_eq!(debug["trace"]["failed_phase"], "proxy", "{debug}");
    assert!(debug["trace"]["error"][1].as_str().expect("reason").contains("boom"));

    // Version 2 changes the code; Switch Version switches it.
    let mut changed = function_api("Echo", "/echo/{id}", "export default () => ({body: 'version two'})");
    changed["id"] = json!(echo_id);
    assert_eq!(rest.put(&format!("/groups/fnstore/apis/{echo_id}"), changed).await.0, 200);
    rest.freeze("fnstore", "2").await;
    let switch = json!({"version": "2", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/fnstore/deployments/test", switch).await.0, 200);
    let switched = app.call_gateway(Method::GET, HOST, "TEST", "/echo/1").await;
    assert_eq!(switched.text().await.expect("body"), "version two");
    let back = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/fnstore/deployments/test", back).await.0, 200);
    let original = app.call_gateway(Method::GET, HOST, "TEST", "/echo/1").await;
    assert!(original.text().await.expect("body").contains("\"method\":\"GET\""));
}
