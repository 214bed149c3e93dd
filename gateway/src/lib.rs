//! Gantry's data plane: serves whatever [`Snapshot`] it holds, knowing nothing of the console
//! or the database (`control` compiles the live deployments into a snapshot and swaps it in).
//!
//! # Layout
//! - [`snapshot`]: the immutable, compiled configuration and the [`SnapshotHandle`] that
//!   swaps it atomically; requests in flight keep the snapshot they started with.
//! - [`access_log`]: the most recent requests (a bounded ring per node) for the console's
//!   access-log viewer.
//! - [`apps`]: the apps' credentials and authorizations, looked up by AppKey or AppCode.
//! - [`balancer`]: backends with several targets: weighted round robin or least in flight
//!   over their peers.
//! - [`peer`]: one backend target as shared by every backend listing it: its pool, health
//!   (passive ejection, the active check) and load, and their `/metrics`.
//! - [`body`]: the boxed body type shared by fixed answers and streamed backend bodies.
//! - [`compiled`]: an API compiled for serving (route shape, parameters, backend).
//! - [`config`]: listener and upstream settings (extra CA file, size limits).
//! - [`context`]: what the phases share about one request: its context, [`context::Phase`],
//!   id and peer.
//! - [`discovery`]: DNS discovery: targets given by host name re-resolved by TTL, each
//!   address a peer of its own.
//! - [`debug`]: one-time debug tokens and the per-request trace the Debug API page shows.
//! - [`function`]: Function backends: user JavaScript in a QuickJS sandbox on worker threads.
//! - [`error`]: gateway errors and their JSON / `X-Ca-Error-*` rendering.
//! - [`fields`]: form and JSON body fields, read only for APIs that declare or map them.
//! - [`h1`]: HTTP/1.1 to backends on the request's own task: the head in one write, the
//!   response parsed with `httparse`, the body decoded as it is read; no connection task.
//! - [`guard`]: the optional SSRF guard: address ranges backends may not resolve to.
//! - [`listener`]: the accept loop every listener shares: connection cap, TLS handshake and
//!   ALPN, head and idle clocks, graceful shutdown.
//! - [`name`]: [`name::Name`], a short string kept inline (API, parameter and path names).
//! - [`metrics`]: request counters and latency histograms in Prometheus' text format.
//! - [`nonce`]: the `X-Ca-Nonce` values seen recently (replay protection), bounded.
//! - [`shared`]: nonces, debug tokens and throttling counters: in memory, or on Redis so
//!   every node of a cluster agrees.
//! - [`stats`]: traffic per minute (per group, API, environment, version; per backend
//!   origin) until the server writes it to the store for the console's charts.
//! - [`signature`]: the X-Ca StringToSign and HMAC, and a [`signature::Signer`] for clients.
//! - [`path`]: the one canonical spelling of a request path, decided before routing.
//! - [`policy`]: traffic policies as served: which applies to each API and environment, and
//!   the throttling counters (a sliding log).
//! - [`phases`]: one module per step of DESIGN.md's request lifecycle, each a plain function
//!   tested alone.
//! - [`request_id`]: a request's id (`X-Ca-Request-Id`), a random prefix and a counter.
//! - [`router`]: the path router, a trie of segments.
//! - [`server`]: the gateway's service: the phases run in order for each request, on the
//!   plain listener and the HTTPS one.
//! - [`tls`]: HTTPS for callers: custom domains' certificates, SNI, ALPN (`h2`, `http/1.1`).
//! - [`upstream`]: pooled keep-alive connections per target (plain TCP or rustls), with a
//!   connection limit per target.
//! - [`websocket`]: WebSocket APIs: the upgrade through every phase, then a byte pipe with
//!   an idle timeout.

/// How `scripts/build-perf.sh` built this crate: unset for a plain build, `generate` or
/// `use:<digest>` for a profile-guided one (its rustc wrapper, `scripts/pgo-rustc.sh`, adds
/// the flags). Read here only so that cargo rebuilds the proxy path's crates when the
/// profile changes (`option_env!` makes the variable part of the crate's inputs).
const _: Option<&str> = option_env!("GANTRY_PGO");

pub mod access_log;
pub mod apps;
pub mod balancer;
pub mod body;
pub mod compiled;
pub mod config;
pub mod context;
pub mod debug;
pub mod discovery;
pub mod error;
pub mod fields;
pub mod function;
pub mod guard;
pub mod h1;
pub mod listener;
pub mod metrics;
pub mod name;
pub mod nonce;
pub mod path;
pub mod peer;
pub mod phases;
pub mod policy;
pub mod request_id;
pub mod router;
pub mod server;
pub mod shared;
pub mod signature;
pub mod snapshot;
pub mod stats;
pub mod tls;
pub mod upstream;
pub mod websocket;

pub use config::GatewayConfig;
pub use domain::Environment;
pub use error::{AuthFailure, GatewayError};
pub use metrics::Metrics;
pub use server::serve;
pub use snapshot::{Snapshot, SnapshotHandle};
