//! A backend target as the gateway keeps it (issue 25): a [`Peer`] is one address with its
//! connection limit, its pool, its health and its load. Peers are interned: every backend
//! that lists the same target shares one peer, so its health, pool and counters are one
//! state for the whole gateway, kept across recompiles (a release does not forget that a
//! target is down) and shown once in `/metrics` ([`render_metrics`]).
//!
//! Health, passive: a connect failure or a 502/503/504 answer counts against a peer; a
//! success resets the count; [`Health::failures`] in a row eject it for
//! [`Health::backoff`]. After the back-off it takes traffic again, and one more failure
//! ejects it again. Active ([`run_checks`]): when a check path is set, every peer is probed
//! with `GET` on its own connection every interval; `unhealthy` failed probes in a row mark
//! it down until `healthy` good ones in a row bring it back. A peer is available when
//! neither says down.

use crate::config::{Health, HealthCheck};
use crate::upstream::Pool;
use domain::BackendAddress;
use http::HeaderValue;
use rustc_hash::FxHashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::Instant;

/// Where an HTTP backend is, in the forms each request needs. One value per address is
/// shared by every compiled API that calls it, so 10,000 APIs on one backend read the same
/// few cache lines per request rather than 10,000 copies.
#[derive(Debug)]
pub struct Origin {
    /// `scheme://authority`: the connection pool's key.
    pub key: Arc<str>,
    /// The authority, parsed once for the URL.
    pub uri_authority: http::uri::Authority,
    /// The authority as the default `Host` header.
    pub host_header: HeaderValue,
}

impl Origin {
    /// The shared origin for `authority` over http(s).
    pub fn intern(tls: bool, authority: &str) -> Result<Arc<Origin>, String> {
        static ORIGINS: LazyLock<Mutex<FxHashMap<String, Weak<Origin>>>> = LazyLock::new(Mutex::default);
        let key = format!("{}://{authority}", if tls { "https" } else { "http" });
        let mut origins = ORIGINS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(origin) = origins.get(&key).and_then(Weak::upgrade) {
            return Ok(origin);
        }
        if origins.len() >= 1024 {
            origins.retain(|_, origin| origin.strong_count() > 0);
        }
        let origin = Arc::new(Origin {
            key: key.as_str().into(),
            uri_authority: http::uri::Authority::try_from(authority)
                .map_err(|e| format!("backend `{authority}`: {e}"))?,
            host_header: HeaderValue::from_str(authority).map_err(|e| format!("backend `{authority}`: {e}"))?,
        });
        origins.insert(key, Arc::downgrade(&origin));
        Ok(origin)
    }
}

/// Milliseconds on the gateway's own clock (never 0, so 0 can mean "not set").
fn now_ms() -> u64 {
    static START: LazyLock<Instant> = LazyLock::new(Instant::now);
    START.elapsed().as_millis() as u64 + 1
}

/// One target: its address, pool, health and load.
#[derive(Debug)]
pub struct Peer {
    /// Where.
    pub address: BackendAddress,
    /// Its URL authority, `Host` header and pool key.
    pub origin: Arc<Origin>,
    /// Its own connection limit, when the target gave one.
    pub max_conns: Option<u32>,
    /// The address it connects to, when discovered from its host name (which still names
    /// it in `Host` and TLS); `None` to connect by the name itself.
    pub connect_to: Option<SocketAddr>,
    /// Its idle connections and connection limit.
    pub pool: Arc<Pool>,
    /// Passive failures in a row.
    failures: AtomicU32,
    /// Ejected until this time ([`now_ms`]); 0 when not ejected.
    ejected_until: AtomicU64,
    /// Times it was ejected.
    ejections: AtomicU64,
    /// Down by the active check.
    probe_down: AtomicBool,
    /// Active probes in a row with the same outcome, and which (positive: good).
    probe_streak: std::sync::atomic::AtomicI32,
    /// Requests sent to it and not yet answered.
    in_flight: AtomicUsize,
}

impl Peer {
    fn new(address: BackendAddress, max_conns: Option<u32>, connect_to: Option<SocketAddr>) -> Result<Peer, String> {
        let origin = Origin::intern(address.is_tls(), &address.authority())?;
        Ok(Peer {
            address,
            origin,
            max_conns,
            connect_to,
            pool: Arc::default(),
            failures: AtomicU32::new(0),
            ejected_until: AtomicU64::new(0),
            ejections: AtomicU64::new(0),
            probe_down: AtomicBool::new(false),
            probe_streak: std::sync::atomic::AtomicI32::new(0),
            in_flight: AtomicUsize::new(0),
        })
    }

    /// The shared peer for `address` with `max_conns`, reached at `connect_to` (or by name).
    pub fn intern(
        address: &BackendAddress,
        max_conns: Option<u32>,
        connect_to: Option<SocketAddr>,
    ) -> Result<Arc<Peer>, String> {
        let key = (address.to_string(), max_conns, connect_to);
        let mut peers = PEERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(peer) = peers.get(&key).and_then(Weak::upgrade) {
            return Ok(peer);
        }
        if peers.len() >= 1024 {
            peers.retain(|_, peer| peer.strong_count() > 0);
        }
        let peer = Arc::new(Peer::new(address.clone(), max_conns, connect_to)?);
        peers.insert(key, Arc::downgrade(&peer));
        Ok(peer)
    }

    /// Takes traffic: not ejected by failures, not down by the active check.
    pub fn is_available(&self) -> bool {
        let until = self.ejected_until.load(Ordering::Relaxed);
        (until == 0 || now_ms() >= until) && !self.probe_down.load(Ordering::Relaxed)
    }

    /// A call to it failed to connect, or it answered 5xx.
    pub fn failed(&self, health: Health) {
        let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        if health.failures > 0 && failures >= health.failures {
            let until = now_ms() + health.backoff.as_millis() as u64;
            if self.ejected_until.swap(until, Ordering::Relaxed) < now_ms() {
                self.ejections.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// It answered (not 5xx).
    pub fn succeeded(&self) {
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Relaxed);
        }
        if self.ejected_until.load(Ordering::Relaxed) != 0 {
            self.ejected_until.store(0, Ordering::Relaxed);
        }
    }

    /// Notes an active probe's outcome against the check's thresholds.
    pub fn probed(&self, good: bool, healthy: u32, unhealthy: u32) {
        let streak = self.probe_streak.load(Ordering::Relaxed);
        let streak = match (good, streak) {
            (true, s) if s > 0 => s.saturating_add(1),
            (true, _) => 1,
            (false, s) if s < 0 => s.saturating_sub(1),
            (false, _) => -1,
        };
        self.probe_streak.store(streak, Ordering::Relaxed);
        if good && streak >= healthy as i32 {
            self.probe_down.store(false, Ordering::Relaxed);
            self.succeeded();
        } else if !good && -streak >= unhealthy as i32 {
            self.probe_down.store(true, Ordering::Relaxed);
        }
    }

    /// Where an attempt on it goes.
    pub fn dest(&self) -> crate::upstream::Dest<'_> {
        crate::upstream::Dest {
            address: &self.address,
            connect_to: self.connect_to,
            pool: &self.pool,
            max_conns: self.max_conns,
        }
    }

    /// Requests in flight to it now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts a request as in flight to it until the guard drops.
    pub fn start(self: &Arc<Peer>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// `healthy`, `ejected` (passive) or `down` (active check).
    pub fn state(&self) -> &'static str {
        if self.probe_down.load(Ordering::Relaxed) {
            "down"
        } else if !self.is_available() {
            "ejected"
        } else {
            "healthy"
        }
    }
}

/// The active health check, forever: every interval, each live peer gets `GET path` on a connection of its own, all at once; the outcome
/// moves it by the check's thresholds. (A backend's only target is never taken out, as in
/// nginx: with nowhere else to send a request, an ejection would only turn a blip into an
/// outage.)
pub async fn run_checks(client: crate::upstream::Upstream, check: HealthCheck) {
    let mut ticks = tokio::time::interval(check.interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let mut probes = tokio::task::JoinSet::new();
        for peer in peers() {
            let (client, check) = (client.clone(), check.clone());
            probes.spawn(async move {
                let deadline = Instant::now() + check.timeout;
                let outcome = client.probe(peer.dest(), &check.path, deadline).await;
                let good = matches!(outcome, Ok(status) if (check.statuses.0..=check.statuses.1).contains(&status));
                if !good {
                    let why = match outcome {
                        Ok(status) => format!("answered {status}"),
                        Err(error) => error.to_string(),
                    };
                    tracing::debug!(target = %peer.origin.key, %why, "health check failed");
                }
                peer.probed(good, check.healthy, check.unhealthy);
            });
        }
        while probes.join_next().await.is_some() {}
    }
}

/// A request in flight to a peer; dropping it ends it.
pub struct InFlight(Arc<Peer>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

type PeerKey = (String, Option<u32>, Option<SocketAddr>);
static PEERS: LazyLock<Mutex<FxHashMap<PeerKey, Weak<Peer>>>> = LazyLock::new(Mutex::default);

/// Every live peer (for the active checks and `/metrics`), in address order.
pub fn peers() -> Vec<Arc<Peer>> {
    let peers = PEERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut live: Vec<Arc<Peer>> = peers.values().filter_map(Weak::upgrade).collect();
    live.sort_by(|a, b| (&a.origin.key, a.max_conns, a.connect_to).cmp(&(&b.origin.key, b.max_conns, b.connect_to)));
    live
}

/// A peer's identity in a request's list of tried peers.
pub fn identity(peer: &Arc<Peer>) -> usize {
    Arc::as_ptr(peer) as usize
}

/// The peers' state and pools in Prometheus' text format.
pub fn render_metrics(out: &mut String) {
    let peers = peers();
    if peers.is_empty() {
        return;
    }
    let label = |peer: &Peer| {
        let mut label = format!("target=\"{}\"", peer.origin.key);
        if let Some(address) = peer.connect_to {
            label.push_str(&format!(",address=\"{address}\""));
        }
        if let Some(max) = peer.max_conns {
            label.push_str(&format!(",max_conns=\"{max}\""));
        }
        label
    };
    // One family: its HELP and TYPE lines, then each peer's samples (extra labels, value).
    let family =
        |out: &mut String, name: &str, kind: &str, help: &str, samples: &dyn Fn(&Peer) -> Vec<(String, u64)>| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for peer in &peers {
                for (extra, value) in samples(peer) {
                    let _ = writeln!(out, "{name}{{{}{extra}}} {value}", label(peer));
                }
            }
        };
    family(out, "gantry_upstream_target_healthy", "gauge", "1 when the target takes traffic.", &|peer| {
        vec![(format!(",state=\"{}\"", peer.state()), u64::from(peer.is_available()))]
    });
    family(out, "gantry_upstream_target_ejections_total", "counter", "Times failures ejected the target.", &|peer| {
        vec![(String::new(), u64::from(peer.ejections.load(Ordering::Relaxed)))]
    });
    family(
        out,
        "gantry_upstream_target_in_flight",
        "gauge",
        "Requests sent to the target, not yet answered.",
        &|peer| vec![(String::new(), peer.in_flight.load(Ordering::Relaxed) as u64)],
    );
    family(
        out,
        "gantry_upstream_connections",
        "gauge",
        "Connections to the target: open, and idle in the pool.",
        &|peer| {
            let (open, idle) = peer.pool.counts();
            vec![(",state=\"open\"".into(), open as u64), (",state=\"idle\"".into(), idle as u64)]
        },
    );
}
