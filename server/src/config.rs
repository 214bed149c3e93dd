//! Settings, from flags or `GANTRY_*` environment variables (flags win).

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Where the data lives; shared by every command that opens the store.
#[derive(Args, Debug, Clone)]
pub struct DatabaseSettings {
    /// Directory for Gantry's data (the SQLite database `gantry.db`).
    #[arg(long, env = "GANTRY_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Database URL; overrides the data dir. `sqlite://path/to/file.db` or
    /// `postgres://user:password@host/db`.
    #[arg(long, env = "GANTRY_DATABASE_URL")]
    pub database_url: Option<String>,
}

impl DatabaseSettings {
    /// The URL to connect to, creating the data dir for the SQLite default.
    pub fn url(&self) -> anyhow::Result<String> {
        match &self.database_url {
            Some(url) => Ok(url.clone()),
            None => {
                std::fs::create_dir_all(&self.data_dir)?;
                Ok(control::db::sqlite_url(&self.data_dir))
            }
        }
    }
}

/// Settings of `gantry serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeSettings {
    /// What this process serves: `all` (console, admin REST and gateway: one node),
    /// `console` (console and admin REST only; it migrates the database) or `gateway` (the
    /// gateway, plus health and metrics on the admin address; never migrates or writes
    /// configuration). Nodes of a cluster share one PostgreSQL (`GANTRY_DATABASE_URL`).
    #[arg(long, env = "GANTRY_ROLE", default_value = "all", value_parser = parse_role)]
    pub role: domain::cluster::Role,

    /// Where a `gateway` node answers `GET /health` and `GET /metrics` (for probes and
    /// Prometheus; no login: keep it on a private address).
    #[arg(long, env = "GANTRY_ADMIN_ADDR", default_value = "127.0.0.1:9090")]
    pub admin_addr: SocketAddr,

    /// Redis for state every node must share (`redis://host:port[/db]`): nonces (a replay
    /// sent to another node is refused), Debug API tokens and throttling counters. Unset:
    /// each node keeps its own, in memory.
    #[arg(long, env = "GANTRY_REDIS_URL")]
    pub redis_url: Option<String>,

    /// How often, in milliseconds, a node checks the database for changes made elsewhere
    /// (besides PostgreSQL's notifications, which usually come first).
    #[arg(long, env = "GANTRY_POLL_INTERVAL_MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(50..=60000))]
    pub poll_interval_ms: u64,

    /// Follow PostgreSQL's notifications of committed changes (`LISTEN`). Off: polling
    /// alone, e.g. behind a PgBouncer in transaction mode, which does not pass `LISTEN`.
    #[arg(long, env = "GANTRY_LISTEN_NOTIFICATIONS", default_value_t = true, action = clap::ArgAction::Set)]
    pub listen_notifications: bool,

    /// Address of the web console and the admin REST API.
    #[arg(long, env = "GANTRY_CONSOLE_ADDR", default_value = "127.0.0.1:3000")]
    pub console_addr: SocketAddr,

    /// Address of the API gateway that serves released APIs.
    #[arg(long, env = "GANTRY_GATEWAY_ADDR", default_value = "127.0.0.1:8080")]
    pub gateway_addr: SocketAddr,

    /// Address of the gateway's HTTPS listener (TLS 1.2/1.3; HTTP/2 or HTTP/1.1 by ALPN;
    /// the certificate by SNI: a custom domain's own, else the default certificate).
    #[arg(long, env = "GANTRY_GATEWAY_TLS_ADDR", default_value = "127.0.0.1:8443")]
    pub gateway_tls_addr: SocketAddr,

    /// PEM certificate chain of the HTTPS listener's default certificate (for
    /// `*.{base domain}`); with `--gateway-tls-key-file`. Unset: a self-signed one is
    /// generated in `{data dir}/tls/` (browsers warn; the console says so).
    #[arg(long, env = "GANTRY_GATEWAY_TLS_CERT_FILE")]
    pub gateway_tls_cert_file: Option<PathBuf>,

    /// PEM private key of the default certificate.
    #[arg(long, env = "GANTRY_GATEWAY_TLS_KEY_FILE")]
    pub gateway_tls_key_file: Option<PathBuf>,

    /// 64 hex digits: the key that seals custom domains' private keys in the database (the
    /// same on every node of a cluster). Unset: `{data dir}/secret.key`, made at first start.
    #[arg(long, env = "GANTRY_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,

    #[command(flatten)]
    pub database: DatabaseSettings,

    /// Base domain: a group answers on `{subdomain}.{base_domain}`.
    #[arg(long, env = "GANTRY_BASE_DOMAIN", default_value = "localhost")]
    pub base_domain: String,

    /// Password for the `admin` user created on the first start (random and logged once when
    /// unset). Ignored once any user exists.
    #[arg(long, env = "GANTRY_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,

    /// Directory with the console's compiled browser files (`pkg/`), built by cargo-leptos.
    #[arg(long, env = "GANTRY_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,

    /// A PEM file of extra CA certificates the gateway trusts for HTTPS backends (beside the
    /// system's roots), e.g. an internal CA.
    #[arg(long, env = "GANTRY_UPSTREAM_CA_FILE")]
    pub upstream_ca_file: Option<PathBuf>,

    /// Largest request body the gateway accepts, in bytes (larger is a 413).
    #[arg(long, env = "GANTRY_MAX_BODY_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub max_body_bytes: u64,

    /// Seconds a caller (of the gateway or the console) has to send a complete request
    /// head, counted from its first byte, or from the connection's start for its first
    /// request. Slow or never-finished heads are cut off.
    #[arg(long, env = "GANTRY_HEADER_TIMEOUT_S", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout_s: u64,

    /// Seconds an idle keep-alive connection (gateway or console) waits for its next
    /// request before it is closed.
    #[arg(long, env = "GANTRY_IDLE_TIMEOUT_S", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub idle_timeout_s: u64,

    /// Longest pause, in seconds, between the bytes of a request body sent to the gateway
    /// (longer is a 408 `RequestTimeout`).
    #[arg(long, env = "GANTRY_BODY_TIMEOUT_S", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout_s: u64,

    /// Request body bytes the gateway buffers at once across all callers (bodies it reads
    /// whole: signed forms, body parameters, functions); a request over it is a 503
    /// `Overloaded` at once.
    #[arg(long, env = "GANTRY_BODY_BUFFER_BYTES", default_value_t = 256 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..))]
    pub body_buffer_bytes: u64,

    /// Caller connections the gateway keeps open at once; more wait until one closes.
    /// 0 (the default) derives it from the open-file limit, which start-up raises to its
    /// hard limit: half of what is left after 256 kept for the console, the database and
    /// files, since each proxied call also holds a backend connection.
    #[arg(long, env = "GANTRY_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,

    /// Function calls that may wait for a worker at once, across groups (each group waits
    /// its turn); past it a call is a 503 `Overloaded`. A call waits at most its function's
    /// time limit, then is dropped unrun.
    #[arg(long, env = "GANTRY_FUNCTION_QUEUE", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub function_queue: u64,

    /// The most response body bytes a Debug API call reads and shows; a longer body is cut
    /// and the result says so.
    #[arg(long, env = "GANTRY_DEBUG_MAX_BODY_BYTES", default_value_t = 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..=268435456))]
    pub debug_max_body_bytes: u64,

    /// SSRF guard: comma-separated IP ranges (CIDR) that backends may not be or resolve to,
    /// e.g. `169.254.0.0/16,127.0.0.0/8,::1/128`. Releases and Debug API calls to them are
    /// refused, and the gateway will not connect to them. Empty (the default) turns it off.
    #[arg(long, env = "GANTRY_BLOCKED_BACKEND_RANGES", default_value = "", value_parser = parse_ranges)]
    pub blocked_backend_ranges: gateway::guard::AddressGuard,

    /// Proxies in front of the gateway, as comma-separated IP ranges (CIDR): for a request
    /// from one of them, traffic policies (IP access control, throttling per address) judge
    /// the right-most `X-Forwarded-For` address that is not a trusted proxy. Empty (the
    /// default): the socket peer, always.
    #[arg(long, env = "GANTRY_TRUSTED_PROXIES", default_value = "", value_parser = parse_proxies)]
    pub trusted_proxies: TrustedProxies,

    /// Name the version that served each gateway response in `X-Ca-Version` (with a canary
    /// running, which side answered). Off: the header is not sent.
    #[arg(long, env = "GANTRY_VERSION_HEADER", default_value_t = true, action = clap::ArgAction::Set)]
    pub version_header: bool,

    /// Production releases, switches and off-lines only through a request that an admin other
    /// than the requester approves (admins included). Off: admins change Production directly.
    #[arg(long, env = "GANTRY_PRODUCTION_APPROVAL", default_value_t = false, action = clap::ArgAction::Set)]
    pub production_approval: bool,

    /// Mark the session cookie `Secure` (set when the console is served over HTTPS).
    #[arg(long, env = "GANTRY_SECURE_COOKIES", default_value_t = false)]
    pub secure_cookies: bool,

    /// Also write every access-log line to this file as JSON lines (rotated by size, three
    /// old files kept as `FILE.1` … `FILE.3`).
    #[arg(long, env = "GANTRY_ACCESS_LOG_FILE")]
    pub access_log_file: Option<PathBuf>,

    /// Size in bytes at which the access-log file is rotated.
    #[arg(long, env = "GANTRY_ACCESS_LOG_FILE_BYTES", default_value_t = 64 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(4096..))]
    pub access_log_file_bytes: u64,

    /// Keep traffic per minute for the console's charts (`false`: no charts, no stats rows).
    #[arg(long, env = "GANTRY_STATS", default_value_t = true, action = clap::ArgAction::Set)]
    pub stats: bool,

    /// How often, in milliseconds, a gateway writes its traffic of the current minute.
    #[arg(long, env = "GANTRY_STATS_FLUSH_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(100..=60000))]
    pub stats_flush_ms: u64,

    /// Days the 1-minute traffic rows are kept.
    #[arg(long, env = "GANTRY_STATS_MINUTE_DAYS", default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=90))]
    pub stats_minute_days: u32,

    /// Days the 1-hour traffic rows (rolled up from minutes) are kept.
    #[arg(long, env = "GANTRY_STATS_HOUR_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub stats_hour_days: u32,
}

fn parse_role(raw: &str) -> Result<domain::cluster::Role, String> {
    raw.parse()
}

fn parse_ranges(raw: &str) -> Result<gateway::guard::AddressGuard, String> {
    gateway::guard::AddressGuard::parse(raw)
}

/// The ranges of `GANTRY_TRUSTED_PROXIES`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(pub Vec<domain::policy::IpRange>);

fn parse_proxies(raw: &str) -> Result<TrustedProxies, String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(domain::policy::IpRange::parse)
        .collect::<Result<Vec<_>, _>>()
        .map(TrustedProxies)
}
