//! The gateway before anything is released.

use crate::helpers::{browser, spawn_app};

#[tokio::test]
async fn with_nothing_released_every_request_is_a_json_404_with_a_request_id() {
    let app = spawn_app().await;
    let response = browser()
        .get(format!("{}/pets/1", app.gateway))
        .header("host", "petstore.localhost")
        .header("x-ca-stage", "TEST")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
    let request_id = response.headers().get("x-ca-request-id").expect("request id").to_str().expect("ascii").to_owned();
    assert_eq!(response.headers()["x-ca-error-code"], "NotFound");
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["code"], "NotFound");
    assert_eq!(body["request_id"], request_id.as_str());
    assert!(body["message"].as_str().expect("message").contains("petstore.localhost"));
}

#[tokio::test]
async fn request_ids_are_unique() {
    let app = spawn_app().await;
    let mut ids = std::collections::HashSet::new();
    for _ in 0..20 {
        let response = browser().get(&app.gateway).send().await.expect("request");
        ids.insert(response.headers()["x-ca-request-id"].to_str().expect("ascii").to_owned());
    }
    assert_eq!(ids.len(), 20);
}
