//! The audit log: every change is listed newest first with its user, address, group and
//! field-level diff; filters narrow it and name a wrong field; pages count the total; the
//! export holds every matching row; nothing can change or delete a row; and the deployment
//! history keeps the label of a version deleted since.

use crate::helpers::spawn_app;
use serde_json::{json, Value};

fn actions(page: &Value) -> Vec<String> {
    page["items"].as_array().expect("items").iter().map(|i| i["action"].as_str().unwrap_or("").to_owned()).collect()
}

#[tokio::test]
async fn changes_are_listed_with_user_address_group_and_diff_and_filters_narrow_them() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    rest.create_group("other").await;
    let api = rest.create_api("shop", json!({"name": "Items", "request": {"method": "GET", "path": "/items"}})).await;
    let edited = json!({"name": "Items", "description": "all items", "request": {"method": "GET", "path": "/items"}});
    let (status, body) = rest.put(&format!("/groups/shop/apis/{}", api.id), edited).await;
    assert_eq!(status, 200, "{body}");
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "mock"})).await;

    let (status, all) = rest.get("/audit?group=shop").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(actions(&all), ["deployment.release", "version.create", "api.update", "api.create", "group.create"]);
    assert_eq!(all["total"], 5);
    let update = &all["items"][2];
    assert_eq!((update["user"].as_str(), update["address"].as_str()), (Some("admin"), Some("127.0.0.1")));
    assert_eq!(update["group"], "shop");
    assert_eq!(update["target"], format!("api shop/{}", api.id));
    let diff = update["diff"].as_array().expect("diff");
    assert!(
        diff.iter().any(|c| c["field"] == "description" && c["old"] == "\"\"" && c["new"] == "\"all items\""),
        "the changed field with its values: {diff:?}"
    );
    let release = &all["items"][0];
    assert!(release["diff"].as_array().expect("diff").iter().any(|c| c["field"] == "version" && c["new"] == "\"1\""));

    let (_, apis) = rest.get("/audit?group=shop&action=api").await;
    assert_eq!(actions(&apis), ["api.update", "api.create"]);
    let (_, exact) = rest.get("/audit?action=api.create").await;
    assert_eq!(actions(&exact), ["api.create"]);
    let (_, nobody) = rest.get("/audit?user=nobody").await;
    assert_eq!(nobody["total"], 0);
    let (_, future) = rest.get("/audit?from=2999-01-01T00:00").await;
    assert_eq!(future["total"], 0);
    let (_, paged) = rest.get("/audit?group=shop&per_page=2&page=2").await;
    assert_eq!((paged["total"].as_u64(), paged["page"].as_u64()), (Some(5), Some(2)));
    assert_eq!(actions(&paged), ["api.update", "api.create"]);
    let (_, everything) = rest.get("/audit").await;
    assert!(actions(&everything).iter().filter(|a| *a == "group.create").count() == 2, "both groups");

    let (status, refused) = rest.get("/audit?action=x;drop&page=0&to=soon").await;
    assert_eq!(status, 422, "{refused}");
    let fields: Vec<&str> =
        refused["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["action", "to", "page"]);
}

#[tokio::test]
async fn exports_hold_every_matching_row_and_no_route_changes_a_row() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    for name in ["a1", "a2", "a3"] {
        rest.create_group(name).await;
    }
    let (status, csv) = rest.send_text(reqwest::Method::GET, "/audit/export?action=group", None).await;
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "time,user,address,action,group,target,diff");
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[1].contains(",admin,127.0.0.1,group.create,a3,group a3,"), "{}", lines[1]);
    let (status, jsonl) = rest.send_text(reqwest::Method::GET, "/audit/export?action=group&format=jsonl", None).await;
    assert_eq!(status, 200);
    let items: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[2]["group"], "a1", "newest first");
    let (status, _) = rest.send_text(reqwest::Method::GET, "/audit/export?format=xml", None).await;
    assert_eq!(status, 422);

    // Append-only: there is no route that updates or deletes a row.
    let id = items[0]["id"].as_i64().expect("id");
    for (method, path) in [
        (reqwest::Method::DELETE, "/audit".to_owned()),
        (reqwest::Method::PUT, "/audit".to_owned()),
        (reqwest::Method::POST, "/audit".to_owned()),
        (reqwest::Method::DELETE, format!("/audit/{id}")),
        (reqwest::Method::PATCH, format!("/audit/{id}")),
    ] {
        let (status, _) = rest.send_text(method.clone(), &path, None).await;
        assert!(status == 405 || status == 404, "{method} {path}: {status}");
    }
    let (_, after) = rest.get("/audit?action=group").await;
    assert_eq!(after["total"], 3);
}

#[tokio::test]
async fn the_deployment_history_keeps_the_label_of_a_deleted_version() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    rest.create_api("shop", json!({"name": "Items", "request": {"method": "GET", "path": "/items"}})).await;
    rest.freeze("shop", "1").await;
    rest.freeze("shop", "2").await;
    rest.release("shop", "test", "1", json!({"type": "mock"})).await;
    rest.release("shop", "test", "2", json!({"type": "mock"})).await;
    let (status, _) = rest.delete("/groups/shop/versions/1").await;
    assert_eq!(status, 204);
    let (status, history) = rest.get("/groups/shop/deployments/history").await;
    assert_eq!(status, 200, "{history}");
    let events = history.as_array().or_else(|| history["items"].as_array()).expect("events").clone();
    let switch = events.iter().find(|e| e["action"] == "switch").expect("the switch");
    assert_eq!((switch["from_version"].as_str(), switch["to_version"].as_str()), (Some("1"), Some("2")), "{switch}");
    let release = events.iter().find(|e| e["action"] == "release").expect("the release");
    assert_eq!(release["to_version"], "1", "the deleted version's label is kept: {release}");
}
