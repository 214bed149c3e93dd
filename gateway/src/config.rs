//! Settings of the gateway listener and its upstream client.

use std::path::PathBuf;
use std::time::Duration;

/// How the gateway listens and calls backends.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Extra PEM CA certificates trusted for HTTPS backends, beside the system's roots.
    pub upstream_ca_file: Option<PathBuf>,
    /// Largest request body accepted; a larger `Content-Length` is a 413.
    pub max_body_bytes: u64,
    /// Largest request head (request line and headers); larger is a 431.
    pub max_header_bytes: usize,
    /// Time for a request head to arrive complete, counted from its first byte (or from the
    /// connection's start, for its first request).
    pub header_timeout: Duration,
    /// Time a keep-alive connection waits for its next request before it closes.
    pub idle_timeout: Duration,
    /// Longest pause between request body bytes; longer is a 408.
    pub body_timeout: Duration,
    /// Request body bytes buffered at once across all connections; over it is a 503.
    pub body_buffer_bytes: u64,
    /// Caller connections open at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Function calls waiting for a worker, across groups; more are a 503.
    pub function_queue: usize,
    /// Address ranges backends may not be or resolve to (off when empty).
    pub blocked_backends: crate::guard::AddressGuard,
    /// Proxies in front of the gateway whose `X-Forwarded-For` is believed (traffic
    /// policies judge the right-most address that is not one of them).
    pub trusted_proxies: Vec<domain::policy::IpRange>,
    /// Whether responses carry `X-Ca-Version` (the version that served them).
    pub version_header: bool,
    /// How backends with one or several targets are called ([`UpstreamSettings`]).
    pub upstream: UpstreamSettings,
    /// Which server speaks HTTP/1.1 to callers, on the plain listener and over TLS.
    pub http1: Http1Server,
}

/// The server for callers' HTTP/1.1, on the plain listener and over TLS (HTTP/2 is hyper's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Http1Server {
    /// Gantry's own, on `httparse` ([`crate::h1::server`]); upgrades go to hyper.
    #[default]
    Gantry,
    /// hyper's, for every request.
    Hyper,
}

impl Http1Server {
    /// Parses `gantry` or `hyper`.
    pub fn parse(raw: &str) -> Result<Http1Server, String> {
        match raw.trim() {
            "gantry" => Ok(Http1Server::Gantry),
            "hyper" => Ok(Http1Server::Hyper),
            other => Err(format!("`{other}` is not gantry or hyper")),
        }
    }
}

/// How backends are called: connection limits, balancing, retries and health checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSettings {
    /// Time allowed for a TCP connect (the API's timeout bounds the whole call too): a target
    /// that black-holes connections is given up on after this, and the next one tried.
    pub connect_timeout: Duration,
    /// Connections open at once to one target, unless the target sets its own `max_conns`.
    /// Past it, requests wait for a connection within the API's timeout, then 503
    /// `UpstreamBusy`.
    pub max_conns: usize,
    /// How a target is picked.
    pub balance: Balance,
    /// Extra attempts on another target: after a connect failure or a refused reused
    /// connection (any method), or after a 502/503/504 answer (idempotent methods with no
    /// body, or any request of an API that opts in: [`crate::compiled::HttpBackend`]'s
    /// `retry_any_method`). 0 turns retries off.
    pub retries: u32,
    /// What ejects a target, and for how long (passive health).
    pub health: Health,
    /// The active health check, when on.
    pub check: Option<HealthCheck>,
    /// DNS discovery of targets given by host name, when on.
    pub dns: Option<DnsSettings>,
}

/// Where DNS discovery looks names up: the system's configuration, or these name servers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DnsSettings {
    /// Name servers (`ip:port`, over UDP and TCP); empty for `/etc/resolv.conf`.
    pub servers: Vec<std::net::SocketAddr>,
}

impl Default for UpstreamSettings {
    fn default() -> UpstreamSettings {
        UpstreamSettings {
            connect_timeout: Duration::from_secs(5),
            max_conns: 256,
            balance: Balance::RoundRobin,
            retries: 1,
            health: Health::default(),
            check: None,
            dns: None,
        }
    }
}

/// How a target is picked among the available ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Balance {
    /// Weighted round robin (smooth: weights 3:1 go a a b a, not a a a b).
    #[default]
    RoundRobin,
    /// The target with the fewest requests in flight relative to its weight.
    LeastInFlight,
}

impl Balance {
    /// Parses `round_robin` or `least_in_flight`.
    pub fn parse(raw: &str) -> Result<Balance, String> {
        match raw.trim() {
            "round_robin" => Ok(Balance::RoundRobin),
            "least_in_flight" => Ok(Balance::LeastInFlight),
            other => Err(format!("`{other}` is not round_robin or least_in_flight")),
        }
    }
}

/// Passive health: what ejects a target and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Health {
    /// Connect failures or 5xx answers in a row that eject a target (0: never).
    pub failures: u32,
    /// How long an ejected target gets no traffic.
    pub backoff: Duration,
}

impl Default for Health {
    fn default() -> Health {
        Health { failures: 3, backoff: Duration::from_secs(10) }
    }
}

/// The active health check: `GET path` on every target every interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// The path probed (`/healthz`).
    pub path: String,
    /// Time between probes of one target.
    pub interval: Duration,
    /// Time a probe may take.
    pub timeout: Duration,
    /// Good probes in a row that bring a target back.
    pub healthy: u32,
    /// Failed probes in a row that take it out.
    pub unhealthy: u32,
    /// Statuses that count as good (inclusive range).
    pub statuses: (u16, u16),
}

impl HealthCheck {
    /// A check of `path` with the usual thresholds: every 5 s, 2 s per probe, 2 good to come
    /// back, 3 failed to go out, 200–399 good.
    pub fn of(path: &str) -> HealthCheck {
        HealthCheck {
            path: path.to_owned(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(2),
            healthy: 2,
            unhealthy: 3,
            statuses: (200, 399),
        }
    }
}

impl Default for GatewayConfig {
    fn default() -> GatewayConfig {
        GatewayConfig {
            upstream_ca_file: None,
            max_body_bytes: 32 * 1024 * 1024,
            max_header_bytes: 64 * 1024,
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_timeout: Duration::from_secs(30),
            body_buffer_bytes: 256 * 1024 * 1024,
            max_connections: 10_000,
            function_queue: 1024,
            blocked_backends: crate::guard::AddressGuard::default(),
            trusted_proxies: Vec::new(),
            version_header: true,
            upstream: UpstreamSettings::default(),
            http1: Http1Server::default(),
        }
    }
}
