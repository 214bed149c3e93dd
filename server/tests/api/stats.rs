//! Traffic over time: what the gateway answered is what `GET /groups/{group}/stats` counts,
//! minute by minute; latency percentiles are within the sketch's documented error of the
//! true latencies (the gateway's own, from the access log) for a backend that sleeps known
//! times; backend health counts a dead backend's failures; a wrong query is named.

use crate::helpers::spawn_app;
use domain::stats::RELATIVE_ACCURACY;
use serde_json::{json, Value};

/// A backend on port 0: `/work?ms=N` sleeps N ms and answers 200; `/fail` answers 500.
async fn spawn_timed_backend() -> String {
    use axum::extract::Request;
    async fn answer(request: Request) -> (axum::http::StatusCode, &'static str) {
        if request.uri().path() == "/fail" {
            return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "failed");
        }
        let ms = request
            .uri()
            .query()
            .and_then(|q| q.strip_prefix("ms="))
            .and_then(|ms| ms.parse::<u64>().ok())
            .unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
        (axum::http::StatusCode::OK, "done")
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind backend");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, axum::Router::new().fallback(answer)).await });
    address
}

fn unix_now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs_f64()
}

/// Waits until the current minute has at least `seconds` left, so the traffic sent next
/// lands in one minute bucket.
async fn start_of_a_quiet_minute(seconds: f64) {
    let left = 60.0 - unix_now() % 60.0;
    if left < seconds {
        tokio::time::sleep(std::time::Duration::from_secs_f64(left + 0.2)).await;
    }
}

fn true_quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[(q * (sorted.len() - 1) as f64).floor() as usize]
}

#[tokio::test]
async fn counters_match_what_was_sent_per_minute_and_percentiles_are_within_the_sketch_error() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let backend = spawn_timed_backend().await;
    rest.create_group("shop").await;
    let work = rest.create_api("shop", json!({"name": "Work", "request": {"method": "GET", "path": "/work"}})).await;
    let fail = rest.create_api("shop", json!({"name": "Fail", "request": {"method": "GET", "path": "/fail"}})).await;
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "http", "address": backend})).await;
    rest.release("shop", "pre", "1", json!({"type": "http", "address": "http://127.0.0.1:9"})).await;

    start_of_a_quiet_minute(40.0).await;
    let minute = (unix_now() as i64) / 60 * 60;
    // 60 calls of Work (30 at 20 ms, 24 at 60 ms, 6 at 150 ms), 7 of Fail, 2 that match no
    // API, 3 to a dead backend in Pre-release; six at a time.
    let mut calls: Vec<(&str, String)> = Vec::new();
    for (count, ms) in [(30, 20), (24, 60), (6, 150)] {
        calls.extend((0..count).map(|_| ("TEST", format!("/work?ms={ms}"))));
    }
    calls.extend((0..7).map(|_| ("TEST", "/fail".to_owned())));
    calls.extend((0..2).map(|_| ("TEST", "/nowhere".to_owned())));
    calls.extend((0..3).map(|_| ("PRE", "/work?ms=1".to_owned())));
    for batch in calls.chunks(6) {
        let sent: Vec<_> = batch
            .iter()
            .map(|(stage, path)| {
                let request = reqwest::Client::new()
                    .get(format!("{}{path}", app.gateway))
                    .header("host", "shop.localhost")
                    .header("x-ca-stage", *stage);
                tokio::spawn(async move { request.send().await.expect("gateway request") })
            })
            .collect();
        for ((stage, path), answer) in batch.iter().zip(sent) {
            let answer = answer.await.expect("sent");
            let expected = match (*stage, path.as_str()) {
                ("PRE", _) => 502,
                (_, "/fail") => 500,
                (_, "/nowhere") => 404,
                _ => 200,
            };
            assert_eq!(answer.status(), expected, "{stage} {path}");
        }
    }
    assert_eq!((unix_now() as i64) / 60 * 60, minute, "the traffic fit in one minute");

    // Written within a few flushes (200 ms in tests).
    let stats = |query: String| {
        let rest = &rest;
        async move {
            let (status, body) = rest.get(&format!("/groups/shop/stats?{query}")).await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    let mut group = Value::Null;
    for _ in 0..50 {
        group = stats("env=test".into()).await;
        let total: u64 =
            group["buckets"].as_array().expect("buckets").iter().map(|b| b["requests"].as_u64().unwrap_or(0)).sum();
        if total >= 69 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let buckets = group["buckets"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 60, "an hour of minutes");
    assert_eq!(group["bucket_seconds"], 60);
    let busy: Vec<&Value> = buckets.iter().filter(|b| b["requests"].as_u64() != Some(0)).collect();
    assert_eq!(busy.len(), 1, "one minute had traffic: {busy:?}");
    let bucket = busy[0];
    assert_eq!(bucket["start_unix"].as_i64(), Some(minute));
    assert_eq!(
        [&bucket["requests"], &bucket["status_2xx"], &bucket["status_4xx"], &bucket["status_5xx"]],
        [&json!(69), &json!(60), &json!(2), &json!(7)],
        "the whole group in Test: {bucket}"
    );
    // Per version: every request is some version's (or `-`'s), one point per bucket.
    let versions = group["versions"].as_array().expect("versions");
    let served: u64 = versions.iter().map(|v| v["requests"].as_u64().unwrap_or(0)).sum();
    assert_eq!(served, 69, "{versions:?}");
    assert!(
        versions.iter().any(|v| v["version"] == "1" && v["points"].as_array().map(Vec::len) == Some(60)),
        "{versions:?}"
    );
    let events = group["events"].as_array().expect("events");
    assert!(
        events.iter().any(|e| e["action"] == "release" && e["version"] == "1" && e["env"] == "test"),
        "the release is a marker: {events:?}"
    );

    // One API: its own counts and percentiles.
    let one = stats(format!("env=test&api={}", work.id)).await;
    let bucket =
        one["buckets"].as_array().expect("buckets").iter().find(|b| b["start_unix"] == minute).expect("bucket").clone();
    assert_eq!((bucket["requests"].as_u64(), bucket["status_5xx"].as_u64()), (Some(60), Some(0)), "{bucket}");
    let failing = stats(format!("env=test&api={}", fail.id)).await;
    let failed: u64 =
        failing["buckets"].as_array().expect("buckets").iter().map(|b| b["status_5xx"].as_u64().unwrap_or(0)).sum();
    assert_eq!(failed, 7);

    let (_, lines) = rest.get("/access-log?api=Work&env=test&limit=1000").await;
    let mut truth: Vec<f64> =
        lines["items"].as_array().expect("items").iter().filter_map(|l| l["latency_ms"].as_f64()).collect();
    assert_eq!(truth.len(), 60);
    truth.sort_by(|a, b| a.partial_cmp(b).expect("numbers"));
    for (field, q) in [("p50_ms", 0.50), ("p95_ms", 0.95), ("p99_ms", 0.99)] {
        let estimate = bucket[field].as_f64().expect("a percentile");
        let real = true_quantile(&truth, q);
        // The sketch's bound, plus the microseconds between the two readings of the clock.
        assert!(
            (estimate - real).abs() <= RELATIVE_ACCURACY * real + 0.1,
            "{field}: {estimate} ms vs the true {real} ms"
        );
    }
    assert!(bucket["p50_ms"].as_f64().expect("p50") >= 20.0, "the backend slept 20 ms at least");
    assert!(bucket["p99_ms"].as_f64().expect("p99") >= 150.0);

    // Every API's totals, busiest first; requests no API matched are listed apart.
    let (status, apis) = rest.get("/groups/shop/stats/apis?env=test").await;
    assert_eq!(status, 200, "{apis}");
    let items = apis["items"].as_array().expect("items");
    assert_eq!(items[0]["api"], "Work");
    assert!(items.iter().any(|a| a["api_id"].is_null() && a["requests"] == 2), "{items:?}");

    // The dead backend of Pre-release: three calls, three failures.
    let (status, health) = rest.get("/backend-health?minutes=5").await;
    assert_eq!(status, 200, "{health}");
    let of = |origin: &str| health["items"].as_array().expect("items").iter().find(|h| h["origin"] == origin).cloned();
    let dead = of("http://127.0.0.1:9").expect("the dead backend is listed");
    assert_eq!((dead["requests"].as_u64(), dead["upstream_errors"].as_u64()), (Some(3), Some(3)), "{dead}");
    let alive = of(&domain::stats::origin_of(&backend).expect("origin")).expect("the live backend is listed");
    assert_eq!((alive["requests"].as_u64(), alive["upstream_errors"].as_u64()), (Some(67), Some(0)), "{alive}");
    app.stop().await;
}

#[tokio::test]
async fn wrong_queries_are_named_and_unknown_groups_are_not_found() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    let (status, refused) = rest.get("/groups/shop/stats?env=staging&api=x&range=1y").await;
    assert_eq!(status, 422, "{refused}");
    let fields: Vec<&str> =
        refused["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["env", "api", "range"]);
    let (status, _) = rest.get("/groups/nope/stats").await;
    assert_eq!(status, 404);
    let (status, refused) = rest.get("/backend-health?minutes=0").await;
    assert_eq!(status, 422, "{refused}");
    let (status, week) = rest.get("/groups/shop/stats?range=7d").await;
    assert_eq!(status, 200, "{week}");
    assert_eq!((week["buckets"].as_array().map(Vec::len), week["bucket_seconds"].as_i64()), (Some(168), Some(3600)));
}
