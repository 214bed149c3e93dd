//! REST: API groups and their APIs.

use crate::helpers::spawn_app;
use serde_json::json;

fn pet_api() -> serde_json::Value {
    json!({
        "name": "Get pet",
        "auth": "none",
        "request": {
            "method": "GET",
            "path": "/pets/{petId}",
            "mode": "mapping",
            "params": [
                {"name": "petId", "in": "path", "type": "int", "required": true},
                {"name": "verbose", "in": "query", "type": "boolean"}
            ]
        },
        "backend": {
            "unified": true,
            "http": {"path": "/v2/pet/{id}", "mapping": [{"param": "petId", "name": "id", "in": "path"}]}
        }
    })
}

#[tokio::test]
async fn groups_are_created_listed_edited_and_deleted() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let (status, group) = rest.post("/groups", json!({"name": "petstore", "subdomain": "petstore"})).await;
    assert_eq!(status, 201, "{group}");
    assert_eq!(group["subdomain"], "petstore");
    let (status, list) = rest.get("/groups").await;
    assert_eq!((status, list["total"].as_u64()), (200, Some(1)));
    let (status, edited) =
        rest.put("/groups/petstore", json!({"name": "petstore", "subdomain": "pets", "description": "Pets"})).await;
    assert_eq!((status, edited["subdomain"].as_str()), (200, Some("pets")));
    let (status, _) = rest.delete("/groups/petstore").await;
    assert_eq!(status, 204);
    let (status, body) = rest.get("/groups/petstore").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NotFound")));
}

#[tokio::test]
async fn bad_groups_are_422_with_field_errors() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let (status, body) = rest.post("/groups", json!({"name": "", "subdomain": "not.a.label"})).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["name", "subdomain"]);
    let (status, body) = rest.post("/groups", json!("not an object")).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("body")));
}

#[tokio::test]
async fn apis_round_trip_in_the_design_shape() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    let (status, created) = rest.post("/groups/petstore/apis", pet_api()).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().expect("id");
    assert_eq!(created["backend"]["http"]["mapping"][0]["name"], "id");
    assert_eq!(created["request"]["params"][0]["in"], "path");

    let mut changed = created.clone();
    changed["backend"]["unified"] = json!(false);
    changed["backend"]["type"] = json!("mock");
    changed["backend"]["mock"] = json!({"status": 200, "body": "{\"name\":\"Rex\"}"});
    let (status, updated) = rest.put(&format!("/groups/petstore/apis/{id}"), changed).await;
    assert_eq!(status, 200, "{updated}");
    let (_, fetched) = rest.get(&format!("/groups/petstore/apis/{id}")).await;
    assert_eq!(fetched["backend"]["type"], "mock");
    assert_eq!(fetched["backend"]["mock"]["body"], "{\"name\":\"Rex\"}");

    let (status, _) = rest.delete(&format!("/groups/petstore/apis/{id}")).await;
    assert_eq!(status, 204);
    let (_, list) = rest.get("/groups/petstore/apis").await;
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn invalid_apis_are_422_naming_the_field_and_nothing_is_saved() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    let mut bad = pet_api();
    bad["request"]["path"] = json!("pets/{id");
    let (status, body) = rest.post("/groups/petstore/apis", bad).await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["field"], "request.path");
    let (_, list) = rest.get("/groups/petstore/apis").await;
    assert_eq!(list["total"], 0);

    rest.create_api("petstore", pet_api()).await;
    let mut conflicting = pet_api();
    conflicting["name"] = json!("Fetch pet");
    conflicting["request"]["path"] = json!("/pets/{id}");
    conflicting["request"]["params"][0]["name"] = json!("id");
    conflicting["backend"]["http"]["mapping"] = json!([]);
    let (status, body) = rest.post("/groups/petstore/apis", conflicting).await;
    assert_eq!(status, 422, "{body}");
    let message = body["errors"][0]["message"].as_str().expect("message");
    assert!(message.contains("Get pet") && message.contains("Fetch pet"), "{message}");
}

#[tokio::test]
async fn a_thousand_apis_page_and_search() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("big").await;
    for i in 0..1000 {
        let api = json!({"name": format!("api-{i:04}"), "request": {"method": "GET", "path": format!("/r/{i}")}});
        let (status, body) = rest.post("/groups/big/apis", api).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, page) = rest.get("/groups/big/apis?page=3&per_page=50").await;
    assert_eq!(page["total"], 1000);
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 50);
    assert_eq!(items[0]["name"], "api-0100");
    assert_eq!(items[49]["name"], "api-0149");
    let (_, last) = rest.get("/groups/big/apis?page=20&per_page=50").await;
    assert_eq!(last["items"].as_array().expect("items").last().expect("last")["name"], "api-0999");
    let (_, search) = rest.get("/groups/big/apis?q=api-099&per_page=200").await;
    assert_eq!(search["total"], 10);
    let (_, by_path) = rest.get("/groups/big/apis?q=/r/5&per_page=200").await;
    assert_eq!(by_path["total"], 111, "/r/5, /r/5x and /r/5xx");
}
