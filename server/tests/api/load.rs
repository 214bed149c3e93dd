//! A bounded load test on loopback (issue 17): thousands of idle and slow callers hold
//! connections while a normal caller keeps calling; the normal caller stays fast and both
//! listeners answer. Everything it opens it closes.

use crate::helpers::spawn_app_with;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const IDLE: usize = 2_000;
const SLOW_BODIES: usize = 200;
const CALLS: usize = 300;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_callers_do_not_slow_down_a_normal_one() {
    // Timeouts longer than the test, so the held connections stay held throughout.
    let app = spawn_app_with(|s| {
        s.header_timeout_s = 120;
        s.body_timeout_s = 120;
    })
    .await;
    let rest = app.rest().await;
    rest.create_group("load").await;
    let ping = json!({"name": "Ping", "request": {"method": "GET", "path": "/ping"},
        "backend": {"unified": false, "type": "mock", "mock": {"body": "pong"}}});
    assert_eq!(rest.post("/groups/load/apis", ping).await.0, 201);
    let form = json!({"name": "Form", "request": {"method": "POST", "path": "/form",
        "params": [{"name": "note", "in": "form"}]},
        "backend": {"unified": false, "type": "mock", "mock": {"body": "ok"}}});
    assert_eq!(rest.post("/groups/load/apis", form).await.0, 201);
    rest.freeze("load", "1").await;
    let release = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/load/deployments/test", release).await.0, 200);
    let address = app.gateway.trim_start_matches("http://").to_owned();

    let mut held: Vec<TcpStream> = Vec::with_capacity(IDLE + SLOW_BODIES);
    for _ in 0..IDLE {
        held.push(TcpStream::connect(&address).await.expect("an idle connection"));
    }
    let head = "POST /form HTTP/1.1\r\nHost: load.localhost\r\nX-Ca-Stage: TEST\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nnote=";
    for _ in 0..SLOW_BODIES {
        let mut stream = TcpStream::connect(&address).await.expect("a slow-body connection");
        stream.write_all(head.as_bytes()).await.expect("a head and the start of a body");
        held.push(stream);
    }

    let client = reqwest::Client::new();
    let mut latencies = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        let response = client
            .get(format!("{}/ping", app.gateway))
            .header("host", "load.localhost")
            .header("x-ca-stage", "TEST")
            .send()
            .await
            .expect("the normal caller is answered");
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.expect("body"), "pong");
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let p99 = latencies[CALLS * 99 / 100];
    assert!(p99 < Duration::from_millis(50), "p99 {p99:?} with {} connections held", held.len());
    let console = app.get("/login").await;
    assert_eq!(console.status(), 200, "the console answers while the gateway holds them");

    held.clear();
}
