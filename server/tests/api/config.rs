//! Declarative configuration: `gantry config export` / `diff` / `apply` / `schema` as a user
//! runs them, and the REST twins `GET /config/export`, `POST /config/diff`, `POST
//! /config/apply`.

use crate::helpers::{postgres_database, spawn_app, RestClient, TestApp};
use serde_json::json;
use std::process::Command;

const GANTRY: &str = env!("CARGO_BIN_EXE_gantry");

/// `gantry config …` on the running app's store.
async fn config_command(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(GANTRY);
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("GANTRY_DATA_DIR", data_dir);
    if let Some(url) = postgres_database(data_dir).await {
        command.env("GANTRY_DATABASE_URL", url);
    }
    command.arg("config").args(args).output().expect("run gantry config")
}

#[tokio::test]
async fn export_then_diff_exits_0_and_an_edited_file_names_its_changes_and_exits_1() {
    let app = spawn_app().await;
    let admin = app.rest().await;
    admin.create_group("petstore").await;
    admin.create_api("petstore", json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}})).await;
    let exported = config_command(&app.data_dir, &["export"]).await;
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let text = String::from_utf8(exported.stdout).expect("utf-8");
    assert!(text.starts_with("gantry: 1\n"), "{text}");
    assert!(text.contains("petstore:") && text.contains("Hello:"), "{text}");
    let file = app.data_dir.join("gantry.yaml");
    std::fs::write(&file, &text).expect("write");
    let same = config_command(&app.data_dir, &["diff", file.to_str().expect("path")]).await;
    assert_eq!(same.status.code(), Some(0), "{}", String::from_utf8_lossy(&same.stdout));
    assert!(String::from_utf8_lossy(&same.stdout).contains("no changes"));
    std::fs::write(&file, text.replace("path: /hello", "path: /changed")).expect("write");
    let edited = config_command(&app.data_dir, &["diff", file.to_str().expect("path")]).await;
    let out = String::from_utf8_lossy(&edited.stdout).into_owned();
    assert_eq!(edited.status.code(), Some(1), "{out}");
    assert!(out.contains("~ groups.petstore.apis.Hello.request.path: \"/hello\" -> \"/changed\""), "{out}");
    std::fs::write(&file, "gantry: 1\ngroupz: {}\n").expect("write");
    let typo = config_command(&app.data_dir, &["diff", file.to_str().expect("path")]).await;
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stderr).contains("groupz"), "{}", String::from_utf8_lossy(&typo.stderr));
    let schema = config_command(&app.data_dir, &["schema"]).await;
    let schema: serde_json::Value = serde_json::from_slice(&schema.stdout).expect("schema is JSON");
    assert_eq!(schema["properties"]["gantry"]["const"], json!(1));

    // REST: the same export, and a diff of the edited text.
    let (status, yaml) = admin.send_text(reqwest::Method::GET, "/config/export", None).await;
    assert_eq!((status, yaml.as_str()), (200, text.as_str()));
    let (status, diff) = admin.send_raw("/config/diff", text.replace("path: /hello", "path: /changed")).await;
    assert_eq!((status, diff["different"].clone()), (200, json!(true)), "{diff}");
    assert_eq!(diff["changes"][0]["field"], json!("groups.petstore.apis.Hello.request.path"));
    let (status, diff) = admin.send_raw("/config/diff", "gantry: [".into()).await;
    assert_eq!((status, diff["errors"][0]["field"].clone()), (422, json!("file")), "{diff}");
    // Secrets only for developers and up.
    let (status, _) =
        admin.post("/users", json!({"username": "val", "password": "long enough password", "role": "viewer"})).await;
    assert_eq!(status, 201);
    let viewer =
        crate::helpers::RestClient::new(&app.console, &app.control.create_token("v", "val").await.expect("token"));
    assert_eq!(viewer.send_text(reqwest::Method::GET, "/config/export", None).await.0, 200);
    assert_eq!(viewer.send_text(reqwest::Method::GET, "/config/export?with_secrets=true", None).await.0, 403);
}

/// A group with two APIs (one on a backend service), two versions, Test and Pre live; a
/// service with a URL; a bound policy; an app authorized on Test.
async fn populate(app: &TestApp) -> RestClient {
    let admin = app.rest().await;
    admin.create_group("petstore").await;
    let (status, body) = admin.post("/backend-services", json!({"name": "orders", "type": "mock"})).await;
    assert_eq!(status, 201, "{body}");
    let hello = json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"},
        "backend": {"mock": {"body": "hello from the file"}}});
    let hello = admin.create_api("petstore", hello).await;
    admin.freeze("petstore", "1.0.0").await;
    admin.create_api("petstore", json!({"name": "Orders", "request": {"method": "GET", "path": "/orders"}})).await;
    admin.freeze("petstore", "1.1.0").await;
    admin.release("petstore", "test", "1.1.0", json!({"type": "mock"})).await;
    admin.release("petstore", "pre", "1.0.0", json!({"type": "mock"})).await;
    let policy = json!({"name": "slow", "type": "throttling", "config": {"unit": "minute", "api_limit": 1000}});
    assert_eq!(admin.post("/policies", policy).await.0, 201);
    let bind = json!({"group": "petstore", "api": hello.id, "env": "test"});
    assert_eq!(admin.post("/policies/slow/bindings", bind).await.0, 201);
    assert_eq!(admin.post("/apps", json!({"name": "web", "description": "the site"})).await.0, 201);
    let grant = json!({"group": "petstore", "apis": [hello.id], "env": "test"});
    let (status, body) = admin.post("/apps/web/authorizations", grant).await;
    assert!(status < 300, "{status} {body}");
    admin
}

async fn export_text(client: &RestClient, query: &str) -> String {
    let (status, text) = client.send_text(reqwest::Method::GET, &format!("/config/export{query}"), None).await;
    assert_eq!(status, 200, "{text}");
    text
}

#[tokio::test]
async fn export_apply_on_an_empty_instance_export_is_byte_identical_and_served() {
    let source = spawn_app().await;
    let source_admin = populate(&source).await;
    for query in ["", "?with_secrets=true"] {
        let file = export_text(&source_admin, query).await;
        let target = spawn_app().await;
        let admin = target.rest().await;
        let (status, applied) = admin.send_raw("/config/apply", file.clone()).await;
        assert_eq!((status, applied["applied"].clone()), (200, json!(true)), "{applied}");
        assert!(applied["changes"].as_array().expect("changes").len() > 5, "{applied}");
        assert_eq!(export_text(&admin, query).await, file, "export → apply → export ({query})");
        // Served at once, through the real gateway, by the environments the file names.
        let response = target.call_gateway(reqwest::Method::GET, "petstore.localhost", "TEST", "/hello").await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.expect("body"), "hello from the file");
        // A file carries version labels, not their contents: on a new instance every label
        // is frozen from the file's draft, so Pre's 1.0.0 there has Orders too (documented).
        let pre = target.call_gateway(reqwest::Method::GET, "petstore.localhost", "PRE", "/orders").await;
        assert_eq!(pre.status(), 200, "Pre serves the file's draft under 1.0.0");
        // Audited as the caller: each change, and the file.
        let (_, audit) = admin.get("/audit?action=config.apply").await;
        assert_eq!(audit["total"], json!(1), "{audit}");
        assert_eq!(audit["items"][0]["user"], json!("admin"));
        // Applying it again changes nothing.
        let (status, again) = admin.send_raw("/config/apply", file.clone()).await;
        assert_eq!((status, again["applied"].clone()), (200, json!(false)), "{again}");
        if query.is_empty() {
            // Without secrets the target's app has keys of its own.
            let (_, web) = admin.get("/apps/web").await;
            let (_, theirs) = source_admin.get("/apps/web").await;
            assert_ne!(web["app_key"], theirs["app_key"]);
        }
        target.stop().await;
    }
}

#[tokio::test]
async fn apply_is_refused_whole_by_role_bad_input_or_a_rule_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = populate(&app).await;
    let original = export_text(&admin, "").await;
    for (username, role, groups) in [("dev", "developer", json!(["petstore"])), ("val", "viewer", json!(null))] {
        let body = json!({"username": username, "password": "long enough password", "role": role, "groups": groups});
        assert_eq!(admin.post("/users", body).await.0, 201);
    }
    let dev = RestClient::new(&app.console, &app.control.create_token("dev", "dev").await.expect("token"));
    let viewer = RestClient::new(&app.console, &app.control.create_token("val", "val").await.expect("token"));
    // A viewer is refused before the file is read.
    let (status, answer) = viewer.send_raw("/config/apply", original.clone()).await;
    assert_eq!(status, 403, "{answer}");
    // A developer of petstore may change petstore, not what every group shares: the app's
    // change is refused, and the draft's change (later in the file's order) is undone too.
    let edited =
        original.replace("description: the site", "description: changed by dev").replace("path: /hello", "path: /hi");
    let (status, answer) = dev.send_raw("/config/apply", edited).await;
    assert_eq!(status, 403, "{answer}");
    assert!(answer["message"].as_str().expect("message").starts_with("apps.web"), "{answer}");
    assert_eq!(export_text(&admin, "").await, original);
    // The group-only edit is the developer's to make; audited as the developer.
    let scoped = export_text(&admin, "?group=petstore").await;
    assert!(scoped.contains("scope: petstore"), "{scoped}");
    let (status, answer) = dev.send_raw("/config/apply", scoped.replace("path: /hello", "path: /hi")).await;
    assert_eq!(status, 200, "{answer}");
    let (_, audit) = admin.get("/audit?action=config.apply").await;
    assert_eq!(audit["items"][0]["user"], json!("dev"), "{audit}");
    let current = export_text(&admin, "").await;
    assert!(current.contains("path: /hi"));
    // Bad input names the field; a later step's refusal undoes the earlier ones.
    let (status, answer) = admin.send_raw("/config/apply", current.replace("gantry: 1", "gantry: 1\nscope: [")).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("file")), "{answer}");
    let late =
        current.replace("description: the site", "description: changed").replace("version: 1.0.0", "version: 7.7.7");
    let (status, answer) = admin.send_raw("/config/apply", late).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(
        answer["errors"][0]["field"].as_str().map(|f| f.starts_with("groups.petstore.deployments.pre")),
        Some(true),
        "{answer}"
    );
    assert_eq!(export_text(&admin, "").await, current, "nothing of a refused file is left");
    let response = app.call_gateway(reqwest::Method::GET, "petstore.localhost", "PRE", "/hello").await;
    assert_eq!(response.status(), 200, "Pre still serves 1.0.0");
}

/// Files applied while other writers work: every write lands, none gets a 500, and the
/// file's changes are all there (it holds the write lock for its one transaction).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applies_and_other_writes_at_once_all_land() {
    let app = spawn_app().await;
    let admin = populate(&app).await;
    let base = export_text(&admin, "").await;
    let mut tasks = Vec::new();
    for i in 0..4 {
        let client = app.rest().await;
        let file = base.replace("description: the site", &format!("description: file {i}"));
        tasks.push(tokio::spawn(async move { client.send_raw("/config/apply", file).await }));
    }
    let mut writers = Vec::new();
    for i in 0..12 {
        let client = app.rest().await;
        writers.push(tokio::spawn(async move { client.post("/apps", json!({"name": format!("app-{i}")})).await }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        let (status, answer) = task.await.expect("task");
        assert_eq!(status, 200, "{answer}");
        outcomes.push(answer["applied"].as_bool());
    }
    for writer in writers {
        let (status, answer) = writer.await.expect("task");
        assert_eq!(status, 201, "{answer}");
    }
    // A file that holds no app-N deletes those created before it: whichever order they ran
    // in, the apps are either all there or removed by a later file, never half-written.
    assert!(outcomes.iter().all(|o| *o == Some(true)), "each file changed a description: {outcomes:?}");
    let (_, apps) = admin.get("/apps").await;
    let names: Vec<String> = apps["items"]
        .as_array()
        .expect("apps")
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(names.contains(&"web".to_owned()), "{names:?}");
    let (_, web) = admin.get("/apps/web").await;
    assert!(web["description"].as_str().expect("description").starts_with("file "), "{web}");
}

#[tokio::test]
async fn the_apply_command_acts_as_its_user_and_exits_1_on_a_refusal() {
    let app = spawn_app().await;
    let admin = populate(&app).await;
    let file = app.data_dir.join("gantry.yaml");
    let text = export_text(&admin, "").await;
    std::fs::write(&file, text.replace("path: /hello", "path: /from-cli")).expect("write");
    let path = file.to_str().expect("path");
    let applied = config_command(&app.data_dir, &["apply", path]).await;
    let out = String::from_utf8_lossy(&applied.stdout).into_owned();
    assert!(applied.status.success(), "{out} {}", String::from_utf8_lossy(&applied.stderr));
    assert!(out.contains("~ groups.petstore.apis.Hello.request.path") && out.contains("applied 1 change"), "{out}");
    assert!(export_text(&admin, "").await.contains("path: /from-cli"));
    let (status, _) =
        admin.post("/users", json!({"username": "val", "password": "long enough password", "role": "viewer"})).await;
    assert_eq!(status, 201);
    std::fs::write(&file, text).expect("write");
    let refused = config_command(&app.data_dir, &["apply", path, "--user", "val"]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("viewer"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(export_text(&admin, "").await.contains("path: /from-cli"), "unchanged");
}
