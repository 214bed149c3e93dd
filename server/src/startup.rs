//! Building and running Gantry: the console (axum + Leptos) and the gateway (hyper) in one
//! process, sharing one shutdown signal.

use crate::config::ServeSettings;
use crate::session_store::DbSessionStore;
use crate::state::AppState;
use crate::{auth, rest};
use anyhow::Context;
use app::{shell, App};
use axum::middleware::from_fn_with_state;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use control::users::AdminBootstrap;
use control::Control;
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
    console: TcpListener,
    gateway: TcpListener,
    gateway_tls: TcpListener,
    default_certificate: std::sync::Arc<gateway::tls::CertifiedKey>,
    gateway_config: gateway::GatewayConfig,
    state: AppState,
    router: Router,
}

/// How long a console session lasts without activity.
const SESSION_IDLE: time::Duration = time::Duration::hours(12);

impl Application {
    /// Opens (and migrates) the store, creates the first admin if the store is empty, compiles
    /// the live configuration and binds both listeners.
    pub async fn build(settings: ServeSettings) -> anyhow::Result<Application> {
        let url = settings.database.url()?;
        let secret_key = crate::tls_setup::secret_key(settings.secret_key.as_deref(), &settings.database.data_dir)?;
        let control = Control::open(&url)
            .await
            .with_context(|| format!("opening the database at {url}"))?
            .with_base_domain(&settings.base_domain)
            .with_secret_key(secret_key);
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
        match control.ensure_admin(settings.admin_password.as_deref()).await? {
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

        let console = TcpListener::bind(settings.console_addr)
            .await
            .with_context(|| format!("binding the console to {}", settings.console_addr))?;
        let gateway = TcpListener::bind(settings.gateway_addr)
            .await
            .with_context(|| format!("binding the gateway to {}", settings.gateway_addr))?;
        let gateway_tls = TcpListener::bind(settings.gateway_tls_addr)
            .await
            .with_context(|| format!("binding the gateway's HTTPS listener to {}", settings.gateway_tls_addr))?;

        let control = control
            .with_gateway_addr(gateway.local_addr()?)
            .with_gateway_tls_addr(gateway_tls.local_addr()?)
            .with_debug_body_limit(usize::try_from(settings.debug_max_body_bytes).unwrap_or(usize::MAX))
            .with_backend_guard(settings.blocked_backend_ranges.clone());
        let leptos_options = LeptosOptions::builder()
            .output_name("gantry")
            .site_root(settings.site_root.to_string_lossy().as_ref())
            .site_pkg_dir("pkg")
            .env(Env::PROD)
            .site_addr(console.local_addr()?)
            .build();
        let state = AppState { leptos_options, control, snapshots, metrics: gateway::Metrics::default() };
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
            ..Default::default()
        };
        Ok(Application { console, gateway, gateway_tls, default_certificate, gateway_config, state, router })
    }

    /// Where the console listens (useful with port 0).
    pub fn console_addr(&self) -> SocketAddr {
        self.console.local_addr().expect("a bound listener has an address")
    }

    /// Where the gateway listens.
    pub fn gateway_addr(&self) -> SocketAddr {
        self.gateway.local_addr().expect("a bound listener has an address")
    }

    /// Where the gateway's HTTPS listener listens.
    pub fn gateway_tls_addr(&self) -> SocketAddr {
        self.gateway_tls.local_addr().expect("a bound listener has an address")
    }

    /// The control services (tests use it to set up data directly).
    pub fn control(&self) -> &Control {
        &self.state.control
    }

    /// Serves console and gateway until `shutdown` resolves; then both stop accepting and
    /// finish the requests in flight.
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
        tokio::spawn(delete_expired_sessions(DbSessionStore::new(self.state.control.db().clone()), stop.clone()));

        tracing::info!(
            console = %self.console_addr(),
            gateway = %self.gateway_addr(),
            gateway_tls = %self.gateway_tls_addr(),
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
        let router = self.router;
        let service = move |peer: SocketAddr| {
            let router = router.clone();
            hyper::service::service_fn(move |mut request: axum::http::Request<hyper::body::Incoming>| {
                request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                tower::ServiceExt::oneshot(router.clone(), request.map(axum::body::Body::new))
            })
        };
        let console = gateway::listener::serve(self.console, listening, None, service, stop.clone().cancelled_owned());
        let gateway = gateway::serve(
            self.gateway,
            Some((self.gateway_tls, self.default_certificate)),
            self.state.snapshots.clone(),
            self.state.metrics.clone(),
            self.gateway_config,
            self.state.control.debug_tokens(),
            stop.clone().cancelled_owned(),
        );
        let (console, gateway) = tokio::join!(async { console.await }, gateway);
        console.context("console server")?;
        gateway.context("gateway server")?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Console connections open at once; more wait in the listen backlog. The console serves a
/// team, not the internet: this bounds what a flood can hold, far above what a team uses.
const CONSOLE_MAX_CONNECTIONS: usize = 1024;

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
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.control.db().clone()))
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
