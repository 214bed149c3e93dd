//! Declarative configuration (first part): `gantry config export` / `diff` / `schema` as a
//! user runs them, and the REST twins `GET /config/export`, `POST /config/diff`.

use crate::helpers::{postgres_database, spawn_app};
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
