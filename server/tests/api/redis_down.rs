//! When the cluster's Redis stops answering: signed requests are refused (503
//! `SharedStateUnavailable`: a replay must never pass), throttled APIs let requests through,
//! and both come back when Redis does. Needs `GANTRY_TEST_REDIS_URL` (the PostgreSQL pass of
//! `scripts/test.sh`); Redis is reached through a forwarder the test cuts.

use crate::cluster::Cuttable;
use crate::helpers::spawn_app_with;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_down_signed_requests_fail_closed_and_throttling_fails_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = crate::helpers::redis_database(dir.path()).await.expect("GANTRY_TEST_REDIS_URL is not set");
    let (server, database) = redis.trim_start_matches("redis://").split_once('/').expect("redis://host:port/db");
    let proxy = Cuttable::to(server.to_owned()).await;
    let through = format!("redis://{}/{database}", proxy.address);
    let app = spawn_app_with(move |settings| settings.redis_url = Some(through)).await;
    let (rest, web, _) = crate::apps::signed_petstore(&app).await;

    // An unsigned API with a throttling policy bound, beside the signed ones.
    let open_api =
        rest.create_api("petstore", json!({"name": "Open", "request": {"method": "GET", "path": "/open"}})).await;
    rest.freeze("petstore", "2").await;
    let backend = rest.get("/groups/petstore/deployments").await.1[0]["backend"].clone();
    rest.release("petstore", "test", "2", backend).await;
    let policy = json!({"name": "limit", "type": "throttling",
                        "config": {"unit": "minute", "api_limit": 1000, "app_limit": null, "special_apps": []}});
    let (status, body) = rest.post("/policies", policy).await;
    assert_eq!(status, 201, "{body}");
    let binding = json!({"group": "petstore", "api": open_api.id, "env": "test"});
    let (status, body) = rest.post("/policies/limit/bindings", binding).await;
    assert_eq!(status, 201, "{body}");

    let signed = || crate::apps::signed_get(&app, &web, "/pets");
    let open = || app.call_gateway(reqwest::Method::GET, "petstore.localhost", "TEST", "/open");
    assert_eq!(signed().await.status(), 200);
    let answer = open().await;
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().contains_key("ratelimit-remaining"), "the throttling counter runs on Redis");

    proxy.cut();
    let refused = signed().await;
    assert_eq!(refused.status(), 503, "a signed request is refused while Redis is down");
    assert_eq!(refused.headers()["x-ca-error-code"], "SharedStateUnavailable");
    assert_eq!(open().await.status(), 200, "a throttled API lets requests through while Redis is down");

    proxy.restore();
    let start = std::time::Instant::now();
    loop {
        if signed().await.status() == 200 {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(10), "signed requests never came back");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
