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

/// The most access-log lines a node may keep in memory (1.28 GB of lines and their paths).
pub const MAX_ACCESS_LOG_LINES: u64 = 10_000_000;

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

    /// Threads that run the console and the gateway; by default one per CPU this process may
    /// use (its affinity and cgroup quota). With one, Gantry runs on tokio's current-thread
    /// scheduler, as one nginx worker runs: no work-stealing queues, wake-ups or
    /// per-task clocks to pay for on a core that has no other worker to share with.
    #[arg(long, env = "GANTRY_WORKER_THREADS", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub worker_threads: Option<u16>,

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

    /// Milliseconds allowed for a TCP connect to a backend target; a target that
    /// black-holes connections is given up on after this and the next target tried (the
    /// API's timeout bounds the whole call).
    #[arg(long, env = "GANTRY_UPSTREAM_CONNECT_TIMEOUT_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub upstream_connect_timeout_ms: u64,

    /// Connections open at once to one backend target, unless the target sets its own
    /// (`max_conns=N` in its address list). Past it, requests wait for a connection within
    /// the API's timeout, then 503 `UpstreamBusy`.
    #[arg(long, env = "GANTRY_UPSTREAM_MAX_CONNS", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub upstream_max_conns: u64,

    /// How a backend's target is picked: `round_robin` (weighted) or `least_in_flight`
    /// (fewest requests in flight relative to the weights).
    #[arg(long, env = "GANTRY_UPSTREAM_BALANCE", default_value = "round_robin", value_parser = gateway::config::Balance::parse)]
    pub upstream_balance: gateway::config::Balance,

    /// Which server speaks HTTP/1.1 to callers on the gateway's plain listener: `gantry`
    /// (its own, on `httparse`; WebSocket upgrades go to hyper) or `hyper` (every request).
    #[arg(long, env = "GANTRY_GATEWAY_HTTP1", default_value = "gantry", value_parser = gateway::config::Http1Server::parse)]
    pub gateway_http1: gateway::config::Http1Server,

    /// Extra attempts on another target: after a connect failure (any method) or a
    /// 502/503/504 answer (idempotent methods without a body, or any request of an API that
    /// opts in with `backend.http.retry_non_idempotent`). 0 turns retries off.
    #[arg(long, env = "GANTRY_UPSTREAM_RETRIES", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=10))]
    pub upstream_retries: u32,

    /// Connect failures or 502/503/504 answers in a row that eject a target of a backend
    /// with several targets (0: never).
    #[arg(long, env = "GANTRY_UPSTREAM_EJECT_FAILURES", default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub upstream_eject_failures: u32,

    /// Milliseconds an ejected target gets no traffic before it is tried again.
    #[arg(long, env = "GANTRY_UPSTREAM_EJECT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub upstream_eject_ms: u64,

    /// Active health check: the path every backend target gets a `GET` on (e.g.
    /// `/healthz`; 200–399 is healthy, 3 failures in a row take a target out, 2 good ones
    /// bring it back). Empty (the default) turns it off.
    #[arg(long, env = "GANTRY_HEALTH_CHECK_PATH", default_value = "", value_parser = parse_check_path)]
    pub health_check_path: CheckPath,

    /// Good health checks in a row that bring a target back.
    #[arg(long, env = "GANTRY_HEALTH_CHECK_HEALTHY", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub health_check_healthy: u32,

    /// Failed health checks in a row that take a target out.
    #[arg(long, env = "GANTRY_HEALTH_CHECK_UNHEALTHY", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub health_check_unhealthy: u32,

    /// The statuses a health check counts as good, `from-to` (inclusive).
    #[arg(long, env = "GANTRY_HEALTH_CHECK_STATUSES", default_value = "200-399", value_parser = parse_statuses)]
    pub health_check_statuses: StatusRange,

    /// Milliseconds between two health checks of one target.
    #[arg(long, env = "GANTRY_HEALTH_CHECK_INTERVAL_MS", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(100..=3_600_000))]
    pub health_check_interval_ms: u64,

    /// DNS discovery: a backend target given by host name is re-resolved in the background
    /// as its TTL runs out, and every address it resolves to becomes a target of its own
    /// (reached by address, still named by the host in `Host` and TLS). Off: a host name is
    /// resolved by the system at each new connection.
    #[arg(long, env = "GANTRY_DNS_DISCOVERY", default_value_t = false, action = clap::ArgAction::Set)]
    pub dns_discovery: bool,

    /// Name servers DNS discovery asks, as comma-separated `ip:port`; empty (the default):
    /// those of `/etc/resolv.conf`.
    #[arg(long, env = "GANTRY_DNS_SERVERS", default_value = "", value_parser = parse_dns_servers)]
    pub dns_servers: DnsServers,

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

    /// Access-log lines each gateway node keeps in memory for the console's Access Log page
    /// and `GET /access-log` (128 bytes each with its path; the oldest leaves first).
    #[arg(long, env = "GANTRY_ACCESS_LOG_LINES", default_value_t = gateway::access_log::DEFAULT_CAPACITY as u64,
          value_parser = clap::value_parser!(u64).range(1..=MAX_ACCESS_LOG_LINES))]
    pub access_log_lines: u64,

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

/// The statuses of `GANTRY_HEALTH_CHECK_STATUSES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRange(pub u16, pub u16);

fn parse_statuses(raw: &str) -> Result<StatusRange, String> {
    let status = |s: &str| match s.trim().parse::<u16>() {
        Ok(n) if (100..=599).contains(&n) => Ok(n),
        _ => Err(format!("`{}` is not an HTTP status (100-599)", s.trim())),
    };
    let (from, to) = raw.split_once('-').unwrap_or((raw, raw));
    let (from, to) = (status(from)?, status(to)?);
    if from > to {
        return Err(format!("{from}-{to} is empty: the first status is above the second"));
    }
    Ok(StatusRange(from, to))
}

/// The name servers of `GANTRY_DNS_SERVERS`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DnsServers(pub Vec<std::net::SocketAddr>);

fn parse_dns_servers(raw: &str) -> Result<DnsServers, String> {
    let servers = raw.split(',').map(str::trim).filter(|s| !s.is_empty());
    let parsed: Result<Vec<_>, String> =
        servers.map(|s| s.parse().map_err(|_| format!("`{s}` is not an ip:port (e.g. 10.0.0.2:53)"))).collect();
    let parsed = parsed?;
    if parsed.len() > 8 {
        return Err(format!("{} name servers; at most 8", parsed.len()));
    }
    Ok(DnsServers(parsed))
}

/// The path of `GANTRY_HEALTH_CHECK_PATH` (`None`: off).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckPath(pub Option<String>);

fn parse_check_path(raw: &str) -> Result<CheckPath, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(CheckPath(None));
    }
    let valid = raw.starts_with('/')
        && raw.len() <= 1024
        && raw.parse::<axum::http::uri::PathAndQuery>().is_ok_and(|p| p.as_str() == raw)
        && !raw.contains('#');
    if valid {
        Ok(CheckPath(Some(raw.to_owned())))
    } else {
        Err(format!("`{raw}` is not a path: it starts with / and has no spaces or fragment"))
    }
}

impl ServeSettings {
    /// How the gateway calls backends, from these settings.
    pub fn upstream(&self) -> gateway::config::UpstreamSettings {
        use std::time::Duration;
        let check = self.health_check_path.0.as_ref().map(|path| {
            let interval = Duration::from_millis(self.health_check_interval_ms);
            let mut check = gateway::config::HealthCheck::of(path);
            check.interval = interval;
            check.timeout = check.timeout.min(interval);
            check.healthy = self.health_check_healthy;
            check.unhealthy = self.health_check_unhealthy;
            check.statuses = (self.health_check_statuses.0, self.health_check_statuses.1);
            check
        });
        gateway::config::UpstreamSettings {
            connect_timeout: Duration::from_millis(self.upstream_connect_timeout_ms),
            max_conns: usize::try_from(self.upstream_max_conns).unwrap_or(usize::MAX),
            balance: self.upstream_balance,
            retries: self.upstream_retries,
            health: gateway::config::Health {
                failures: self.upstream_eject_failures,
                backoff: Duration::from_millis(self.upstream_eject_ms),
            },
            check,
            dns: self.dns_discovery.then(|| gateway::config::DnsSettings { servers: self.dns_servers.0.clone() }),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_upstream_settings_are_refused_naming_the_value() {
        assert_eq!(parse_check_path(""), Ok(CheckPath(None)));
        assert_eq!(parse_check_path(" /healthz?deep=1 "), Ok(CheckPath(Some("/healthz?deep=1".into()))));
        for bad in ["healthz", "http://evil.example/", "/a b", "/x#frag", "//evil.example/x\r\nHost: y"] {
            assert!(parse_check_path(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_statuses("200-399"), Ok(StatusRange(200, 399)));
        assert_eq!(parse_statuses("204"), Ok(StatusRange(204, 204)));
        assert!(parse_statuses("399-200").expect_err("empty").contains("empty"));
        assert!(parse_statuses("200-999").is_err() && parse_statuses("ok").is_err());
        assert_eq!(parse_dns_servers(""), Ok(DnsServers(Vec::new())));
        assert_eq!(parse_dns_servers("10.0.0.2:53, [::1]:5353").map(|s| s.0.len()), Ok(2));
        assert!(parse_dns_servers("10.0.0.2").expect_err("no port").contains("ip:port"));
        assert!(parse_dns_servers("dns.example:53").is_err(), "a name server is an address");
        let many = (0..9).map(|i| format!("10.0.0.{i}:53")).collect::<Vec<_>>().join(",");
        assert!(parse_dns_servers(&many).is_err());
    }

    #[derive(clap::Parser)]
    struct Serve {
        #[command(flatten)]
        settings: ServeSettings,
    }

    #[test]
    fn access_log_lines_default_to_the_rings_size_and_a_careless_count_is_refused_by_name() {
        use clap::Parser;
        let lines = |args: &[&str]| {
            Serve::try_parse_from(std::iter::once("gantry").chain(args.iter().copied()))
                .map(|s| s.settings.access_log_lines)
        };
        assert_eq!(lines(&[]).expect("default"), 100_000);
        assert_eq!(lines(&["--access-log-lines", "3"]).expect("three"), 3);
        assert_eq!(lines(&["--access-log-lines", "10000000"]).expect("the most"), MAX_ACCESS_LOG_LINES);
        for bad in ["0", "10000001", "-1", "many", "1e6", "18446744073709551616"] {
            let error = lines(&[&format!("--access-log-lines={bad}")]).expect_err(bad).to_string();
            assert!(error.contains("--access-log-lines"), "{bad}: {error}");
        }
    }
}
