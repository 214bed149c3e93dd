//! Users come in parallel (issue 18): every write path holds under concurrent requests.
//! No answer is a 500, nothing is lost, and the audit trail has one event per success.

use crate::helpers::{spawn_app, RestClient, TestApp};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{json, Value};
use std::sync::Arc;

/// Sends every request at once and returns the answers in order.
async fn all_at_once<F, Fut>(rest: &Arc<RestClient>, count: usize, request: F) -> Vec<(u16, Value)>
where
    F: Fn(Arc<RestClient>, usize) -> Fut,
    Fut: std::future::Future<Output = (u16, Value)> + Send + 'static,
{
    let tasks: Vec<_> = (0..count).map(|i| tokio::spawn(request(rest.clone(), i))).collect();
    let mut answers = Vec::with_capacity(count);
    for task in tasks {
        answers.push(task.await.expect("the request task"));
    }
    answers
}

async fn audit_events(app: &TestApp, action: &str) -> u64 {
    use control::entity::audit_event;
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .count(app.control.pool())
        .await
        .expect("count audit events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_parallel_app_creates_all_land() {
    let app = spawn_app().await;
    let rest = Arc::new(app.rest().await);
    let answers = all_at_once(&rest, 40, |rest, i| async move {
        rest.post("/apps", json!({"name": format!("app-{i}"), "description": "parallel"})).await
    })
    .await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 201, "create app-{i}: {body}");
    }
    let (status, list) = rest.get("/apps").await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(40), "{list}");
    assert_eq!(audit_events(&app, "app.create").await, 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_creates_of_one_name_give_one_app_and_clear_refusals() {
    let app = spawn_app().await;
    let rest = Arc::new(app.rest().await);
    let answers =
        all_at_once(&rest, 20, |rest, _| async move { rest.post("/apps", json!({"name": "twin"})).await }).await;
    let created = answers.iter().filter(|(status, _)| *status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, body) in &answers {
        assert!([201, 409, 422].contains(status), "a losing create is refused, not a {status}: {body}");
    }
    assert_eq!(audit_events(&app, "app.create").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_releases_and_switches_of_one_group_each_land_or_are_refused() {
    let app = spawn_app().await;
    let rest = Arc::new(app.rest().await);
    rest.create_group("race").await;
    let ping = json!({"name": "Ping", "request": {"method": "GET", "path": "/ping"},
        "backend": {"unified": false, "type": "mock", "mock": {"body": "pong"}}});
    assert_eq!(rest.post("/groups/race/apis", ping).await.0, 201);
    for label in ["1", "2"] {
        assert_eq!(rest.post("/groups/race/versions", json!({"label": label})).await.0, 201);
    }
    let answers = all_at_once(&rest, 20, |rest, i| async move {
        let version = if i % 2 == 0 { "1" } else { "2" };
        let env = if i % 3 == 0 { "pre" } else { "test" };
        let release = json!({"version": version, "backend": {"type": "mock"}, "note": format!("call {i}")});
        rest.put(&format!("/groups/race/deployments/{env}"), release).await
    })
    .await;
    let landed = answers.iter().filter(|(status, _)| *status == 200).count();
    for (status, body) in &answers {
        assert!([200, 409].contains(status), "a release is done or refused, not a {status}: {body}");
    }
    let (_, history) = rest.get("/groups/race/deployments/history").await;
    let history = history.as_array().expect("history").clone();
    assert_eq!(history.len(), landed, "one history event per release that landed: {history:?}");
    // What is live is what the last release to land in each environment said.
    let (_, deployments) = rest.get("/groups/race/deployments").await;
    let text = deployments.to_string();
    assert!(text.contains("\"version\":\"1\"") || text.contains("\"version\":\"2\""), "{text}");
    // Versions were not multiplied by the race.
    let (_, versions) = rest.get("/groups/race/versions").await;
    assert_eq!(versions.as_array().map(Vec::len), Some(2), "{versions}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_url_changes_of_one_service_keep_the_last_and_audit_each() {
    let app = spawn_app().await;
    let rest = Arc::new(app.rest().await);
    assert_eq!(rest.post("/backend-services", json!({"name": "pets", "type": "http"})).await.0, 201);
    let answers = all_at_once(&rest, 20, |rest, i| async move {
        rest.put("/backend-services/pets/environments/test", json!({"url": format!("http://10.0.0.{i}:80")})).await
    })
    .await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, 200, "URL change {i}: {body}");
    }
    let (_, history) = rest.get("/backend-services/pets/history").await;
    let changes: Vec<Value> =
        history.as_array().expect("history").iter().filter(|e| e["action"] == "set_url").cloned().collect();
    assert_eq!(changes.len(), 20, "one history event per change: {changes:?}");
    // Newest first, each change's `before` is the previous change's `after`: no change saw a
    // state another one had already replaced.
    for pair in changes.windows(2) {
        assert_eq!(pair[0]["before"], pair[1]["after"], "{pair:?}");
    }
    // The service shows the newest change's URL.
    let (_, service) = rest.get("/backend-services/pets").await;
    let newest = changes[0]["after"].as_str().expect("url");
    assert!(service.to_string().contains(&format!("\"{newest}\"")), "live {service} is not the newest {newest}");
}
