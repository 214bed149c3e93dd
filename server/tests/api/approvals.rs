//! Guarded Production changes: a developer requests, another admin approves (the change
//! made in the same transaction), self-approval refused, rejection, withdrawal, the setting
//! that makes requests the only way, and two admins deciding at once.

use crate::helpers::{spawn_app, spawn_app_with, RestClient, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const PASSWORD: &str = "long enough password";

/// A group `petstore` with one Mock API frozen as `1.0.0` (live in Test) and `1.1.0` (live
/// nowhere), and users `dev` (developer) and `boss` (a second admin), with REST clients.
async fn setup(app: &TestApp) -> (RestClient, RestClient, RestClient) {
    let admin = app.rest().await;
    admin.create_group("petstore").await;
    let api =
        json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}, "backend": {"mock": {"body": "one"}}});
    let created = admin.create_api("petstore", api).await;
    let (status, _) = admin
        .post(
            "/groups/petstore/deployments/test/draft",
            json!({"version": {"label": "1.0.0"}, "backend": {"type": "mock"}}),
        )
        .await;
    assert_eq!(status, 200);
    let changed =
        json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}, "backend": {"mock": {"body": "two"}}});
    let (status, _) = admin.put(&format!("/groups/petstore/apis/{}", created.id), changed).await;
    assert_eq!(status, 200);
    admin.freeze("petstore", "1.1.0").await;
    for (name, role) in [("dev", "developer"), ("boss", "admin")] {
        let (status, answer) =
            admin.post("/users", json!({"username": name, "password": PASSWORD, "role": role})).await;
        assert_eq!(status, 201, "{answer}");
    }
    let dev = RestClient::new(&app.console, &app.control.create_token("dev", "dev").await.expect("token"));
    let boss = RestClient::new(&app.console, &app.control.create_token("boss", "boss").await.expect("token"));
    (admin, dev, boss)
}

async fn served(app: &TestApp) -> (u16, String) {
    let response = app.call_gateway(Method::GET, "petstore.localhost", "RELEASE", "/hello").await;
    (response.status().as_u16(), response.text().await.expect("body"))
}

fn request(version: &str) -> Value {
    json!({"version": version, "backend": {"type": "mock"}, "note": "friday release"})
}

#[tokio::test]
async fn a_developer_requests_another_admin_approves_and_production_serves_it() {
    let app = spawn_app().await;
    let (admin, dev, _boss) = setup(&app).await;
    assert_eq!(dev.put("/groups/petstore/deployments/prod", request("1.1.0")).await.0, 403, "no direct release");
    let (status, asked) = dev.post("/groups/petstore/deployments/prod/requests", request("1.1.0")).await;
    assert_eq!(status, 201, "{asked}");
    assert_eq!((asked["status"].clone(), asked["requested_by"].clone()), (json!("pending"), json!("dev")));
    assert_eq!(served(&app).await.0, 404, "nothing live in Production yet");
    let id = asked["id"].as_i64().expect("id");
    // The developer may not approve; the admin may.
    assert_eq!(dev.post(&format!("/release-requests/{id}/approve"), json!({})).await.0, 403);
    let (status, approved) = admin.post(&format!("/release-requests/{id}/approve"), json!({"note": "ok"})).await;
    assert_eq!(status, 200, "{approved}");
    assert_eq!((approved["status"].clone(), approved["decided_by"].clone()), (json!("approved"), json!("admin")));
    assert_eq!(served(&app).await, (200, "two".to_owned()));
    // Decided once: again is a conflict.
    assert_eq!(admin.post(&format!("/release-requests/{id}/approve"), json!({})).await.0, 409);
    // The history and the audit log tell the chain.
    let (_, history) = admin.get("/groups/petstore/deployments/history").await;
    let release =
        history.as_array().expect("events").iter().find(|e| e["environment"] == json!("prod")).expect("prod").clone();
    assert!(release["note"].as_str().expect("note").contains("requested by dev, approved by admin"), "{release}");
    let (_, audit) = admin.get("/audit?group=petstore").await;
    let actions: Vec<&str> =
        audit["items"].as_array().expect("items").iter().map(|i| i["action"].as_str().expect("action")).collect();
    for wanted in ["release_request.create", "release_request.approve", "deployment.release"] {
        assert!(actions.contains(&wanted), "{wanted} in {actions:?}");
    }
    // A second request shows the diff against what is live now.
    let (status, next) = dev.post("/groups/petstore/deployments/prod/requests", request("1.0.0")).await;
    assert_eq!(status, 201);
    assert_eq!(next["live_version"], json!("1.1.0"));
    assert!(next["diff"]["changed"][0]["fields"].to_string().contains("backend.mock.body"), "{next}");
    let (_, pending) = admin.get("/release-requests?status=pending&group=petstore").await;
    assert_eq!(pending["total"], json!(1));
    let (status, answer) = admin.get("/release-requests?status=%3Cscript%3E").await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("status")), "{answer}");
    assert_eq!(admin.get("/release-requests?group=nosuch").await.0, 404);
}

#[tokio::test]
async fn nobody_approves_their_own_request_and_rejected_or_withdrawn_requests_stay_closed() {
    let app = spawn_app().await;
    let (admin, dev, boss) = setup(&app).await;
    let (_, own) = boss.post("/groups/petstore/deployments/prod/requests", request("1.0.0")).await;
    let id = own["id"].as_i64().expect("id");
    let (status, answer) = boss.post(&format!("/release-requests/{id}/approve"), json!({})).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["message"].as_str().expect("message").contains("own request"), "{answer}");
    let (status, rejected) = admin.post(&format!("/release-requests/{id}/reject"), json!({"note": "not today"})).await;
    assert_eq!(
        (status, rejected["status"].clone(), rejected["decision_note"].clone()),
        (200, json!("rejected"), json!("not today"))
    );
    assert_eq!(admin.post(&format!("/release-requests/{id}/approve"), json!({})).await.0, 409);
    assert_eq!(served(&app).await.0, 404, "nothing released");
    // The requester withdraws its own; another developer's is not its to withdraw.
    let (_, mine) = dev.post("/groups/petstore/deployments/prod/requests", request("1.0.0")).await;
    let mine = mine["id"].as_i64().expect("id");
    let (status, withdrawn) = dev.delete(&format!("/release-requests/{mine}")).await;
    assert_eq!((status, withdrawn["status"].clone()), (200, json!("withdrawn")));
    let (_, theirs) = boss.post("/groups/petstore/deployments/prod/requests", request("1.0.0")).await;
    assert_eq!(dev.delete(&format!("/release-requests/{}", theirs["id"])).await.0, 403);
    // Bad requests name their field.
    let (status, answer) = dev.post("/groups/petstore/deployments/test/requests", request("1.0.0")).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("environment")), "{answer}");
    let (status, answer) = dev.post("/groups/petstore/deployments/prod/requests", json!({"note": "x"})).await;
    assert_eq!(status, 422);
    let fields: Vec<_> = answer["errors"].as_array().expect("errors").iter().map(|e| e["field"].clone()).collect();
    assert_eq!(fields, [json!("version"), json!("backend")]);
    let (status, answer) = dev.post("/groups/petstore/deployments/prod/requests", request("9.9.9")).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("version")), "{answer}");
    let (status, answer) = dev.post("/groups/petstore/deployments/prod/requests", json!({"offline": true})).await;
    assert_eq!(status, 409, "nothing live to take off-line: {answer}");
}

#[tokio::test]
async fn an_approval_refused_partway_leaves_the_request_pending_and_production_unchanged() {
    let app = spawn_app().await;
    let (admin, dev, _boss) = setup(&app).await;
    let (_, asked) = dev.post("/groups/petstore/deployments/prod/requests", request("1.1.0")).await;
    let id = asked["id"].as_i64().expect("id");
    assert_eq!(admin.delete("/groups/petstore/versions/1.1.0").await.0, 204, "the version goes before approval");
    let (status, answer) = admin.post(&format!("/release-requests/{id}/approve"), json!({})).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("version")), "{answer}");
    let (_, listed) = admin.get("/release-requests?status=pending").await;
    assert_eq!(listed["items"][0]["id"], json!(id), "still pending");
    assert_eq!(served(&app).await.0, 404);
    let (_, audit) = admin.get("/audit?action=release_request.approve").await;
    assert_eq!(audit["total"], json!(0), "no approval recorded");
}

#[tokio::test]
async fn two_admins_approving_at_once_release_once() {
    let app = spawn_app().await;
    let (admin, dev, boss) = setup(&app).await;
    let (_, asked) = dev.post("/groups/petstore/deployments/prod/requests", request("1.0.0")).await;
    let path = format!("/release-requests/{}/approve", asked["id"]);
    let (a, b) = tokio::join!(admin.post(&path, json!({})), boss.post(&path, json!({})));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "{a:?} {b:?}");
    let (_, history) = admin.get("/groups/petstore/deployments/history").await;
    let prod = history.as_array().expect("events").iter().filter(|e| e["environment"] == json!("prod")).count();
    assert_eq!(prod, 1, "released once");
}

#[tokio::test]
async fn with_approval_required_production_changes_only_through_requests_admins_included() {
    let app = spawn_app_with(|settings| settings.production_approval = true).await;
    let (admin, dev, boss) = setup(&app).await;
    let (status, answer) = admin.put("/groups/petstore/deployments/prod", request("1.0.0")).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["message"].as_str().expect("message").contains("approved request"), "{answer}");
    let draft = json!({"version": {"label": "2.0.0"}, "backend": {"type": "mock"}});
    assert_eq!(admin.post("/groups/petstore/deployments/prod/draft", draft).await.0, 403);
    let (_, versions) = admin.get("/groups/petstore/versions").await;
    assert!(!versions.to_string().contains("2.0.0"), "a refused draft release leaves no version");
    assert_eq!(dev.put("/groups/petstore/deployments/test", request("1.1.0")).await.0, 200, "Test as before");
    // An admin's own request, approved by the other admin.
    let (_, asked) = admin.post("/groups/petstore/deployments/prod/requests", request("1.0.0")).await;
    let (status, _) = boss.post(&format!("/release-requests/{}/approve", asked["id"]), json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(served(&app).await, (200, "one".to_owned()));
    // Off-line also needs a request.
    assert_eq!(admin.delete("/groups/petstore/deployments/prod").await.0, 403);
    let (status, offline) =
        dev.post("/groups/petstore/deployments/prod/requests", json!({"offline": true, "note": "retire"})).await;
    assert_eq!((status, offline["kind"].clone()), (201, json!("offline")), "{offline}");
    assert_eq!(admin.post(&format!("/release-requests/{}/approve", offline["id"]), json!({})).await.0, 200);
    assert_eq!(served(&app).await.0, 404, "off-line");
}
