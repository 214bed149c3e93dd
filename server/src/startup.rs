//! Building and running Gantry: the console (axum + Leptos) and the gateway (hyper) in one
//! process, sharing one shutdown signal; or, in a cluster, one of them per process
//! (`--role console|gateway`), each following the change log (`control::cluster::follow`).

use crate::config::ServeSettings;
use crate::session_store::DbSessionStore;
use crate::state::AppState;
use crate::{auth, rest};
use anyhow::Context;
use app::{shell, App};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::Router;
use control::users::AdminBootstrap;
use control::Control;
use domain::cluster::Role;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

/// A Gantry instance with its listeners bound, ready to run.
pub struct Application {
    /// The console and admin REST (roles `all` and `console`).
    console: Option<TcpListener>,
    /// The gateway's plain and HTTPS listeners (roles `all` and `gateway`).
    gateway: Option<(TcpListener, TcpListener)>,
    /// A gateway node's health and metrics.
    admin: Option<TcpListener>,
    node: control::cluster::NodeIdentity,
    sync: std::sync::Arc<control::cluster::SyncStatus>,
    /// The PostgreSQL URL to `LISTEN` on for changes.
    listen_url: Option<String>,
    poll_interval: Duration,
    default_certificate: std::sync::Arc<gateway::tls::CertifiedKey>,
    gateway_config: gateway::GatewayConfig,
    /// How often the gateway writes its traffic per minute, and how long rows are kept.
    stats_flush: Option<Duration>,
    retention: control::stats::Retention,
    state: AppState,
    router: Router,
}

/// How long a console session lasts without activity.
const SESSION_IDLE: time::Duration = time::Duration::hours(12);

impl Application {
    /// Opens (and migrates) the store, creates the first admin if the store is empty, compiles
    /// the live configuration and binds both listeners.
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Application> {
        let role = settings.role;
        let url = settings.database.url()?;
        let secret_key = crate::tls_setup::secret_key(settings.secret_key.as_deref(), &settings.database.data_dir)?;
        // A gateway node never migrates: the console node (or `gantry migrate`) does.
        let control =
            if role == Role::Gateway { Control::open_migrated(&url).await } else { Control::open(&url).await };
        let shared = match &settings.redis_url {
            Some(redis) => std::sync::Arc::new(
                gateway::shared::SharedState::connect(redis).await.map_err(|e| anyhow::anyhow!("{e}"))?,
            ),
            None => {
                if role != Role::All {
                    tracing::warn!(
                        "GANTRY_REDIS_URL is not set: nonces, Debug API tokens and throttling counters are this \
                         node's own (a replay sent to another node is not recognised)"
                    );
                }
                std::sync::Arc::default()
            }
        };
        let control = control
            .with_context(|| format!("opening the database at {url}"))?
            .with_base_domain(&settings.base_domain)
            .with_secret_key(secret_key)
            .with_shared_state(shared);
        let default = crate::tls_setup::default_certificate(
            settings.gateway_tls_cert_file.as_deref(),
            settings.gateway_tls_key_file.as_deref(),
            &settings.database.data_dir,
            &control.base_domain(),
        )?;
        let control = match control::certificates::describe(&default.cert_pem) {
            Some(certificate) => control.with_default_certificate(domain::group::DefaultCertificateView {
                certificate,
                self_signed: default.self_signed,
            }),
            None => control,
        };
        let default_certificate = std::sync::Arc::new(
            gateway::tls::certified_key(&default.cert_pem, &default.key_pem)
                .map_err(|e| anyhow::anyhow!("the default TLS certificate: {e:?}"))?,
        );
        let bootstrap = if role.serves_console() {
            control.ensure_admin(settings.admin_password.as_deref()).await?
        } else {
            AdminBootstrap::Existing
        };
        match bootstrap {
            AdminBootstrap::Existing => {}
            AdminBootstrap::Created => {
                tracing::info!("created user `admin` with the password from GANTRY_ADMIN_PASSWORD")
            }
            AdminBootstrap::CreatedWithGeneratedPassword(password) => tracing::warn!(
                username = "admin",
                %password,
                "created the first user with a random password; it is shown only this once \
                 (change it with `gantry admin reset-password`)"
            ),
        }
        control.refresh_gateway().await.context("compiling the live deployments")?;
        let snapshots = control.snapshots().clone();

        let console = match role.serves_console() {
            true => Some(
                TcpListener::bind(settings.console_addr)
                    .await
                    .with_context(|| format!("binding the console to {}", settings.console_addr))?,
            ),
            false => None,
        };
        let gateway = match role.serves_gateway() {
            true => Some((
                TcpListener::bind(settings.gateway_addr)
                    .await
                    .with_context(|| format!("binding the gateway to {}", settings.gateway_addr))?,
                TcpListener::bind(settings.gateway_tls_addr).await.with_context(|| {
                    format!("binding the gateway's HTTPS listener to {}", settings.gateway_tls_addr)
                })?,
            )),
            false => None,
        };
        let admin = match role {
            Role::Gateway => Some(
                TcpListener::bind(settings.admin_addr)
                    .await
                    .with_context(|| format!("binding the admin address to {}", settings.admin_addr))?,
            ),
            _ => None,
        };
        // A console node's Debug API, docs and SDKs name the gateway the settings give (a
        // gateway node's address, or the load balancer in front of them).
        let (gateway_addr, gateway_tls_addr) = match &gateway {
            Some((plain, tls)) => (plain.local_addr()?, tls.local_addr()?),
            None => (settings.gateway_addr, settings.gateway_tls_addr),
        };
        let node_addr = match (&gateway, &console) {
            (Some(_), _) => gateway_addr,
            (None, Some(console)) => console.local_addr()?,
            (None, None) => gateway_addr,
        };
        let mut node = control::cluster::NodeIdentity::new(role, node_addr.to_string());
        node.admin_address = admin.as_ref().and_then(|a| a.local_addr().ok()).map(|a| a.to_string());
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let listen_url = (postgres && settings.listen_notifications).then(|| url.clone());

        let metrics =
            gateway::Metrics::with_access_lines(usize::try_from(settings.access_log_lines).unwrap_or(usize::MAX));
        metrics.stats().set_enabled(settings.stats);
        if let Some(path) = &settings.access_log_file {
            metrics
                .access_log()
                .write_to_file(path, settings.access_log_file_bytes)
                .with_context(|| format!("opening the access-log file {}", path.display()))?;
        }
        let control = control
            .with_access_log(metrics.access_log().clone())
            .with_node(node.clone())
            .with_gateway_addr(gateway_addr)
            .with_gateway_tls_addr(gateway_tls_addr)
            .with_debug_body_limit(usize::try_from(settings.debug_max_body_bytes).unwrap_or(usize::MAX))
            .with_production_approval(settings.production_approval)
            .with_backend_guard(settings.blocked_backend_ranges.clone())
            .with_retention(control::stats::Retention {
                minute_days: settings.stats_minute_days,
                hour_days: settings.stats_hour_days,
            });
        let leptos_options = LeptosOptions::builder()
            .output_name("gantry")
            .site_root(settings.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .env(Env::PROD)
            .site_addr(console.as_ref().map(|c| c.local_addr()).transpose()?.unwrap_or(settings.console_addr))
            .build();
        let state = AppState { leptos_options, control, snapshots, metrics };
        let router = router(state.clone(), settings.secure_cookies);
        let gateway_config = gateway::GatewayConfig {
            upstream_ca_file: settings.upstream_ca_file.clone(),
            max_body_bytes: settings.max_body_bytes,
            header_timeout: std::time::Duration::from_secs(settings.header_timeout_s),
            idle_timeout: std::time::Duration::from_secs(settings.idle_timeout_s),
            body_timeout: std::time::Duration::from_secs(settings.body_timeout_s),
            body_buffer_bytes: settings.body_buffer_bytes,
            max_connections: connection_cap(settings.max_connections),
            function_queue: usize::try_from(settings.function_queue).unwrap_or(usize::MAX),
            blocked_backends: settings.blocked_backend_ranges.clone(),
            trusted_proxies: settings.trusted_proxies.0.clone(),
            version_header: settings.version_header,
            upstream: settings.upstream(),
            http1: settings.gateway_http1,
            ..Default::default()
        };
        Ok(Application {
            console,
            gateway,
            admin,
            node,
            sync: std::sync::Arc::default(),
            listen_url,
            poll_interval: Duration::from_millis(settings.poll_interval_ms),
            default_certificate,
            gateway_config,
            stats_flush: settings.stats.then(|| Duration::from_millis(settings.stats_flush_ms)),
            retention: state.control.retention(),
            state,
            router,
        })
    }

    /// Where the console listens (useful with port 0); `None` on a gateway node.
    pub fn console_addr(&self) -> SocketAddr {
        self.console.as_ref().and_then(|c| c.local_addr().ok()).expect("this role serves the console")
    }

    /// Where the gateway listens.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway.as_ref().and_then(|(g, _)| g.local_addr().ok()).expect("this role serves the gateway")
    }

    /// Where the gateway's HTTPS listener listens.
    pub fn gateway_tls_addr(&self) -> SocketAddr {
        self.gateway.as_ref().and_then(|(_, t)| t.local_addr().ok()).expect("this role serves the gateway")
    }

    /// The control services (tests use it to set up data directly).
    pub fn control(&self) -> &Control {
        &self.state.control
    }

    /// Serves what the role serves until `shutdown` resolves; then every listener stops
    /// accepting and finishes the requests in flight. The follower keeps this node's
    /// snapshot up to date with changes committed on any node.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        tokio::spawn({
            let stop = stop.clone();
            async move {
                shutdown.await;
                tracing::info!("shutting down: finishing requests in flight");
                stop.cancel();
            }
        });
        let control = self.state.control.clone();
        if self.console.is_some() {
            tokio::spawn(delete_expired_sessions(DbSessionStore::new(control.pool().clone()), stop.clone()));
            tokio::spawn(stats_upkeep(control.clone(), self.retention, stop.clone()));
        }
        // Stopped after the gateway has answered its last request, then writes once more.
        let flush_stop = CancellationToken::new();
        let flusher = match (&self.gateway, self.stats_flush) {
            (Some(_), Some(every)) => Some(tokio::spawn(flush_stats(
                control.clone(),
                self.state.metrics.stats().clone(),
                self.node.id.clone(),
                every,
                flush_stop.clone(),
            ))),
            _ => None,
        };
        let follower = tokio::spawn(control::cluster::follow(
            control.clone(),
            self.node.clone(),
            self.sync.clone(),
            self.listen_url.clone(),
            self.poll_interval,
            stop.clone().cancelled_owned(),
        ));

        let address = |listener: &Option<TcpListener>| {
            listener.as_ref().and_then(|l| l.local_addr().ok()).map(|a| a.to_string()).unwrap_or_else(|| "-".into())
        };
        let (gateway_addr, gateway_tls_addr) = match &self.gateway {
            Some((plain, tls)) => (
                plain.local_addr().map(|a| a.to_string()).unwrap_or_default(),
                tls.local_addr().map(|a| a.to_string()).unwrap_or_default(),
            ),
            None => ("-".to_owned(), "-".to_owned()),
        };
        tracing::info!(
            role = self.node.role.as_str(),
            node = %self.node.id,
            console = %address(&self.console),
            gateway = %gateway_addr,
            gateway_tls = %gateway_tls_addr,
            admin = %address(&self.admin),
            workers = tokio::runtime::Handle::current().metrics().num_workers(),
            scheduler = %match tokio::runtime::Handle::current().runtime_flavor() {
                tokio::runtime::RuntimeFlavor::CurrentThread => "current-thread",
                _ => "multi-thread",
            },
            "Gantry is listening"
        );
        // The console has its own listener and cap, so it stays reachable while the gateway
        // is at its cap; the same head and idle clocks as the gateway's.
        let listening = gateway::listener::Listening {
            max_connections: CONSOLE_MAX_CONNECTIONS,
            max_header_bytes: 64 * 1024,
            timeouts: gateway::listener::Timeouts {
                head: self.gateway_config.header_timeout,
                idle: self.gateway_config.idle_timeout,
            },
        };
        let serve_router = |listener: TcpListener, router: Router| {
            let service = move |peer: SocketAddr| {
                let router = router.clone();
                hyper::service::service_fn(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                    tower::ServiceExt::oneshot(router.clone(), request.map(axum::body::Body::new))
                })
            };
            gateway::listener::serve(listener, listening, None, service, stop.clone().cancelled_owned())
        };
        let console = self.console.map(|listener| serve_router(listener, self.router.clone()));
        let admin = self.admin.map(|listener| {
            serve_router(listener, admin_router(self.state.clone(), self.sync.clone(), self.node.clone()))
        });
        let gateway = self.gateway.map(|(plain, tls)| {
            gateway::serve(
                plain,
                Some((tls, self.default_certificate)),
                self.state.snapshots.clone(),
                self.state.metrics.clone(),
                self.gateway_config,
                control.shared_state(),
                stop.clone().cancelled_owned(),
            )
        });
        let (console, admin, gateway) = tokio::join!(
            async {
                match console {
                    Some(console) => console.await,
                    None => Ok(()),
                }
            },
            async {
                match admin {
                    Some(admin) => admin.await,
                    None => Ok(()),
                }
            },
            async {
                match gateway {
                    Some(gateway) => gateway.await,
                    None => Ok(()),
                }
            },
        );
        flush_stop.cancel();
        if let Some(flusher) = flusher {
            let _ = flusher.await;
        }
        console.context("console server")?;
        admin.context("admin server")?;
        gateway.context("gateway server")?;
        let _ = follower.await;
        // Stopped on purpose: marked stale at once rather than after the heartbeats stop.
        if let Err(error) = control.leave(&self.node).await {
            tracing::warn!(%error, "could not mark this node stopped");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// A gateway node's admin address: `GET /health` (200 with `"status": "ok"`, or
/// `"degraded"` while the database is unreachable and the node serves its last snapshot),
/// `GET /metrics` and `GET /access-log` (this node's recent requests, filtered as the admin
/// REST API's). No login: keep the address private.
fn admin_router(
    state: AppState,
    sync: std::sync::Arc<control::cluster::SyncStatus>,
    node: control::cluster::NodeIdentity,
) -> Router {
    let access_state = state.clone();
    let health = {
        let (state, sync) = (state.clone(), sync.clone());
        move || async move {
            let down = sync.database_down();
            axum::Json(serde_json::json!({
                "status": if down { "degraded" } else { "ok" },
                "role": node.role.as_str(),
                "node": node.id,
                "version": node.version,
                "applied_revision": sync.applied(),
                "gateway_revision": state.snapshots.current().revision,
                "database": if down { "unreachable" } else { "ok" },
                "shared_state": if state.control.shared_state().on_redis() { "redis" } else { "memory" },
            }))
        }
    };
    let metrics = move || async move {
        let mut out = state.metrics.render();
        out.push_str(&node_metrics(&state, &sync));
        out
    };
    let access = |axum::extract::State(state): axum::extract::State<AppState>,
                  axum::extract::Query(query): axum::extract::Query<domain::access::AccessQuery>| async move {
        match state.control.local_access_log(&query) {
            Ok(items) => axum::Json(domain::access::AccessLogView { items, unreachable: Vec::new() }).into_response(),
            Err(error) => crate::rest::error::ApiError::from(error).into_response(),
        }
    };
    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/access-log", get(access).with_state(access_state))
}

/// The node's own gauges: the revision it serves, whether the database answers, and Redis
/// failures.
fn node_metrics(state: &AppState, sync: &control::cluster::SyncStatus) -> String {
    format!(
        "# HELP gantry_config_revision_applied The config_revision this node serves.\n\
         # TYPE gantry_config_revision_applied gauge\n\
         gantry_config_revision_applied {}\n\
         # HELP gantry_database_up 1 when the last attempt to reach the database succeeded.\n\
         # TYPE gantry_database_up gauge\n\
         gantry_database_up {}\n\
         # HELP gantry_shared_state_errors_total Redis commands that failed or timed out.\n\
         # TYPE gantry_shared_state_errors_total counter\n\
         gantry_shared_state_errors_total {}\n",
        state.snapshots.current().revision.max(sync.applied()),
        u8::from(!sync.database_down()),
        state.control.shared_state().errors(),
    )
}

/// Console connections open at once; more wait in the listen backlog. The console serves a
/// team, not the internet: this bounds what a flood can hold, far above what a team uses.
const CONSOLE_MAX_CONNECTIONS: usize = 1024;

/// Writes this node's traffic of the current minute every `every` (and once more at stop);
/// a batch that could not be written is kept for the next try.
async fn flush_stats(
    control: Control,
    stats: std::sync::Arc<gateway::stats::StatsCollector>,
    node: String,
    every: Duration,
    stop: CancellationToken,
) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let last = tokio::select! {
            _ = ticks.tick() => false,
            () = stop.cancelled() => true,
        };
        let batch = stats.take(chrono::Utc::now().timestamp());
        if let Err(error) = control.write_stats(&node, &batch).await {
            tracing::warn!(%error, "writing traffic stats failed; retrying at the next flush");
            stats.requeue(&batch);
        }
        if last {
            return;
        }
    }
}

/// Rolls minutes up into hours and deletes rows past their retention: everything at start,
/// then the recent hours every minute.
async fn stats_upkeep(control: Control, retention: control::stats::Retention, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(Duration::from_secs(60));
    let mut all = true;
    loop {
        tokio::select! {
            _ = ticks.tick() => {
                if let Err(error) = control.maintain_stats(chrono::Utc::now().timestamp(), retention, all).await {
                    tracing::warn!(%error, "rolling up or pruning traffic stats failed");
                } else {
                    all = false;
                }
            }
            () = stop.cancelled() => return,
        }
    }
}

async fn delete_expired_sessions(store: DbSessionStore, stop: CancellationToken) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => {
                if let Err(error) = store.delete_expired().await {
                    tracing::warn!(%error, "deleting expired sessions failed");
                }
            }
            () = stop.cancelled() => return,
        }
    }
}

/// The console and REST routes with sessions.
fn router(state: AppState, secure_cookies: bool) -> Router {
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.control.pool().clone()))
        .with_name("gantry_session")
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_secure(secure_cookies)
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE));

    let control = state.control.clone();
    let options = state.leptos_options.clone();
    let console = Router::new()
        .route("/", get(|| async { Redirect::to("/groups") }))
        .route("/auth/login", post(auth::login))
        .route("/auth/logout", post(auth::logout))
        .leptos_routes_with_context(
            &state,
            generate_route_list(App),
            move || provide_context(control.clone()),
            move || shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(from_fn_with_state(state.clone(), auth::console_guard));

    Router::new()
        .nest("/api/admin/v1", rest::router(state.clone()))
        .route(
            "/metrics",
            get(|axum::extract::State(state): axum::extract::State<AppState>| async move { metrics(&state).await })
                .route_layer(from_fn_with_state(state.clone(), auth::rest_guard)),
        )
        .merge(console)
        .layer(axum::middleware::from_fn(auth::same_origin_writes))
        .layer(sessions)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// `/metrics`: the gateway's counters, and the days left on each certificate of the HTTPS
/// listener (`gantry_certificate_expiry_days`; alert below 30).
async fn metrics(state: &AppState) -> String {
    let mut out = state.metrics.render();
    out.push_str(
        "# HELP gantry_certificate_expiry_days Whole days until a certificate of the HTTPS listener expires.\n\
         # TYPE gantry_certificate_expiry_days gauge\n",
    );
    if let Some(default) = state.control.default_certificate() {
        out.push_str(&format!("gantry_certificate_expiry_days{{host=\"*\"}} {}\n", default.certificate.days_left));
    }
    match state.control.certificate_expiries().await {
        Ok(hosts) => {
            for (host, days) in hosts {
                out.push_str(&format!("gantry_certificate_expiry_days{{host=\"{host}\"}} {days}\n"));
            }
        }
        Err(error) => tracing::error!(%error, "reading certificates for /metrics"),
    }
    out
}

/// The gateway's connection cap: `configured`, or derived from the open-file limit after
/// raising it to its hard limit (see `ServeSettings::max_connections`).
fn connection_cap(configured: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(error) => {
            tracing::warn!(%error, "could not raise the open-file limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map(|(soft, _)| soft).unwrap_or(1024)
        }
    };
    let cap = if configured > 0 {
        configured
    } else {
        usize::try_from(limit.saturating_sub(256) / 2).unwrap_or(usize::MAX).clamp(64, 1_000_000)
    };
    tracing::info!(open_file_limit = limit, gateway_connections = cap, "connection cap");
    cap
}
