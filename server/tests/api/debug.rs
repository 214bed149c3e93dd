//! The Debug API through the REST twin: real requests through the real gateway listener,
//! and the trace only for requests that carry a valid one-time token.

use crate::apps::signed_petstore;
use crate::helpers::spawn_app;
use serde_json::{json, Value};

fn phase<'a>(trace: &'a Value, name: &str) -> &'a Value {
    trace["phases"].as_array().expect("phases").iter().find(|p| p["name"] == name).expect("phase")
}

#[tokio::test]
async fn a_signed_call_goes_through_the_gateway_and_comes_back_with_its_trace() {
    let app = spawn_app().await;
    let (rest, _web, _) = signed_petstore(&app).await;
    let call = json!({"group": "petstore", "env": "test", "api": "Pets", "app": "web",
                      "params": {}, "headers": {"X-Custom": "debugging"}});
    let (status, result) = rest.post("/debug", call).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["response"]["status"], 200, "{result}");
    let sent: Vec<&str> =
        result["request"]["headers"].as_array().expect("headers").iter().filter_map(|h| h[0].as_str()).collect();
    assert!(sent.contains(&"x-ca-signature") && sent.contains(&"x-ca-key"), "{sent:?}");
    let echoed: Value = serde_json::from_str(result["response"]["body"].as_str().expect("body")).expect("echo JSON");
    assert_eq!(echoed["headers"]["x-custom"], "debugging");
    assert!(echoed["headers"].get("x-gantry-debug").is_none(), "the debug token never reaches the backend");
    let trace = &result["trace"];
    assert_eq!(
        (trace["group"].as_str(), trace["environment"].as_str(), trace["version"].as_str()),
        (Some("petstore"), Some("test"), Some("1"))
    );
    assert_eq!(
        (trace["auth"].as_str(), trace["app"].as_str(), trace["mock"].as_bool()),
        (Some("Signature"), Some("web"), Some(false))
    );
    let upstream = trace["upstream"]["url"].as_str().expect("upstream URL");
    assert!(upstream.starts_with("http://127.0.0.1:") && upstream.ends_with("/pets"), "{upstream}");
    assert_eq!(trace["upstream_status"], 200);
    assert!(
        trace["phases"].as_array().expect("phases").iter().all(|p| p["outcome"] == "ok" || p["name"] == "mock"),
        "{trace}"
    );
    assert!(result["client_string_to_sign"].as_str().expect("signed").starts_with("GET\n"));
}

#[tokio::test]
async fn refusals_name_the_phase_and_mock_apis_short_cut() {
    let app = spawn_app().await;
    let (rest, _web, _) = signed_petstore(&app).await;
    let (_, _) = rest.post("/apps", json!({"name": "stranger"})).await;
    let call = json!({"group": "petstore", "env": "test", "api": "Pets", "app": "stranger"});
    let (status, result) = rest.post("/debug", call).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["response"]["status"], 403);
    assert_eq!(result["trace"]["failed_phase"], "authenticate");
    assert_eq!(phase(&result["trace"], "authenticate")["outcome"], "failed");
    assert_eq!(phase(&result["trace"], "proxy")["outcome"], "not reached");

    let (status, body) = rest.post("/debug", json!({"group": "petstore", "env": "test", "api": "Pets"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("app")));
    let (status, body) = rest.post("/debug", json!({"group": "petstore", "env": "pre", "api": "Pets"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("env")));

    let release = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/petstore/deployments/prod", release).await.0, 200);
    let (status, result) = rest.post("/debug", json!({"group": "petstore", "env": "prod", "api": "Pets"})).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["response"]["status"], 200);
    assert_eq!(result["trace"]["mock"], true);
    assert_eq!(phase(&result["trace"], "mock")["outcome"], "answered");
    assert_eq!(phase(&result["trace"], "authenticate")["outcome"], "skipped");
}

#[tokio::test]
async fn forged_and_reused_debug_tokens_get_no_trace() {
    let app = spawn_app().await;
    let (rest, _web, _) = signed_petstore(&app).await;
    let release = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/petstore/deployments/prod", release).await.0, 200);
    let call = |token: String| {
        reqwest::Client::new()
            .get(format!("{}/pets", app.gateway))
            .header("host", "petstore.localhost")
            .header("x-gantry-debug", token)
            .send()
    };
    let forged = call("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef".into()).await.expect("send");
    assert_eq!(forged.status(), 200);
    assert!(forged.headers().get("x-gantry-trace").is_none(), "a forged token gets no trace");
    let token = app.control.shared_state().issue_debug_token().await.expect("a token");
    let first = call(token.clone()).await.expect("send");
    assert!(first.headers().get("x-gantry-trace").is_some(), "a valid token gets the trace");
    let again = call(token).await.expect("send");
    assert!(again.headers().get("x-gantry-trace").is_none(), "a token works once");
}

#[tokio::test]
async fn a_huge_answer_is_read_only_up_to_the_limit_and_said_to_be_cut() {
    let app = crate::helpers::spawn_app_with(|s| s.debug_max_body_bytes = 4096).await;
    let rest = app.rest().await;
    rest.create_group("big").await;
    // A function that answers 5 MB.
    let api = json!({"name": "Big", "request": {"method": "GET", "path": "/big"},
        "backend": {"unified": false, "type": "function",
            "function": {"code": "export default function handler(req) { return { status: 200, body: 'x'.repeat(5000000) }; }"}}});
    let (status, body) = rest.post("/groups/big/apis", api).await;
    assert_eq!(status, 201, "{body}");
    rest.freeze("big", "1").await;
    let release = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/big/deployments/test", release).await.0, 200);
    let (status, result) = rest.post("/debug", json!({"group": "big", "env": "test", "api": "Big"})).await;
    assert_eq!(status, 200, "{result}");
    let response = &result["response"];
    assert_eq!(response["truncated"], true);
    assert_eq!(response["body"].as_str().map(str::len), Some(4096));
    assert_eq!(response["size"], 5_000_000, "the size the gateway declared");
}
