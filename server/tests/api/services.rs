//! Backend services through the REST API, with the real gateway following URL changes.

use crate::helpers::{spawn_app, spawn_echo_backend};
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn url_changes_reach_the_next_request_and_bad_input_names_the_field() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let (first, second) = (spawn_echo_backend().await, spawn_echo_backend().await);
    let (status, _) = rest.post("/backend-services", json!({"name": "pets", "type": "http"})).await;
    assert_eq!(status, 201);
    let (status, body) = rest.send(Method::PATCH, "/backend-services/pets", Some(json!({"type": "mock"}))).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("type")), "the type is fixed");
    let (status, body) = rest.put("/backend-services/pets/environments/test", json!({"url": "pets:80"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("url")));
    let (status, body) = rest.put("/backend-services/pets/environments/qa", json!({"url": first})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("env")));
    assert_eq!(rest.delete("/backend-services/pets/environments/pre").await.0, 404);
    assert_eq!(rest.put("/backend-services/pets/environments/test", json!({"url": first})).await.0, 200);

    rest.create_group("petstore").await;
    let api = json!({"name": "Pets", "request": {"method": "GET", "path": "/pets"}});
    assert_eq!(rest.post("/groups/petstore/apis", api).await.0, 201);
    rest.freeze("petstore", "1").await;
    let release = json!({"version": "1", "backend": {"type": "service", "service": "pets"}});
    assert_eq!(rest.put("/groups/petstore/deployments/test", release.clone()).await.0, 200);
    let host_seen = || async {
        let response = app.call_gateway(Method::GET, "petstore.localhost", "TEST", "/pets").await;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        (status, body["headers"]["host"].as_str().unwrap_or("").to_owned())
    };
    assert_eq!(host_seen().await, (200, first.trim_start_matches("http://").to_owned()));

    // The Draft tab: a unified draft API reaches the service through its group's release;
    // another names it itself; one with its own Mock does not use it.
    let own = json!({"name": "Own", "request": {"method": "GET", "path": "/own"},
        "backend": {"unified": false, "type": "http", "http": {"service": "pets"}}});
    assert_eq!(rest.post("/groups/petstore/apis", own).await.0, 201);
    let mocked = json!({"name": "Mocked", "request": {"method": "GET", "path": "/mocked"},
        "backend": {"unified": false, "type": "mock"}});
    assert_eq!(rest.post("/groups/petstore/apis", mocked).await.0, 201);
    let (_, service) = rest.get("/backend-services/pets").await;
    let draft: Vec<(&str, &Value)> = service["draft"]
        .as_array()
        .expect("draft")
        .iter()
        .map(|u| (u["api_name"].as_str().unwrap_or(""), &u["through_release"]))
        .collect();
    assert_eq!(draft, [("Pets", &json!(["test"])), ("Own", &json!([]))], "{service}");
    assert_eq!(service["environments"][0]["apis"][0]["through_release"], json!(["test"]), "{service}");

    let revision = app.control.config_revision().await.expect("revision");
    assert_eq!(rest.put("/backend-services/pets/environments/test", json!({"url": second})).await.0, 200);
    assert_eq!(app.control.config_revision().await.expect("revision"), revision + 1);
    assert_eq!(host_seen().await, (200, second.trim_start_matches("http://").to_owned()), "no release in between");

    let (status, body) = rest.put("/groups/petstore/deployments/prod", release).await;
    assert_eq!(status, 422);
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("`pets`") && message.contains("`Pets`") && message.contains("Production"), "{message}");

    assert_eq!(rest.delete("/backend-services/pets/environments/test").await.0, 200);
    assert_eq!(host_seen().await.0, 404);
    let (_, deployments) = rest.get("/groups/petstore/deployments").await;
    assert_eq!(deployments[0]["offline"][0]["api"], "Pets", "{deployments}");
    assert_eq!(rest.delete("/backend-services/pets").await.0, 409, "a service in use is not deleted");
    let (_, history) = rest.get("/backend-services/pets/history").await;
    assert_eq!(history[0]["action"], "delete_url");
}
