//! Cluster mode with real processes, as `scripts/cluster.sh` runs it: one console node and
//! two gateway nodes (`gantry serve --role …`) on one PostgreSQL and one Redis.
//!
//! They need `GANTRY_TEST_POSTGRES_URL` and `GANTRY_TEST_REDIS_URL` (`scripts/test.sh` starts
//! both servers and runs these in its PostgreSQL pass; its SQLite pass leaves them out).

use crate::helpers::{spawn_echo_backend, RestClient};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const GANTRY: &str = env!("CARGO_BIN_EXE_gantry");
const HOST: &str = "fleet.localhost";
/// Release → served on every gateway node within this (the issue's acceptance).
const WITHIN: Duration = Duration::from_secs(1);

fn required(variable: &str) -> String {
    std::env::var(variable)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| panic!("{variable} is not set: run the cluster tests through scripts/test.sh"))
}

/// A fresh PostgreSQL database and Redis database for one cluster.
async fn stores() -> (String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let _ = required("GANTRY_TEST_POSTGRES_URL");
    let _ = required("GANTRY_TEST_REDIS_URL");
    let database = crate::helpers::postgres_database(dir.path()).await.expect("a PostgreSQL database");
    let redis = crate::helpers::redis_database(dir.path()).await.expect("a Redis database");
    (database, redis)
}

fn free_port() -> u16 {
    // Below Linux's ephemeral range (32768–60999), where the other tests' port-0 listeners
    // and outgoing connections take theirs: a port found free here is not taken by them
    // before the node binds it.
    use std::hash::{BuildHasher, Hasher};
    loop {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(std::process::id().into());
        let port = 20_000 + (hasher.finish() % 10_000) as u16;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A `gantry serve` process and the addresses it logged.
struct Node {
    child: Child,
    console: String,
    gateway: String,
    admin: String,
    _data: tempfile::TempDir,
}

impl Node {
    fn start(role: &str, database: &str, redis: &str, extra: &[(&str, String)]) -> Node {
        let data = tempfile::tempdir().expect("tempdir");
        let mut command = Command::new(GANTRY);
        command
            .arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("GANTRY_ROLE", role)
            .env("GANTRY_DATA_DIR", data.path())
            .env("GANTRY_DATABASE_URL", database)
            .env("GANTRY_REDIS_URL", redis)
            .env("GANTRY_SECRET_KEY", "11".repeat(32))
            .env("GANTRY_ADMIN_PASSWORD", "cluster-admin-password")
            .env("GANTRY_CONSOLE_ADDR", "127.0.0.1:0")
            .env("GANTRY_GATEWAY_ADDR", "127.0.0.1:0")
            .env("GANTRY_GATEWAY_TLS_ADDR", "127.0.0.1:0")
            .env("GANTRY_ADMIN_ADDR", "127.0.0.1:0")
            .env("GANTRY_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (name, value) in extra {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start gantry");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = send.send(line);
            }
        });
        let line = loop {
            let line = lines.recv_timeout(Duration::from_secs(60)).expect("gantry did not say it is listening");
            if line.contains("Gantry is listening") {
                break line;
            }
        };
        let field = |name: &str| {
            line.split(&format!("{name}="))
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or("-")
                .to_owned()
        };
        Node { child, console: field("console"), gateway: field("gateway"), admin: field("admin"), _data: data }
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, and wait for the graceful stop.
    fn stop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let response = reqwest::Client::new()
            .get(format!("http://{}{path}", self.gateway))
            .header("host", HOST)
            .header("x-ca-stage", "TEST")
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .expect("gateway request");
        (response.status().as_u16(), response.text().await.unwrap_or_default())
    }

    async fn health(&self) -> Value {
        reqwest::get(format!("http://{}/health", self.admin)).await.expect("health").json().await.expect("JSON")
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How long until `node` answers `path` with `status` (panics after `limit`).
async fn served_within(node: &Node, path: &str, status: u16, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let (got, _) = node.get(path).await;
        if got == status {
            return start.elapsed();
        }
        assert!(start.elapsed() < limit, "{} answered {got} for {path}, not {status}, after {limit:?}", node.gateway);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A TCP forwarder (to PostgreSQL or Redis) that a test can cut (every connection dropped,
/// new ones refused) and restore: a node "cut from PostgreSQL", or Redis gone.
pub(crate) struct Cuttable {
    pub(crate) address: String,
    open: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Cuttable {
    pub(crate) async fn to(target: String) -> Cuttable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let open = Arc::new(AtomicBool::new(true));
        let pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (accepting, tracked) = (open.clone(), pipes.clone());
        tokio::spawn(async move {
            while let Ok((mut caller, _)) = listener.accept().await {
                if !accepting.load(Ordering::SeqCst) {
                    continue;
                }
                let target = target.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut caller, &mut server).await;
                    }
                });
                tracked.lock().expect("lock").push(pipe);
            }
        });
        Cuttable { address, open, pipes }
    }

    pub(crate) fn cut(&self) {
        self.open.store(false, Ordering::SeqCst);
        for pipe in self.pipes.lock().expect("lock").drain(..) {
            pipe.abort();
        }
    }

    pub(crate) fn restore(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

/// The database URL with its host and port replaced by `address`.
fn through(database: &str, address: &str) -> String {
    let (scheme, rest) = database.split_once("://").expect("a URL");
    let (credentials, rest) = rest.split_once('@').expect("user@");
    let (_, path) = rest.split_once('/').expect("/database");
    format!("{scheme}://{credentials}@{address}/{path}")
}

/// A bearer token made by `gantry token create` on the cluster's database.
fn token(database: &str) -> String {
    let output = Command::new(GANTRY)
        .args(["token", "create", "--name", "cluster-test"])
        .env("GANTRY_DATABASE_URL", database)
        .output()
        .expect("token create");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Group `fleet` with APIs `V1` (`/v1`) frozen as version 1 and `V1` + `V2` as version 2,
/// against an echo backend; version 1 released to Test.
async fn fleet(rest: &RestClient) -> Value {
    let backend = json!({"type": "http", "address": spawn_echo_backend().await});
    rest.create_group("fleet").await;
    rest.create_api("fleet", json!({"name": "V1", "request": {"method": "GET", "path": "/v1"}})).await;
    rest.freeze("fleet", "1").await;
    rest.create_api("fleet", json!({"name": "V2", "request": {"method": "GET", "path": "/v2"}})).await;
    rest.freeze("fleet", "2").await;
    backend
}

async fn nodes(rest: &RestClient) -> Value {
    let (status, nodes) = rest.get("/nodes").await;
    assert_eq!(status, 200, "{nodes}");
    nodes
}

/// Waits (up to 5 s) until every node in `nodes` has applied the current revision.
async fn in_sync(rest: &RestClient, nodes: &[&Node]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let current = self::nodes(rest).await["current_revision"].as_i64().expect("revision");
        let mut applied = Vec::new();
        for node in nodes {
            applied.push(node.health().await["applied_revision"].as_i64().unwrap_or(-1));
        }
        if applied.iter().all(|a| *a >= current) {
            return;
        }
        assert!(Instant::now() < deadline, "nodes at {applied:?}, current {current}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn node_of<'a>(nodes: &'a Value, address: &str) -> &'a Value {
    nodes["items"].as_array().expect("items").iter().find(|n| n["address"] == address).expect("the node is listed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_switches_and_offlines_reach_both_gateway_nodes_within_a_second() {
    let (database, redis) = stores().await;
    let console = Node::start("console", &database, &redis, &[]);
    let a = Node::start("gateway", &database, &redis, &[]);
    let b = Node::start("gateway", &database, &redis, &[]);
    assert_eq!((console.gateway.as_str(), a.console.as_str()), ("-", "-"), "each role serves only its part");
    let rest = RestClient::new(&format!("http://{}", console.console), &token(&database));
    let backend = fleet(&rest).await;

    let released = rest.release("fleet", "test", "1", backend.clone()).await;
    for node in [&a, &b] {
        let took = served_within(node, "/v1", 200, WITHIN).await;
        eprintln!("release served by {} after {took:?}", node.gateway);
    }
    let rollout = released.rollout.expect("a release says where it is served");
    assert_eq!((rollout.applied.len(), rollout.pending.len()), (2, 0), "{rollout:?}");

    rest.release("fleet", "test", "2", backend).await;
    for node in [&a, &b] {
        served_within(node, "/v2", 200, WITHIN).await;
    }
    let (status, _) = rest.delete("/groups/fleet/deployments/test").await;
    assert_eq!(status, 204);
    for node in [&a, &b] {
        served_within(node, "/v1", 404, WITHIN).await;
    }

    let listed = nodes(&rest).await;
    let current = listed["current_revision"].as_i64().expect("revision");
    assert_eq!(listed["items"].as_array().expect("items").len(), 3, "{listed}");
    for node in [&a, &b] {
        let row = node_of(&listed, &node.gateway);
        assert_eq!((row["role"].as_str(), row["stale"].as_bool()), (Some("gateway"), Some(false)), "{row}");
        assert_eq!(row["applied_revision"].as_i64(), Some(current), "{row}");
        let health = node.health().await;
        assert_eq!((health["status"].as_str(), health["shared_state"].as_str()), (Some("ok"), Some("redis")));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_node_cut_off_or_restarted_keeps_serving_and_catches_up() {
    let (database, redis) = stores().await;
    let postgres = database.split("://").nth(1).and_then(|r| r.split('@').nth(1)).and_then(|r| r.split('/').next());
    let proxy = Cuttable::to(postgres.expect("host:port").to_owned()).await;
    let console = Node::start("console", &database, &redis, &[]);
    let mut a = Node::start("gateway", &database, &redis, &[]);
    let b = Node::start("gateway", &through(&database, &proxy.address), &redis, &[]);
    let rest = RestClient::new(&format!("http://{}", console.console), &token(&database));
    let backend = fleet(&rest).await;
    rest.release("fleet", "test", "1", backend.clone()).await;
    served_within(&b, "/v1", 200, WITHIN).await;

    // Cut off, B keeps serving what it has, and is marked stale.
    proxy.cut();
    let switched = rest.release("fleet", "test", "2", backend.clone()).await;
    served_within(&a, "/v2", 200, WITHIN).await;
    assert_eq!(b.get("/v1").await.0, 200, "a node cut from the database keeps serving its snapshot");
    assert_eq!(b.get("/v2").await.0, 404, "… and cannot know of the switch");
    let rollout = switched.rollout.expect("rollout");
    assert_eq!(rollout.pending.len(), 1, "the release says which node has not applied it: {rollout:?}");
    let start = Instant::now();
    loop {
        let listed = nodes(&rest).await;
        if node_of(&listed, &b.gateway)["stale"] == true {
            assert_eq!(node_of(&listed, &a.gateway)["stale"], false, "{listed}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "B was never marked stale: {listed}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(b.health().await["status"], "degraded");

    // Back on the database: B catches up and is in sync again.
    proxy.restore();
    served_within(&b, "/v2", 200, Duration::from_secs(10)).await;
    let start = Instant::now();
    loop {
        let listed = nodes(&rest).await;
        let row = node_of(&listed, &b.gateway);
        if row["stale"] == false && row["lag"] == 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "B never caught up: {listed}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(b.health().await["status"], "ok");

    // A restarted while releases happen comes back serving the latest.
    a.kill();
    let (status, _) = rest.delete("/groups/fleet/deployments/test").await;
    assert_eq!(status, 204);
    rest.release("fleet", "test", "1", backend).await;
    let a = Node::start("gateway", &database, &redis, &[]);
    assert_eq!(a.get("/v1").await.0, 200);
    assert_eq!(a.get("/v2").await.0, 404);
    served_within(&b, "/v2", 404, WITHIN).await;

    // A node stopped on purpose is stale at once.
    let mut b = b;
    b.stop();
    let listed = nodes(&rest).await;
    assert_eq!(node_of(&listed, &b.gateway)["stale"], true, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_and_debug_tokens_are_judged_across_nodes_through_redis() {
    let (database, redis) = stores().await;
    let a_port = free_port();
    // The console's Debug API sends through node A.
    let console = Node::start("console", &database, &redis, &[("GANTRY_GATEWAY_ADDR", format!("127.0.0.1:{a_port}"))]);
    let a = Node::start("gateway", &database, &redis, &[("GANTRY_GATEWAY_ADDR", format!("127.0.0.1:{a_port}"))]);
    let b = Node::start("gateway", &database, &redis, &[]);
    let rest = RestClient::new(&format!("http://{}", console.console), &token(&database));
    let backend = json!({"type": "http", "address": spawn_echo_backend().await});
    rest.create_group("fleet").await;
    let api = rest
        .create_api("fleet", json!({"name": "Signed", "auth": "app", "request": {"method": "GET", "path": "/signed"}}))
        .await;
    rest.freeze("fleet", "1").await;
    rest.release("fleet", "test", "1", backend).await;
    let (status, web) = rest.post("/apps", json!({"name": "web"})).await;
    assert_eq!(status, 201, "{web}");
    let grant = json!({"group": "fleet", "apis": [api.id], "env": "test"});
    assert_eq!(rest.post("/apps/web/authorizations", grant).await.0, 201);
    for node in [&a, &b] {
        served_within(node, "/signed", 401, WITHIN).await;
    }
    // Both nodes have the grant (an unsigned call is refused before it is looked at).
    in_sync(&rest, &[&a, &b]).await;

    // One signed request, sent to A and then replayed to B.
    let signer = gateway::signature::Signer {
        key: web["app_key"].as_str().expect("key").to_owned(),
        secret: web["app_secret"].as_str().expect("secret").to_owned(),
        method: gateway::signature::SignatureMethod::HmacSha256,
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64;
    let mut headers = http::HeaderMap::new();
    // Accept is signed; reqwest would otherwise send its own.
    headers.insert(http::header::ACCEPT, http::HeaderValue::from_static("application/json"));
    let unsigned = gateway::signature::Unsigned {
        method: "GET",
        path: "/signed",
        query: &[],
        body: b"",
        timestamp_ms: now,
        nonce: &uuid::Uuid::new_v4().to_string(),
    };
    signer.sign(unsigned, &mut headers).expect("sign");
    let send = |node: &Node| {
        let mut request = reqwest::Client::new()
            .get(format!("http://{}/signed", node.gateway))
            .header("host", HOST)
            .header("x-ca-stage", "TEST");
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.to_str().expect("ascii"));
        }
        request.send()
    };
    let first = send(&a).await.expect("send");
    assert_eq!(first.status(), 200);
    let replay = send(&b).await.expect("send");
    assert_eq!(replay.status(), 401, "a replay sent to the other node is refused");
    assert_eq!(replay.headers()["x-ca-error-code"], "InvalidNonce");

    // A Debug API call from the console goes through A with a token Redis holds…
    let call = json!({"group": "fleet", "env": "test", "api": "Signed", "app": "web"});
    let (status, result) = rest.post("/debug", call).await;
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["response"]["status"], 200, "{result}");
    assert!(result["trace"].is_object(), "the trace came back through node A: {result}");
    // … and a token issued elsewhere works once, on whichever node it reaches first.
    let shared = gateway::shared::SharedState::connect(&redis).await.expect("Redis");
    let token = shared.issue_debug_token().await.expect("token");
    let traced = |node: &Node, token: String| {
        reqwest::Client::new()
            .get(format!("http://{}/signed", node.gateway))
            .header("host", HOST)
            .header("x-ca-stage", "TEST")
            .header("x-gantry-debug", token)
            .send()
    };
    let on_b = traced(&b, token.clone()).await.expect("send");
    assert!(on_b.headers().get("x-gantry-trace").is_some(), "a token issued elsewhere works on node B");
    let again_on_a = traced(&a, token).await.expect("send");
    assert!(again_on_a.headers().get("x-gantry-trace").is_none(), "and only once, across nodes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_sums_every_gateway_nodes_traffic_and_searches_their_access_logs() {
    let (database, redis) = stores().await;
    let fast = [("GANTRY_STATS_FLUSH_MS", "200".to_owned())];
    let console = Node::start("console", &database, &redis, &fast);
    let a = Node::start("gateway", &database, &redis, &fast);
    let b = Node::start("gateway", &database, &redis, &fast);
    let rest = RestClient::new(&format!("http://{}", console.console), &token(&database));
    let backend = fleet(&rest).await;
    rest.release("fleet", "test", "1", backend).await;
    for node in [&a, &b] {
        served_within(node, "/v1", 200, WITHIN).await;
    }
    for _ in 0..4 {
        assert_eq!(a.get("/v1").await.0, 200);
    }
    for _ in 0..2 {
        assert_eq!(b.get("/v1").await.0, 200);
    }
    // A refused call on node b: the console finds it by the id the caller received.
    let refused = reqwest::Client::new()
        .get(format!("http://{}/nowhere", b.gateway))
        .header("host", HOST)
        .header("x-ca-stage", "TEST")
        .send()
        .await
        .expect("gateway request");
    assert_eq!(refused.status(), 404);
    let id = refused.headers()["x-ca-request-id"].to_str().expect("ascii").to_owned();
    let b_id = b.health().await["node"].as_str().expect("node id").to_owned();
    let a_id = a.health().await["node"].as_str().expect("node id").to_owned();

    let (status, found) = rest.get(&format!("/access-log?request_id={id}")).await;
    assert_eq!(status, 200, "{found}");
    let items = found["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{found}");
    assert_eq!((items[0]["status"].as_u64(), items[0]["node"].as_str()), (Some(404), Some(b_id.as_str())));
    assert_eq!(found["unreachable"], json!([]));
    let (_, all) = rest.get("/access-log?group=fleet&limit=1000").await;
    let from = |node: &str| all["items"].as_array().expect("items").iter().filter(|l| l["node"] == node).count();
    // The warm-up calls of `served_within` are there too: at least what this test sent.
    assert!(from(&a_id) >= 4 && from(&b_id) >= 3, "lines of both nodes: {all}");
    assert_eq!(from(&a_id) + from(&b_id), all["items"].as_array().expect("items").len(), "every line names its node");

    // Each node writes its own rows; the console sums them.
    let sent = |view: &Value| -> u64 {
        view["buckets"].as_array().expect("buckets").iter().map(|b| b["requests"].as_u64().unwrap_or(0)).sum()
    };
    let expected = (from(&a_id) + from(&b_id)) as u64;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, view) = rest.get("/groups/fleet/stats?env=test").await;
        assert_eq!(status, 200, "{view}");
        if sent(&view) == expected {
            break;
        }
        assert!(Instant::now() < deadline, "the console sums both nodes: {} of {expected}", sent(&view));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // A gateway node that stops answering is named; the other's lines are still shown.
    let mut b = b;
    b.kill();
    let (status, partial) = rest.get("/access-log?group=fleet&limit=1000").await;
    assert_eq!(status, 200, "{partial}");
    assert_eq!(partial["unreachable"], json!([b_id]), "{partial}");
    assert!(partial["items"].as_array().expect("items").iter().any(|l| l["node"] == a_id.as_str()));
}
