//! `spawn_app()`: a real Gantry (console, REST API and gateway) on ephemeral ports with its
//! own temporary store, and typed helpers to talk to it. Every integration test starts here.
//!
//! The store is SQLite in the data dir, or, when `GANTRY_TEST_POSTGRES_URL` names a
//! PostgreSQL server (a superuser URL; `scripts/test.sh` starts one and runs this whole suite
//! a second time with it), a fresh PostgreSQL database per data dir. With
//! `GANTRY_TEST_REDIS_URL` as well, nonces, debug tokens and throttling counters live on that
//! Redis, in a database of its own per data dir.

use gantry::config::{DatabaseSettings, ServeSettings};
use gantry::Application;
use reqwest::redirect::Policy;
use reqwest::{Client, Response};
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The admin password every test server starts with.
pub const ADMIN_PASSWORD: &str = "correct-horse-battery";

/// A running Gantry and a browser-like client (cookies kept, redirects not followed).
pub struct TestApp {
    /// `http://127.0.0.1:{port}` of the console and REST API.
    pub console: String,
    /// `http://127.0.0.1:{port}` of the gateway.
    pub gateway: String,
    /// The gateway's HTTPS listener.
    pub gateway_tls: std::net::SocketAddr,
    /// The data dir (certificates, secret key, database).
    pub data_dir: PathBuf,
    /// Keeps cookies like a browser; does not follow redirects, so tests can see them.
    pub client: Client,
    /// The control services of the running server.
    pub control: control::Control,
    /// A temporary data dir, deleted when the app is dropped.
    _data_dir: Option<TempDir>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

/// Settings for a server on port 0 with the given data dir.
pub fn settings(data_dir: &Path, admin_password: &str) -> ServeSettings {
    ServeSettings {
        role: domain::cluster::Role::All,
        admin_addr: "127.0.0.1:0".parse().expect("addr"),
        redis_url: None,
        poll_interval_ms: 1000,
        listen_notifications: true,
        production_approval: false,
        version_header: true,
        upstream_connect_timeout_ms: 5_000,
        upstream_max_conns: 256,
        upstream_balance: gateway::config::Balance::RoundRobin,
        // `GANTRY_TEST_HTTP1=hyper` runs the suite on hyper's server instead.
        gateway_http1: std::env::var("GANTRY_TEST_HTTP1")
            .ok()
            .map(|raw| gateway::config::Http1Server::parse(&raw).expect("GANTRY_TEST_HTTP1"))
            .unwrap_or_default(),
        upstream_retries: 1,
        upstream_eject_failures: 3,
        upstream_eject_ms: 10_000,
        health_check_path: gantry::config::CheckPath(None),
        health_check_interval_ms: 5_000,
        health_check_healthy: 2,
        health_check_unhealthy: 3,
        health_check_statuses: gantry::config::StatusRange(200, 399),
        dns_discovery: false,
        dns_servers: gantry::config::DnsServers(Vec::new()),
        console_addr: "127.0.0.1:0".parse().expect("addr"),
        gateway_addr: "127.0.0.1:0".parse().expect("addr"),
        gateway_tls_addr: "127.0.0.1:0".parse().expect("addr"),
        gateway_tls_cert_file: None,
        gateway_tls_key_file: None,
        secret_key: None,
        database: DatabaseSettings { data_dir: data_dir.to_owned(), database_url: None },
        base_domain: "localhost".to_owned(),
        admin_password: Some(admin_password.to_owned()),
        site_root: PathBuf::from("target/site"),
        upstream_ca_file: None,
        max_body_bytes: 32 * 1024 * 1024,
        header_timeout_s: 10,
        idle_timeout_s: 60,
        debug_max_body_bytes: 1024 * 1024,
        blocked_backend_ranges: gateway::guard::AddressGuard::default(),
        trusted_proxies: gantry::config::TrustedProxies::default(),
        body_timeout_s: 30,
        body_buffer_bytes: 256 * 1024 * 1024,
        max_connections: 0,
        worker_threads: None,
        function_queue: 1024,
        secure_cookies: false,
        access_log_file: None,
        access_log_lines: gateway::access_log::DEFAULT_CAPACITY as u64,
        access_log_file_bytes: 64 * 1024 * 1024,
        stats: true,
        stats_flush_ms: 200,
        stats_minute_days: 7,
        stats_hour_days: 90,
    }
}

/// A browser-like HTTP client.
pub fn browser() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().expect("client")
}

/// Starts Gantry with a fresh data dir.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_owned();
    start(&path, ADMIN_PASSWORD, Some(dir)).await
}

/// Starts Gantry with a fresh data dir and changed settings.
pub async fn spawn_app_with(change: impl FnOnce(&mut ServeSettings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = settings(dir.path(), ADMIN_PASSWORD);
    change(&mut settings);
    start_with(settings, Some(dir)).await
}

/// Starts Gantry on an existing data dir, with `admin_password` configured.
pub async fn spawn_app_on(data_dir: &Path, admin_password: &str) -> TestApp {
    start(data_dir, admin_password, None).await
}

async fn start(data_dir: &Path, admin_password: &str, temporary: Option<TempDir>) -> TestApp {
    start_with(settings(data_dir, admin_password), temporary).await
}

/// The PostgreSQL server of the PostgreSQL run, if this is it.
pub fn test_postgres() -> Option<String> {
    std::env::var("GANTRY_TEST_POSTGRES_URL").ok().filter(|url| !url.is_empty())
}

/// On the PostgreSQL run, the URL of the database of `data_dir`: created on first use and
/// named in `{data_dir}/postgres-database`, so a restart on the same data dir finds it again.
pub async fn postgres_database(data_dir: &Path) -> Option<String> {
    use sea_orm::ConnectionTrait;
    let server = test_postgres()?;
    let marker = data_dir.join("postgres-database");
    let name = match std::fs::read_to_string(&marker) {
        Ok(name) => name.trim().to_owned(),
        Err(_) => {
            let name = format!("gantry_{}", uuid::Uuid::new_v4().simple());
            let db = control::db::connect(&server).await.expect("connect to the test PostgreSQL");
            db.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create a test database");
            let _ = db.close().await;
            std::fs::create_dir_all(data_dir).expect("data dir");
            std::fs::write(&marker, &name).expect("name the test database");
            name
        }
    };
    let (base, _) = server.rsplit_once('/').expect("a URL with a database");
    Some(format!("{base}/{name}"))
}

/// On the PostgreSQL run with Redis, the URL of the Redis database of `data_dir`: a number
/// handed out by Redis itself (`INCR`), so tests running at once never share counters, and
/// named in `{data_dir}/redis-database` for a restart.
pub async fn redis_database(data_dir: &Path) -> Option<String> {
    let server = std::env::var("GANTRY_TEST_REDIS_URL").ok().filter(|url| !url.is_empty())?;
    let marker = data_dir.join("redis-database");
    let number = match std::fs::read_to_string(&marker) {
        Ok(number) => number.trim().to_owned(),
        Err(_) => {
            let client = redis::Client::open(server.as_str()).expect("Redis URL");
            let mut connection = client.get_multiplexed_async_connection().await.expect("connect to the test Redis");
            let next: u64 =
                redis::cmd("INCR").arg("gantry-test:next-database").query_async(&mut connection).await.expect("INCR");
            // Database 0 holds the counter; scripts/services.sh starts Redis with 16384 databases.
            let number = (1 + next % 16383).to_string();
            std::fs::create_dir_all(data_dir).expect("data dir");
            std::fs::write(&marker, &number).expect("name the Redis database");
            number
        }
    };
    Some(format!("{}/{number}", server.trim_end_matches('/')))
}

async fn start_with(mut settings: ServeSettings, temporary: Option<TempDir>) -> TestApp {
    if settings.database.database_url.is_none() {
        settings.database.database_url = postgres_database(&settings.database.data_dir).await;
    }
    if settings.redis_url.is_none() && settings.database.database_url.is_some() {
        settings.redis_url = redis_database(&settings.database.data_dir).await;
    }
    let settings_dir = settings.database.data_dir.clone();
    let app = Application::build(settings).await.expect("build app");
    let console = format!("http://{}", app.console_addr());
    let gateway = format!("http://{}", app.gateway_addr());
    let gateway_tls = app.gateway_tls_addr();
    let data_dir = settings_dir.clone();
    let control = app.control().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        console,
        gateway,
        gateway_tls,
        data_dir,
        client: browser(),
        control,
        _data_dir: temporary,
        stop: Some(stop),
        task: Some(task),
    }
}

impl TestApp {
    /// The console URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.console, path)
    }

    /// Submits the login form.
    pub async fn post_login(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/auth/login"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .expect("login request")
    }

    /// Logs in as admin and checks it worked.
    pub async fn login_as_admin(&self) {
        let response = self.post_login("admin", ADMIN_PASSWORD).await;
        assert_eq!(location(&response), Some("/groups".to_owned()), "login failed");
    }

    /// A REST client authenticated with a fresh bearer token.
    pub async fn rest(&self) -> RestClient {
        let token = self.control.create_token("tests", "admin").await.expect("token");
        RestClient { base: format!("{}/api/admin/v1", self.console), token, client: Client::new() }
    }

    /// GET a console page with this app's cookies.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// Stops the server and keeps its data dir (the caller removes it).
    pub async fn stop_keeping_data(mut self) {
        if let Some(dir) = self._data_dir.take() {
            let _ = dir.keep();
        }
        self.stop().await;
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task").expect("server result");
        }
    }
}

/// The `Location` of a redirect.
pub fn location(response: &Response) -> Option<String> {
    response.headers().get("location").and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The admin REST API with a bearer token.
pub struct RestClient {
    base: String,
    token: String,
    client: Client,
}

impl RestClient {
    /// A client of the console at `console` (`http://host:port`) with bearer `token`.
    pub fn new(console: &str, token: &str) -> RestClient {
        RestClient { base: format!("{console}/api/admin/v1"), token: token.to_owned(), client: Client::new() }
    }

    /// Sends `method` to `/api/admin/v1{path}` with an optional JSON body.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (
            status,
            if text.is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).expect("json body") },
        )
    }

    /// Sends `method` and returns the body as text (for generated files).
    pub async fn send_text(&self, method: reqwest::Method, path: &str, body: Option<String>) -> (u16, String) {
        let mut request = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request");
        (response.status().as_u16(), response.text().await.expect("body"))
    }

    /// POSTs a raw text body and reads a JSON answer.
    pub async fn send_raw(&self, path: &str, body: String) -> (u16, serde_json::Value) {
        let (status, text) = self.send_text(reqwest::Method::POST, path, Some(body)).await;
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }

    /// GET.
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// PUT a JSON body.
    pub async fn put(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> (u16, serde_json::Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }
}

/// Typed steps of the release loop: each asserts the status it expects, with the answer in
/// the failure message, and returns the answer as the console's own type, so a test cannot
/// carry on past a step that did not happen.
impl RestClient {
    /// Sends and expects `status`; the answer decoded as `T`.
    pub async fn expect<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        status: u16,
    ) -> T {
        let (got, answer) = self.send(method.clone(), path, body).await;
        assert_eq!(got, status, "{method} {path} answered {got}: {answer}");
        serde_json::from_value(answer.clone()).unwrap_or_else(|e| panic!("{method} {path}: {e}: {answer}"))
    }

    /// Creates group `name` answering on the subdomain `name`.
    pub async fn create_group(&self, name: &str) -> domain::views::GroupView {
        let spec = serde_json::json!({"name": name, "subdomain": name});
        self.expect(reqwest::Method::POST, "/groups", Some(spec), 201).await
    }

    /// Adds an API to `group`'s draft.
    pub async fn create_api(&self, group: &str, spec: serde_json::Value) -> domain::views::ApiView {
        self.expect(reqwest::Method::POST, &format!("/groups/{group}/apis"), Some(spec), 201).await
    }

    /// Freezes `group`'s draft as version `label`.
    pub async fn freeze(&self, group: &str, label: &str) -> domain::release::VersionView {
        let spec = serde_json::json!({"label": label});
        self.expect(reqwest::Method::POST, &format!("/groups/{group}/versions"), Some(spec), 201).await
    }

    /// Makes version `label` of `group` live in `env` (`test`, `pre`, `prod`) with `backend`.
    pub async fn release(
        &self,
        group: &str,
        env: &str,
        label: &str,
        backend: serde_json::Value,
    ) -> domain::release::DeploymentView {
        let spec = serde_json::json!({"version": label, "backend": backend});
        self.expect(reqwest::Method::PUT, &format!("/groups/{group}/deployments/{env}"), Some(spec), 200).await
    }
}

/// A real backend on port 0 that answers every request with what it received, as JSON
/// (`peer`, `method`, `path`, `query`, `headers`, `body`), sleeps 2 s first on paths under `/slow`, and
/// streams the body back on paths under `/mirror`.
pub async fn spawn_echo_backend() -> String {
    use axum::extract::Request;
    use axum::Json;
    async fn echo(request: Request) -> axum::response::Response {
        use axum::response::IntoResponse;
        if request.uri().path().starts_with("/slow") {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
        if request.uri().path().starts_with("/mirror") {
            // Streams the request body straight back, with the method it arrived with.
            let method = request.method().to_string();
            return ([("x-backend-method", method)], axum::body::Body::new(request.into_body())).into_response();
        }
        let headers: serde_json::Map<String, serde_json::Value> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_str().unwrap_or("").to_owned())))
            .collect();
        let peer =
            request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.to_string());
        let (method, path, query) =
            (request.method().to_string(), request.uri().path().to_owned(), request.uri().query().map(str::to_owned));
        let body = axum::body::to_bytes(request.into_body(), usize::MAX).await.unwrap_or_default();
        Json(serde_json::json!({
            "peer": peer,
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        }))
        .into_response()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind backend");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new().fallback(echo).into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

impl TestApp {
    /// Sends a request to the gateway for `host` in `stage`.
    pub async fn call_gateway(&self, method: reqwest::Method, host: &str, stage: &str, path: &str) -> Response {
        Client::new()
            .request(method, format!("{}{path}", self.gateway))
            .header("host", host)
            .header("x-ca-stage", stage)
            .send()
            .await
            .expect("gateway request")
    }
}

/// A real HTTPS backend on port 0 with a fresh self-signed certificate for `localhost`;
/// returns its address (`https://localhost:port`) and the certificate as PEM (the CA to
/// trust). It answers every request with `secure hello`.
pub async fn spawn_https_backend() -> (String, String) {
    use hyper_util::rt::TokioIo;
    use std::sync::Arc;
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("certificate");
    let pem = certified.cert.pem();
    let key = rustls_key(certified.signing_key.serialize_der());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let service = hyper::service::service_fn(|_request| async {
                    Ok::<_, std::convert::Infallible>(hyper::Response::new(http_body_util::Full::new(
                        bytes::Bytes::from_static(b"secure hello"),
                    )))
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
            });
        }
    });
    (format!("https://localhost:{port}"), pem)
}

fn rustls_key(der: Vec<u8>) -> tokio_rustls::rustls::pki_types::PrivateKeyDer<'static> {
    tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(der.into())
}
