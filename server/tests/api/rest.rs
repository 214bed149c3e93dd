//! The admin REST API: tokens, sessions, errors and the OpenAPI document.

use crate::helpers::{browser, spawn_app};

#[tokio::test]
async fn rest_without_a_token_is_401_json() {
    let app = spawn_app().await;
    let response = browser().get(app.url("/api/admin/v1/health")).send().await.expect("request");
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["code"], "Unauthorized");
}

#[tokio::test]
async fn a_bad_token_is_401_even_with_a_session() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let response = app
        .client
        .get(app.url("/api/admin/v1/health"))
        .bearer_auth("gty_0000000000000000000000000000000000000000000000000000000000000000")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_token_authenticates_rest_calls() {
    let app = spawn_app().await;
    let token = app.control.create_token("tests", "admin").await.expect("token");
    let response = browser().get(app.url("/api/admin/v1/health")).bearer_auth(&token).send().await.expect("request");
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["config_revision"], 0);
    assert_eq!(body["gateway_revision"], 0);
}

#[tokio::test]
async fn the_console_session_also_authenticates_rest_calls() {
    let app = spawn_app().await;
    app.login_as_admin().await;
    let response = app.client.get(app.url("/api/admin/v1/health")).send().await.expect("request");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn unknown_endpoints_are_json_404s() {
    let app = spawn_app().await;
    let token = app.control.create_token("tests", "admin").await.expect("token");
    let response =
        browser().get(app.url("/api/admin/v1/nothing-here")).bearer_auth(&token).send().await.expect("request");
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["code"], "NotFound");
}

#[tokio::test]
async fn the_openapi_document_describes_the_api() {
    let app = spawn_app().await;
    let token = app.control.create_token("tests", "admin").await.expect("token");
    let doc: serde_json::Value = browser()
        .get(app.url("/api/admin/v1/openapi.json"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("version").starts_with("3."));
    assert!(doc["paths"]["/health"]["get"].is_object(), "{doc}");
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object(), "{doc}");
}

#[tokio::test]
async fn malformed_paths_and_queries_are_json_422s_naming_the_field() {
    let app = crate::helpers::spawn_app().await;
    let rest = app.rest().await;
    assert_eq!(rest.post("/groups", serde_json::json!({"name": "shop", "subdomain": "shop"})).await.0, 201);
    // A path id that is not a number.
    let (status, body) = rest.get("/groups/shop/apis/not-a-number").await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("path")), "{body}");
    // A query value of the wrong type.
    let (status, body) = rest.get("/groups/shop/apis?page=many").await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("query")), "{body}");
    // An import body over the limit keeps its status (413), in the JSON shape.
    let (status, text) =
        rest.send_text(reqwest::Method::POST, "/groups/shop/import", Some("x".repeat(3 * 1024 * 1024))).await;
    assert_eq!(status, 413, "{text}");
    let body: serde_json::Value = serde_json::from_str(&text).expect("a JSON error");
    assert_eq!(body["code"], "PayloadTooLarge", "{body}");
}
