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
        }
    }
}
