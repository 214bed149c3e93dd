//! The control plane: Gantry's domain types, the services the console and the admin REST API
//! both call, the database entities, and the compiler from live deployments to the gateway's
//! [`gateway::Snapshot`].
//!
//! # Layout
//! - [`db`]: connecting to SQLite (WAL, foreign keys, busy timeout) or Postgres, and running
//!   the migrations.
//! - [`entity`]: SeaORM entities, one module per table.
//! - [`error`]: [`ControlError`], the one error type every service returns.
//! - [`users`]: users, password hashing (argon2id), the first admin, login, and the acting
//!   user's role ([`CurrentUser::require`], the check every changing service makes first).
//! - `user_admin`: the Users page's services: list, add and change users (role, scope,
//!   disabled, password), keeping at least one enabled admin.
//! - [`throttle`]: refuses repeated failed logins per user and per client address (429).
//! - [`tokens`]: admin API bearer tokens, stored hashed.
//! - [`groups`]: API groups: create, edit, delete (refused while live), list.
//! - [`access`]: the access log: this node's ring and, on a console, every live gateway
//!   node's (asked over their admin addresses), merged newest first.
//! - [`apis`]: a group's working draft of APIs: create, edit, delete, search and page;
//!   names unique and routes free of conflicts.
//! - [`domains`]: custom domains of a group, optionally pinned to an environment.
//! - [`config`]: declarative configuration: export everything as one document keyed by
//!   name, and diff a document against what is held (apply is not built yet).
//! - [`cluster`]: the change log gateway nodes follow (with `NOTIFY` on PostgreSQL), the
//!   node registry, heartbeats and roll-outs.
//! - [`certificates`]: custom domains' certificates for the HTTPS listener: validated on
//!   upload, private keys sealed at rest ([`secrets`]), compiled for SNI.
//! - [`apps`]: apps (AppKey, AppSecret, AppCode) and their authorizations per API and
//!   environment; every change recompiles the gateway's app table.
//! - [`debug`]: the Debug API: builds, signs and sends a request for a live API through the
//!   real gateway listener with a one-time trace token, and returns what came back.
//! - `audit`: the audit trail every change writes in its own transaction (who, from which
//!   address, in which group, before and after), and the Audit Log that reads it (append-only).
//! - [`openapi`]: OpenAPI 3.1 export (draft, version or live) and 3.0/3.1 import with a dry run.
//! - [`sdk`]: docs (Markdown, HTML) and SDKs (Python, TypeScript) of what is live.
//! - [`resolve`]: where each API of a deployment goes (backend services, release backend,
//!   its own backend) and why a release is refused: pure functions, no database.
//! - `revision`: `config_revision`, and `Control::commit_live`, the one way a change to what
//!   is served ends (bump, commit, recompile).
//! - [`policies`]: traffic policies (throttling, IP access control, CORS) and their
//!   bindings; every change recompiles the gateway's policy table.
//! - [`approvals`]: Production change requests: ask, approve (the change made in the same
//!   transaction), reject, withdraw; and the setting that makes them the only way.
//! - [`releases`]: versions (freeze, list, diff) and release, switch and off-line, each one
//!   transaction.
//! - `canaries`: canary releases beside an environment's deployment: start or adjust,
//!   promote, roll back, each one transaction with its history row and audit event.
//! - [`services`]: backend services (a URL per environment); URL changes reach the gateway
//!   without a release.
//! - [`stats`]: traffic over time: nodes' minute rows written in batches, charts and group
//!   overviews read from them, backend health, roll-up into hours and pruning.
//! - [`snapshot`]: compiles what is live into the gateway's snapshot and swaps it in.
//!
//! [`Control`] ties them together: one cheap-to-clone handle over the connection pool that
//! the server puts in its state once.

pub mod access;
pub mod apis;
pub mod approvals;
pub mod apps;
mod audit;
mod canaries;
pub mod certificates;
pub mod cluster;
pub mod config;
pub mod db;
pub mod debug;
pub mod domains;
pub mod entity;
pub mod error;
pub mod groups;
pub mod openapi;
pub mod policies;
pub mod releases;
pub mod resolve;
mod revision;
pub mod sdk;
pub mod secrets;
pub mod services;
pub mod snapshot;
pub mod stats;
pub mod throttle;
pub mod tokens;
mod user_admin;
pub mod users;

pub use domain::Environment;
pub use error::{ControlError, FieldError};
pub use users::CurrentUser;

use sea_orm::DatabaseConnection;
use std::sync::Arc;

/// The control-plane service handle: every console action and REST call goes through it.
#[derive(Clone, Debug)]
pub struct Control {
    pool: DatabaseConnection,
    db: db::Db,
    throttle: Arc<throttle::LoginThrottle>,
    /// Password checks running at once: one per core.
    password_checks: Arc<tokio::sync::Semaphore>,
    snapshots: gateway::SnapshotHandle,
    gateway_lock: Arc<tokio::sync::Mutex<()>>,
    base_domain: String,
    /// Nonces, debug tokens and throttling counters: in memory, or on Redis in a cluster.
    shared: Arc<gateway::shared::SharedState>,
    /// Revisions this process committed and recompiled itself (its follower skips them).
    local_changes: Arc<std::sync::Mutex<std::collections::BTreeSet<i64>>>,
    /// Wakes this node's follower (`cluster::follow`) after a commit or a notification.
    changed: Arc<tokio::sync::Notify>,
    /// This process in the cluster, once registered.
    node: Option<Arc<cluster::NodeIdentity>>,
    /// The gateway's most recent requests (the ring its log phase fills).
    access_log: Arc<gateway::access_log::AccessLog>,
    gateway_addr: Option<std::net::SocketAddr>,
    /// Where the gateway's HTTPS listener listens (docs and SDKs of HTTPS-only APIs).
    gateway_tls_addr: Option<std::net::SocketAddr>,
    /// The most response body bytes a Debug API call reads.
    debug_body_limit: usize,
    /// Address ranges backends may not be (the SSRF guard; off when empty).
    backend_guard: gateway::guard::AddressGuard,
    compiled: snapshot::CompiledCache,
    /// Seals and opens certificates' private keys.
    secrets: Arc<secrets::SecretKey>,
    /// The HTTPS listener's default certificate, as the console shows it.
    default_certificate: Option<Arc<domain::group::DefaultCertificateView>>,
    parsed_versions: Arc<std::sync::Mutex<std::collections::HashMap<i32, Arc<Vec<domain::release::VersionApi>>>>>,
    /// How long traffic rows are kept (charts read hours where minutes are gone).
    retention: stats::Retention,
    /// Production changes only through an approved request (`GANTRY_PRODUCTION_APPROVAL`).
    production_approval: bool,
}

impl Control {
    /// Connects to `database_url` and brings the schema up to date.
    pub async fn open(database_url: &str) -> Result<Control, ControlError> {
        let db = db::connect(database_url).await?;
        db::migrate(&db).await?;
        Ok(Control::from_connection(db))
    }

    /// Connects to `database_url` without migrating (a gateway node): refused when the
    /// schema is not this version's, so a node never serves from a schema it does not know.
    pub async fn open_migrated(database_url: &str) -> Result<Control, ControlError> {
        use migrations::MigratorTrait;
        let db = db::connect(database_url).await?;
        let pending = migrations::Migrator::get_pending_migrations(&db).await?;
        if !pending.is_empty() {
            return Err(ControlError::Conflict(format!(
                "the database is {} migration(s) behind this version: start a console node or run `gantry migrate` first",
                pending.len()
            )));
        }
        Ok(Control::from_connection(db))
    }

    /// Wraps an open, migrated connection.
    pub fn from_connection(db: DatabaseConnection) -> Control {
        Control {
            pool: db.clone(),
            db: db::Db::Pool(db),
            throttle: Arc::new(throttle::LoginThrottle::default()),
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            )),
            snapshots: gateway::SnapshotHandle::new(gateway::Snapshot::empty(0)),
            gateway_lock: Arc::new(tokio::sync::Mutex::new(())),
            base_domain: "localhost".to_owned(),
            shared: Arc::default(),
            local_changes: Arc::default(),
            changed: Arc::default(),
            node: None,
            access_log: Arc::default(),
            gateway_addr: None,
            gateway_tls_addr: None,
            debug_body_limit: DEFAULT_DEBUG_BODY_LIMIT,
            backend_guard: gateway::guard::AddressGuard::default(),
            compiled: snapshot::CompiledCache::default(),
            // A key for this process only, until `with_secret_key` sets the instance's.
            secrets: Arc::new(
                secrets::SecretKey::from_hex(&secrets::SecretKey::generate_hex()).expect("64 hex digits"),
            ),
            parsed_versions: Arc::default(),
            default_certificate: None,
            retention: stats::Retention::default(),
            production_approval: false,
        }
    }

    /// How long traffic rows are kept.
    pub fn with_retention(mut self, retention: stats::Retention) -> Control {
        self.retention = retention;
        self
    }

    /// How long traffic rows are kept.
    pub fn retention(&self) -> stats::Retention {
        self.retention
    }

    /// Sets the base domain groups answer under (`{subdomain}.{base_domain}`).
    pub fn with_base_domain(mut self, base_domain: &str) -> Control {
        self.base_domain = base_domain.trim().trim_start_matches('.').to_ascii_lowercase();
        self
    }

    /// The key that seals certificates' private keys at rest (the same on every node).
    pub fn with_secret_key(mut self, key: secrets::SecretKey) -> Control {
        self.secrets = Arc::new(key);
        self
    }

    /// Records the HTTPS listener's default certificate, for the console.
    pub fn with_default_certificate(mut self, shown: domain::group::DefaultCertificateView) -> Control {
        self.default_certificate = Some(Arc::new(shown));
        self
    }

    /// The HTTPS listener's default certificate, if the server set one.
    pub fn default_certificate(&self) -> Option<domain::group::DefaultCertificateView> {
        self.default_certificate.as_deref().cloned()
    }

    /// The base domain groups answer under.
    pub fn base_domain(&self) -> String {
        self.base_domain.clone()
    }

    /// Where the gateway listens (the Debug API sends its requests there).
    pub fn with_gateway_addr(mut self, address: std::net::SocketAddr) -> Control {
        self.gateway_addr = Some(address);
        self
    }

    /// Makes every Production release, switch and off-line go through a request that an
    /// admin other than the requester approves.
    pub fn with_production_approval(mut self, required: bool) -> Control {
        self.production_approval = required;
        self
    }

    /// Whether Production changes need an approved request.
    pub fn production_approval(&self) -> bool {
        self.production_approval
    }

    /// The most response body bytes a Debug API call reads (the rest is cut, and the
    /// result says so).
    pub fn with_debug_body_limit(mut self, bytes: usize) -> Control {
        self.debug_body_limit = bytes.max(1);
        self
    }

    /// Refuses releases and Debug API calls to backends in `guard`'s ranges (the gateway
    /// refuses to connect to them too).
    pub fn with_backend_guard(mut self, guard: gateway::guard::AddressGuard) -> Control {
        self.backend_guard = guard;
        self
    }

    /// Whether a backend address may be used: always, unless the SSRF guard is on and the
    /// address resolves into a blocked range (then why not).
    /// Every target of a list is checked.
    pub(crate) async fn backend_allowed(&self, targets: &domain::Targets) -> Result<(), String> {
        if !self.backend_guard.is_on() {
            return Ok(());
        }
        for target in targets.targets() {
            let address = &target.address;
            self.backend_guard.resolve(address.host(), address.effective_port()).await?;
        }
        Ok(())
    }

    /// Where the gateway's HTTPS listener listens.
    pub fn with_gateway_tls_addr(mut self, address: std::net::SocketAddr) -> Control {
        self.gateway_tls_addr = Some(address);
        self
    }

    /// Where nonces, debug tokens and throttling counters live (the gateway shares it).
    pub fn with_shared_state(mut self, shared: Arc<gateway::shared::SharedState>) -> Control {
        self.shared = shared;
        self
    }

    /// Nonces, the one-time tokens the Debug API issues and the gateway consumes, and
    /// throttling counters.
    pub fn shared_state(&self) -> Arc<gateway::shared::SharedState> {
        self.shared.clone()
    }

    /// Searches the ring the gateway's log phase fills (`gateway::Metrics::access_log`).
    pub fn with_access_log(mut self, log: Arc<gateway::access_log::AccessLog>) -> Control {
        self.access_log = log;
        self
    }

    /// This process's identity in the cluster (`GET /nodes`, roll-outs).
    pub fn with_node(mut self, node: cluster::NodeIdentity) -> Control {
        self.node = Some(Arc::new(node));
        self
    }

    /// The snapshot the gateway serves; every change to what is live swaps it.
    pub fn snapshots(&self) -> &gateway::SnapshotHandle {
        &self.snapshots
    }

    /// The connection pool (for the session store, which lives beside the services).
    pub fn pool(&self) -> &DatabaseConnection {
        &self.pool
    }

    /// What the services read and write through: the pool, or the transaction a
    /// configuration file is being applied in.
    pub(crate) fn db(&self) -> &db::Db {
        &self.db
    }

    /// Starts a transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), waiting up to the busy timeout for it: a deferred transaction
    /// that reads and then writes fails with `SQLITE_BUSY` when another writer committed in
    /// between, and the busy timeout does not retry that. On PostgreSQL it takes the same
    /// one writer lock, a transaction-scoped advisory lock ([`db::WRITE_LOCK`]), held until
    /// commit or rollback. Either way reads inside it see every write committed before it,
    /// so a check followed by an insert cannot race another writer, on any node.
    pub(crate) async fn begin_write(&self) -> Result<sea_orm::DatabaseTransaction, sea_orm::DbErr> {
        use sea_orm::{ConnectionTrait, SqliteTransactionMode, TransactionOptions, TransactionTrait};
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let txn = match &self.db {
            db::Db::Pool(pool) => pool.begin_with_options(options).await?,
            // A savepoint inside the file's transaction, which holds the write lock already.
            db::Db::Apply(scope) => return scope.txn.begin().await,
        };
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
            txn.execute_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT pg_advisory_xact_lock({})", db::WRITE_LOCK),
            ))
            .await?;
        }
        Ok(txn)
    }
}

/// The Debug API's response read limit unless configured: 1 MiB.
pub const DEFAULT_DEBUG_BODY_LIMIT: usize = 1024 * 1024;

/// Helpers for this crate's tests: a fresh store in a temporary directory.
#[cfg(test)]
pub(crate) mod testing {
    use crate::{Control, CurrentUser};

    /// A migrated store in a new temporary directory (kept alive by the returned guard).
    pub async fn control() -> (Control, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let control = Control::open(&crate::db::sqlite_url(dir.path())).await.expect("open");
        (control, dir)
    }

    /// The acting user of service calls in tests.
    pub fn admin() -> CurrentUser {
        CurrentUser { id: 1, username: "admin".into(), address: None, grant: crate::users::Grant::admin() }
    }
}
