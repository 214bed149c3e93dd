//! `GET /access-log`: a request's line is there as soon as it was answered, findable by the
//! request id the caller received; filters are parsed and a wrong one is named.

use crate::helpers::spawn_app;
use serde_json::json;

#[tokio::test]
async fn an_error_response_is_found_by_its_request_id_and_filters_narrow_the_lines() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    rest.create_api("shop", json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}})).await;
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "mock"})).await;

    let ok = app.call_gateway(reqwest::Method::GET, "shop.localhost", "TEST", "/hello").await;
    assert_eq!(ok.status(), 200);
    let missing = app.call_gateway(reqwest::Method::GET, "shop.localhost", "TEST", "/nowhere").await;
    assert_eq!(missing.status(), 404);
    let id = missing.headers()["x-ca-request-id"].to_str().expect("ascii").to_owned();

    let (status, found) = rest.get(&format!("/access-log?request_id={id}")).await;
    assert_eq!(status, 200, "{found}");
    let items = found["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{found}");
    let line = &items[0];
    assert_eq!((line["status"].as_u64(), line["path"].as_str()), (Some(404), Some("/nowhere")));
    assert_eq!(
        (line["group"].as_str(), line["env"].as_str(), line["method"].as_str()),
        (Some("shop"), Some("test"), Some("GET"))
    );
    assert_eq!(line["client_ip"], "127.0.0.1");

    let (_, served) = rest.get("/access-log?group=shop&status=2xx&api=Hello").await;
    let served = served["items"].as_array().expect("items");
    assert_eq!(served.len(), 1, "{served:?}");
    assert_eq!((served[0]["api"].as_str(), served[0]["status"].as_u64()), (Some("Hello"), Some(200)));
    assert!(served[0]["api_id"].as_i64().is_some());
    let (_, all) = rest.get("/access-log?limit=1").await;
    assert_eq!(all["items"][0]["request_id"], id.as_str(), "newest first");

    let (status, refused) = rest.get("/access-log?status=9xx&limit=5000").await;
    assert_eq!(status, 422, "{refused}");
    let fields: Vec<&str> =
        refused["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["status", "limit"]);
}

#[tokio::test]
async fn a_node_keeps_the_access_log_lines_it_is_configured_for_the_newest() {
    // GANTRY_ACCESS_LOG_LINES=3: five requests leave their three newest lines, newest first.
    let app = crate::helpers::spawn_app_with(|settings| settings.access_log_lines = 3).await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    rest.create_api("shop", json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"}})).await;
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "mock"})).await;

    let mut ids = Vec::new();
    for n in 0..5 {
        let answer = app.call_gateway(reqwest::Method::GET, "shop.localhost", "TEST", &format!("/hello?n={n}")).await;
        assert_eq!(answer.status(), 200);
        ids.push(answer.headers()["x-ca-request-id"].to_str().expect("ascii").to_owned());
    }
    let (status, found) = rest.get("/access-log?limit=100").await;
    assert_eq!(status, 200, "{found}");
    let kept: Vec<&str> =
        found["items"].as_array().expect("items").iter().filter_map(|line| line["request_id"].as_str()).collect();
    assert_eq!(kept, [ids[4].as_str(), ids[3].as_str(), ids[2].as_str()], "{found}");
}

#[tokio::test]
async fn a_line_keeps_the_name_it_was_served_under_and_a_hostile_method_or_path_is_logged_cut() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    let api = rest.create_api("shop", json!({"name": "Hello", "request": {"method": "ANY", "path": "/hello"}})).await;
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "mock"})).await;
    let id_of = |answer: &reqwest::Response| answer.headers()["x-ca-request-id"].to_str().expect("ascii").to_owned();
    let first = app.call_gateway(reqwest::Method::GET, "shop.localhost", "TEST", "/hello").await;
    assert_eq!(first.status(), 200);

    // Renamed and released again: the old line keeps the old name, the new one has the new.
    let renamed = json!({"name": "Greeting", "request": {"method": "ANY", "path": "/hello"}});
    let (status, body) = rest.put(&format!("/groups/shop/apis/{}", api.id), renamed).await;
    assert_eq!(status, 200, "{body}");
    rest.freeze("shop", "2").await;
    rest.release("shop", "test", "2", json!({"type": "mock"})).await;
    let purge = reqwest::Method::from_bytes(b"PURGE").expect("a method");
    let second = app.call_gateway(purge, "shop.localhost", "TEST", "/hello").await;
    assert_eq!(second.status(), 200);
    let (_, by_id) = rest.get(&format!("/access-log?api={}", api.id)).await;
    let lines: Vec<(&str, &str, &str)> = by_id["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|l| {
            (
                l["request_id"].as_str().unwrap_or(""),
                l["api"].as_str().unwrap_or(""),
                l["method"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(lines, [(&*id_of(&second), "Greeting", "PURGE"), (&*id_of(&first), "Hello", "GET")], "{by_id}");
    let (_, by_old_name) = rest.get("/access-log?api=Hello").await;
    assert_eq!(by_old_name["items"].as_array().map(Vec::len), Some(1), "{by_old_name}");

    // A caller's 8 KiB path is kept to 4 KiB, marked as cut; the line is found whole.
    let long = format!("/{}", "a".repeat(8 * 1024));
    let cut = app.call_gateway(reqwest::Method::GET, "shop.localhost", "TEST", &long).await;
    assert_eq!(cut.status(), 404);
    let (_, found) = rest.get(&format!("/access-log?request_id={}", id_of(&cut))).await;
    let path = found["items"][0]["path"].as_str().expect("a path");
    assert!(path.ends_with('…') && long.starts_with(path.trim_end_matches('…')), "{} bytes", path.len());
    assert!(path.len() <= 4096 + '…'.len_utf8(), "{} bytes", path.len());
    assert_eq!((found["items"][0]["status"].as_u64(), found["items"][0]["group"].as_str()), (Some(404), Some("shop")));
}
