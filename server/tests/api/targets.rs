//! Backends with several targets through the real gateway (issue 25): weighted balancing over
//! thousands of requests, a target killed under keep-alive load without a failed request, its
//! return, the active health check, `/metrics`, and the list form in releases, services and
//! API definitions, hostile lists included.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use reqwest::Method;
use serde_json::json;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HOST: &str = "petstore.localhost";

/// A keep-alive HTTP/1.1 backend that answers each request with its name; `GET /healthz`
/// answers `health` (a status that can change). Aborting `task` kills it and every
/// connection it holds, as a crashed process would.
struct Target {
    url: String,
    name: &'static str,
    health: Arc<AtomicU16>,
    probes: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

async fn target(name: &'static str) -> Target {
    target_at("127.0.0.1:0".parse().expect("addr"), name).await
}

async fn target_at(address: std::net::SocketAddr, name: &'static str) -> Target {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).expect("reuse");
    socket.bind(address).expect("bind");
    let listener = socket.listen(1024).expect("listen");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (health, probes) = (Arc::new(AtomicU16::new(200)), Arc::new(AtomicUsize::new(0)));
    let (status, probed) = (health.clone(), probes.clone());
    let task = tokio::spawn(async move {
        let mut open = tokio::task::JoinSet::new();
        while let Ok((mut stream, _)) = listener.accept().await {
            let (status, probed) = (status.clone(), probed.clone());
            open.spawn(async move {
                let mut pending = Vec::new();
                let mut buf = [0u8; 8192];
                loop {
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                        pending.drain(..end + 4);
                        let answer = if head.starts_with("GET /healthz ") {
                            probed.fetch_add(1, Ordering::SeqCst);
                            format!("HTTP/1.1 {} X\r\ncontent-length: 0\r\n\r\n", status.load(Ordering::SeqCst))
                        } else {
                            let host = head
                                .lines()
                                .find_map(|l| l.strip_prefix("host: ").or_else(|| l.strip_prefix("Host: ")))
                                .unwrap_or("-")
                                .to_owned();
                            let body = format!("{name} {host}");
                            format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len())
                        };
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => pending.extend_from_slice(&buf[..n]),
                    }
                }
            });
        }
    });
    Target { url, name, health, probes, task }
}

impl Target {
    fn address(&self) -> std::net::SocketAddr {
        self.url.trim_start_matches("http://").parse().expect("addr")
    }
}

/// petstore with GET /pets (its own backend: the release's address) live on Test.
async fn released(app: &TestApp, address: serde_json::Value) -> serde_json::Value {
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    rest.create_api("petstore", json!({"name": "Pets", "request": {"method": "GET", "path": "/pets"}})).await;
    rest.freeze("petstore", "1.0.0").await;
    let (status, body) = rest
        .put(
            "/groups/petstore/deployments/test",
            json!({"version": "1.0.0", "backend": {"type": "http", "address": address}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `n` GETs of /pets from `tasks` keep-alive clients at once: every answer's body, and the
/// statuses that were not 200.
async fn load(app: &TestApp, tasks: usize, n: usize) -> (Vec<String>, Vec<u16>) {
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let gateway = app.gateway.clone();
        running.spawn(async move {
            let client = reqwest::Client::new();
            let (mut bodies, mut failed) = (Vec::new(), Vec::new());
            for _ in 0..n / tasks {
                let response = client
                    .get(format!("{gateway}/pets"))
                    .header("host", HOST)
                    .header("x-ca-stage", "TEST")
                    .send()
                    .await
                    .expect("gateway");
                let status = response.status().as_u16();
                let body = response.text().await.expect("body");
                if status == 200 {
                    bodies.push(body);
                } else {
                    failed.push(status);
                }
            }
            (bodies, failed)
        });
    }
    let (mut bodies, mut failed) = (Vec::new(), Vec::new());
    while let Some(done) = running.join_next().await {
        let (b, f) = done.expect("task");
        bodies.extend(b);
        failed.extend(f);
    }
    (bodies, failed)
}

fn share(bodies: &[String], name: &str) -> f64 {
    bodies.iter().filter(|b| b.split(' ').next() == Some(name)).count() as f64 / bodies.len() as f64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weighted_targets_share_four_thousand_requests_within_two_percent_each_with_its_host() {
    let app = spawn_app().await;
    let (a, b) = (target("a").await, target("b").await);
    let shown = released(&app, json!([{"url": a.url, "weight": 3}, {"url": b.url}])).await;
    // Shown back as the list it was given.
    assert_eq!(shown["backend"]["address"], json!([{"url": a.url, "weight": 3}, {"url": b.url}]), "{shown}");
    let (bodies, failed) = load(&app, 8, 4_000).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert!((share(&bodies, "a") - 0.75).abs() <= 0.02, "a had {}", share(&bodies, "a"));
    assert!((share(&bodies, "b") - 0.25).abs() <= 0.02, "b had {}", share(&bodies, "b"));
    // Each target is called with its own authority as `Host`.
    let host_of = |t: &Target| t.url.trim_start_matches("http://").to_owned();
    assert!(bodies.iter().all(|body| *body == format!("a {}", host_of(&a)) || *body == format!("b {}", host_of(&b))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_killed_under_load_fails_no_request_is_ejected_and_returns_when_it_recovers() {
    let app = spawn_app_with(|s| s.upstream_eject_ms = 500).await;
    let (a, b) = (target("a").await, target("b").await);
    released(&app, json!(format!("{}, {}", a.url, b.url))).await;
    let (bodies, failed) = load(&app, 4, 400).await;
    assert!(failed.is_empty() && share(&bodies, "a") > 0.4, "{failed:?}");

    // Killed while keep-alive connections to it are pooled, with load running.
    let killing = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        a.task.abort();
    };
    let ((bodies, failed), ()) = tokio::join!(load(&app, 4, 2_000), killing);
    assert!(failed.is_empty(), "retries on the other target: no failed request, got {failed:?}");
    assert!(share(&bodies, "b") > 0.5);
    app.login_as_admin().await;
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    let line = |url: &str, state: &str, value: u8| {
        format!("gantry_upstream_target_healthy{{target=\"{url}\",state=\"{state}\"}} {value}")
    };
    assert!(metrics.contains(&line(&a.url, "ejected", 0)), "{metrics}");
    assert!(metrics.contains(&line(&b.url, "healthy", 1)), "{metrics}");
    assert!(metrics.contains(&format!("gantry_upstream_connections{{target=\"{}\",state=\"open\"}}", b.url)));

    // Back on its port: after the back-off it takes its share again.
    let again = target_at(a.address(), "a").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (bodies, failed) = load(&app, 4, 400).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert!(share(&bodies, again.name) > 0.3, "a had {}", share(&bodies, "a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_active_health_check_takes_a_failing_target_out_and_brings_it_back() {
    let app = spawn_app_with(|s| {
        s.health_check_path = gantry::config::CheckPath(Some("/healthz".into()));
        s.health_check_interval_ms = 100;
    })
    .await;
    let (a, b) = (target("a").await, target("b").await);
    released(&app, json!([{"url": a.url}, {"url": b.url}])).await;
    a.health.store(500, Ordering::SeqCst);
    // Three failed probes in a row (100 ms apart) take it out.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (bodies, failed) = load(&app, 1, 20).await;
        assert!(failed.is_empty(), "{failed:?}");
        if share(&bodies, "a") == 0.0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "a never went down");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(a.probes.load(Ordering::SeqCst) >= 3);
    a.health.store(204, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (bodies, _) = load(&app, 1, 20).await;
    assert!(share(&bodies, "a") >= 0.4, "two good probes bring it back: {}", share(&bodies, "a"));
    drop(b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_target_is_down_the_gateway_answers_no_healthy_upstream_without_waiting() {
    let app = spawn_app_with(|s| s.upstream_eject_failures = 1).await;
    let (a, b) = (target("a").await, target("b").await);
    released(&app, json!([{"url": a.url}, {"url": b.url}])).await;
    a.task.abort();
    b.task.abort();
    let _ = load(&app, 1, 4).await;
    let started = std::time::Instant::now();
    let response = app.call_gateway(Method::GET, HOST, "TEST", "/pets").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["x-ca-error-code"], "NoHealthyUpstream");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_lists_are_accepted_wherever_an_address_is_and_hostile_ones_refused_by_field() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    // An API's own backend.
    let spec = json!({"name": "Own", "request": {"method": "GET", "path": "/own"},
        "backend": {"unified": false, "type": "http", "http": {"address": [{"url": "http://10.0.0.1:8080", "weight": 2}, {"url": "http://10.0.0.2:8080", "max_conns": 16}]}}});
    let (status, created) = rest.post("/groups/petstore/apis", spec).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["backend"]["http"]["address"],
        json!([{"url": "http://10.0.0.1:8080", "weight": 2}, {"url": "http://10.0.0.2:8080", "max_conns": 16}])
    );
    // A backend service's URL.
    let (status, body) = rest.post("/backend-services", json!({"name": "pets", "type": "http"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = rest
        .put(
            "/backend-services/pets/environments/test",
            json!({"url": "http://10.0.0.3:80 weight=5, http://10.0.0.4:80"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, service) = rest.get("/backend-services/pets").await;
    let test =
        service["environments"].as_array().expect("envs").iter().find(|e| e["env"] == "test").cloned().expect("test");
    assert_eq!(
        test["url"],
        json!([{"url": "http://10.0.0.3:80", "weight": 5}, {"url": "http://10.0.0.4:80"}]),
        "{service}"
    );

    // A configuration file writes the lists as lists, and applying it back changes nothing.
    let (status, yaml) = rest.send_text(Method::GET, "/config/export", None).await;
    assert_eq!(status, 200);
    assert!(yaml.contains("- url: http://10.0.0.3:80\n") && yaml.contains("weight: 5"), "{yaml}");
    let (status, diff) = rest.send_raw("/config/diff", yaml.clone()).await;
    assert_eq!((status, diff["different"].clone()), (200, json!(false)), "{diff}");

    // Hostile lists: each refusal names the field and the target.
    let cases = [
        (json!([{"url": "http://a"}, {"url": "file:///etc/passwd"}]), "target 2"),
        (json!([{"url": "http://a", "weight": 0}]), "weight must be"),
        (json!([{"url": "http://a"}, {"url": "http://a"}]), "listed twice"),
        (json!([]), "is required"),
        (json!((0..65).map(|i| json!({"url": format!("http://10.1.0.{i}")})).collect::<Vec<_>>()), "at most 64"),
    ];
    rest.freeze("petstore", "1.0.0").await;
    for (address, message) in cases {
        let (status, body) = rest
            .put(
                "/groups/petstore/deployments/test",
                json!({"version": "1.0.0", "backend": {"type": "http", "address": address}}),
            )
            .await;
        assert_eq!(status, 422, "{body}");
        let text = body.to_string();
        assert!(text.contains("backend.address") && text.contains(message), "{message}: {body}");
    }
    // A misspelt option is refused, not ignored.
    let (status, body) = rest
        .put(
            "/groups/petstore/deployments/test",
            json!({"version": "1.0.0", "backend": {"type": "http", "address": [{"url": "http://a", "wieght": 3}]}}),
        )
        .await;
    assert!(status == 400 || status == 422, "{status} {body}");
    let (status, body) =
        rest.put("/backend-services/pets/environments/test", json!({"url": "http://a weight=x"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("url"), "{body}");
}

/// A DNS server for one test: answers A queries for any name with `answer` (TTL 1 s), and
/// AAAA queries with nothing. Changing `answer` changes what the gateway discovers.
async fn dns_server(answer: Arc<std::sync::Mutex<Vec<std::net::Ipv4Addr>>>) -> std::net::SocketAddr {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("bind dns");
    let address = socket.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = socket.recv_from(&mut buf).await {
            let query = &buf[..n];
            if n < 12 {
                continue;
            }
            // The question: labels up to the zero length, then type and class.
            let mut end = 12;
            while end < n && query[end] != 0 {
                end += 1 + query[end] as usize;
            }
            if end + 5 > n {
                continue;
            }
            let qtype = u16::from_be_bytes([query[end + 1], query[end + 2]]);
            let question = &query[12..end + 5];
            let ips = if qtype == 1 { answer.lock().expect("answer").clone() } else { Vec::new() };
            let mut reply = Vec::with_capacity(64);
            reply.extend_from_slice(&query[..2]);
            reply.extend_from_slice(&[0x81, 0x80, 0, 1]);
            reply.extend_from_slice(&(ips.len() as u16).to_be_bytes());
            reply.extend_from_slice(&[0, 0, 0, 0]);
            reply.extend_from_slice(question);
            for ip in ips {
                reply.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4]);
                reply.extend_from_slice(&ip.octets());
            }
            let _ = socket.send_to(&reply, from).await;
        }
    });
    address
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dns_name_whose_answer_changes_moves_the_traffic_within_its_ttl() {
    // Two backends on one port, at 127.0.0.1 and 127.0.0.2 (both loopback).
    let (a, b) = loop {
        let a = target("a").await;
        let port = a.address().port();
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        if socket.bind(std::net::SocketAddr::from(([127, 0, 0, 2], port))).is_ok() {
            drop(socket);
            break (a, target_at(std::net::SocketAddr::from(([127, 0, 0, 2], port)), "b").await);
        }
    };
    let answer = Arc::new(std::sync::Mutex::new(vec![std::net::Ipv4Addr::new(127, 0, 0, 1)]));
    let dns = dns_server(answer.clone()).await;
    let app = spawn_app_with(|s| {
        s.dns_discovery = true;
        s.dns_servers = gantry::config::DnsServers(vec![dns]);
    })
    .await;
    released(&app, json!(format!("http://pets.discovery.test:{}", a.address().port()))).await;
    // Until the first answer is in, the name does not resolve: wait for it.
    let until = |wanted: &'static str| {
        let app = &app;
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let (bodies, _) = load(app, 1, 10).await;
                if bodies.len() == 10 && share(&bodies, wanted) == 1.0 {
                    return;
                }
                assert!(std::time::Instant::now() < deadline, "traffic never all went to {wanted}: {bodies:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    until("a").await;
    // The answer changes: within its TTL (1 s) and a lookup, every request goes to b.
    *answer.lock().expect("answer") = vec![std::net::Ipv4Addr::new(127, 0, 0, 2)];
    let changed = std::time::Instant::now();
    until("b").await;
    assert!(changed.elapsed() < Duration::from_secs(3), "{:?}", changed.elapsed());
    // Both addresses: both take traffic, each named by the host.
    *answer.lock().expect("answer") =
        vec![std::net::Ipv4Addr::new(127, 0, 0, 1), std::net::Ipv4Addr::new(127, 0, 0, 2)];
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (bodies, failed) = load(&app, 2, 100).await;
    assert!(failed.is_empty(), "{failed:?}");
    assert!(share(&bodies, "a") > 0.3 && share(&bodies, "b") > 0.3, "{bodies:?}");
    assert!(
        bodies.iter().all(|body| body.ends_with(&format!("pets.discovery.test:{}", a.address().port()))),
        "{bodies:?}"
    );
    drop(b);
}

/// A backend that answers every request 503, as one overloaded or restarting would.
async fn unavailable_backend() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new().fallback(|| async { axum::http::StatusCode::SERVICE_UNAVAILABLE });
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// `n` POSTs of distinct JSON bodies to `path` from 4 clients at once: the statuses, and
/// whether every 200 echoed its own body.
async fn post_load(app: &TestApp, path: &'static str, n: usize) -> (Vec<u16>, bool) {
    let mut running = tokio::task::JoinSet::new();
    for task in 0..4 {
        let gateway = app.gateway.clone();
        running.spawn(async move {
            let client = reqwest::Client::new();
            let mut seen = Vec::new();
            for i in 0..n / 4 {
                let sent = format!("{{\"order\": {}}}", task * 1_000 + i);
                let response = client
                    .post(format!("{gateway}{path}"))
                    .header("host", HOST)
                    .header("x-ca-stage", "TEST")
                    .header("content-type", "application/json")
                    .body(sent.clone())
                    .send()
                    .await
                    .expect("gateway");
                let status = response.status().as_u16();
                let echoed: serde_json::Value = match status {
                    200 => response.json().await.expect("echo"),
                    _ => serde_json::Value::Null,
                };
                seen.push((status, status != 200 || echoed["body"] == sent));
            }
            seen
        });
    }
    let (mut statuses, mut bodies_kept) = (Vec::new(), true);
    while let Some(done) = running.join_next().await {
        for (status, kept) in done.expect("task") {
            statuses.push(status);
            bodies_kept &= kept;
        }
    }
    (statuses, bodies_kept)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_opts_in_has_its_posts_retried_on_another_target_with_their_bodies() {
    // Passive ejection off: every POST meets the 503 target in its turn.
    let app = spawn_app_with(|s| s.upstream_eject_failures = 0).await;
    let (sick, echo) = (unavailable_backend().await, crate::helpers::spawn_echo_backend().await);
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    let opted = json!({"name": "Order", "request": {"method": "POST", "path": "/orders"},
                       "backend": {"http": {"retry_non_idempotent": true}}});
    let api = rest.create_api("petstore", opted).await;
    rest.create_api("petstore", json!({"name": "Pay", "request": {"method": "POST", "path": "/pay"}})).await;
    // The setting is kept, and written only when on.
    let (_, shown) = rest.get(&format!("/groups/petstore/apis/{}", api.id)).await;
    assert_eq!(shown["backend"]["http"]["retry_non_idempotent"], true, "{shown}");
    assert!(api.spec.backend.http.retry_non_idempotent);
    // A careless value is refused by name, not taken as off.
    let careless = json!({"name": "Bad", "request": {"method": "POST", "path": "/bad"},
                          "backend": {"http": {"retry_non_idempotent": "yes"}}});
    let (status, refused) = rest.post("/groups/petstore/apis", careless).await;
    assert!(status == 400 || status == 422, "{status} {refused}");
    assert!(refused.to_string().contains("retry_non_idempotent"), "{refused}");
    rest.freeze("petstore", "1.0.0").await;
    let release = json!({"version": "1.0.0", "backend": {"type": "http", "address": format!("{sick}, {echo}")}});
    let (status, body) = rest.put("/groups/petstore/deployments/test", release).await;
    assert_eq!(status, 200, "{body}");

    let (statuses, kept) = post_load(&app, "/orders", 200).await;
    assert!(statuses.iter().all(|s| *s == 200), "every POST went on to the well target: {statuses:?}");
    assert!(kept, "each retried POST reached the backend with its own body");
    // Without the opt-in a POST is never sent twice: those that met the sick target fail.
    let (statuses, _) = post_load(&app, "/pay", 200).await;
    let failed = statuses.iter().filter(|s| **s == 503).count();
    assert!((60..=140).contains(&failed), "about half of 200 met the 503 target: {failed}");
}
