//! DNS discovery (issue 25, Alibaba's "Service discovery" backend type, DNS flavour): a
//! backend target given as a host name is re-resolved in the background, respecting the
//! answer's TTL, and every address it resolves to becomes a peer of its own (its own pool,
//! health and load), reached by address but still named by the host (`Host` and the TLS
//! name).
//!
//! A [`Named`] target starts with one peer that connects by name through the system's
//! resolver, which is what a target was before discovery existed; with discovery off it
//! stays that way. With it on ([`run`]), each name is looked up with hickory-resolver when
//! its last answer expires (at least every second, at most every 5 minutes); a failed
//! lookup keeps the last answer and is tried again in 5 s. Peers of addresses that stay in
//! the answer are kept as they were (pools warm, failures counted).

use crate::config::DnsSettings;
use crate::peer::Peer;
use domain::BackendAddress;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

/// Shortest and longest time an answer is kept.
const MIN_TTL: Duration = Duration::from_secs(1);
const MAX_TTL: Duration = Duration::from_secs(300);
/// Time before a failed lookup is tried again.
const RETRY: Duration = Duration::from_secs(5);

/// A target named by a host name, and the peers of its current addresses.
#[derive(Debug)]
pub struct Named {
    /// The target as listed (`http://pets.internal:8080`).
    pub address: BackendAddress,
    /// Its connection limit, for each of its peers.
    pub max_conns: Option<u32>,
    peers: RwLock<Arc<[Arc<Peer>]>>,
    next: AtomicUsize,
    /// When to look the name up again.
    due: Mutex<Instant>,
}

static NAMED: LazyLock<Mutex<Vec<Weak<Named>>>> = LazyLock::new(Mutex::default);

impl Named {
    /// The named target for `address` (a host name, not an IP literal), registered for
    /// discovery; its first peer connects by name.
    pub fn new(address: &BackendAddress, max_conns: Option<u32>) -> Result<Arc<Named>, String> {
        let by_name = Peer::intern(address, max_conns, None)?;
        let named = Arc::new(Named {
            address: address.clone(),
            max_conns,
            peers: RwLock::new(Arc::from([by_name])),
            next: AtomicUsize::new(0),
            due: Mutex::new(Instant::now()),
        });
        let mut all = NAMED.lock().unwrap_or_else(|p| p.into_inner());
        all.retain(|n| n.strong_count() > 0);
        all.push(Arc::downgrade(&named));
        Ok(named)
    }

    /// Whether `host` is a name to discover (not an IP literal).
    pub fn is_name(host: &str) -> bool {
        host.parse::<IpAddr>().is_err()
    }

    /// The current peers.
    pub fn peers(&self) -> Arc<[Arc<Peer>]> {
        self.peers.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The next usable peer in turn, if any.
    pub fn pick(&self, usable: impl Fn(&Arc<Peer>) -> bool) -> Option<Arc<Peer>> {
        let peers = self.peers();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..peers.len()).map(|k| &peers[(start + k) % peers.len()]).find(|p| usable(p)).cloned()
    }

    /// Replaces the peers with one per address (kept when already there).
    fn settle(&self, addresses: &[IpAddr]) {
        let port = self.address.effective_port();
        let mut peers = Vec::with_capacity(addresses.len());
        for ip in addresses {
            match Peer::intern(&self.address, self.max_conns, Some(SocketAddr::new(*ip, port))) {
                Ok(peer) => peers.push(peer),
                Err(error) => tracing::warn!(%error, "a discovered address"),
            }
        }
        if !peers.is_empty() {
            *self.peers.write().unwrap_or_else(|p| p.into_inner()) = peers.into();
        }
    }
}

/// Builds the resolver for `settings`.
pub fn resolver(settings: &DnsSettings) -> Result<hickory_resolver::TokioResolver, String> {
    use hickory_resolver::config::{NameServerConfig, NameServerConfigGroup, ResolverConfig};
    use hickory_resolver::name_server::TokioConnectionProvider;
    use hickory_resolver::proto::xfer::Protocol;
    let provider = TokioConnectionProvider::default();
    let mut builder = if settings.servers.is_empty() {
        hickory_resolver::Resolver::builder(provider)
            .map_err(|e| format!("reading the system's DNS configuration: {e}"))?
    } else {
        let mut group = NameServerConfigGroup::new();
        for server in &settings.servers {
            group.push(NameServerConfig::new(*server, Protocol::Udp));
            group.push(NameServerConfig::new(*server, Protocol::Tcp));
        }
        hickory_resolver::Resolver::builder_with_config(ResolverConfig::from_parts(None, Vec::new(), group), provider)
    };
    let options = builder.options_mut();
    options.positive_min_ttl = None;
    options.positive_max_ttl = Some(MAX_TTL);
    Ok(builder.build())
}

/// Discovery, forever: every 200 ms, each named target whose answer expired is looked up
/// again.
pub async fn run(resolver: hickory_resolver::TokioResolver) {
    let mut ticks = tokio::time::interval(Duration::from_millis(200));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let due: Vec<Arc<Named>> = {
            let all = NAMED.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            all.iter()
                .filter_map(Weak::upgrade)
                .filter(|n| *n.due.lock().unwrap_or_else(|p| p.into_inner()) <= now)
                .collect()
        };
        for named in due {
            let host = format!("{}.", named.address.host().trim_end_matches('.'));
            let next = match resolver.lookup_ip(host.as_str()).await {
                Ok(answer) => {
                    let addresses: Vec<IpAddr> = answer.iter().collect();
                    named.settle(&addresses);
                    let ttl = answer.valid_until().saturating_duration_since(Instant::now());
                    Instant::now() + ttl.clamp(MIN_TTL, MAX_TTL)
                }
                Err(error) => {
                    tracing::warn!(host = named.address.host(), %error, "DNS discovery: lookup failed; keeping the last answer");
                    Instant::now() + RETRY
                }
            };
            *named.due.lock().unwrap_or_else(|p| p.into_inner()) = next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(url: &str) -> Arc<Named> {
        Named::new(&BackendAddress::parse(url).expect("address"), None).expect("named")
    }

    #[test]
    fn a_name_starts_with_one_peer_by_name_and_takes_each_answer_keeping_known_peers() {
        let pets = named("http://pets.discovery.invalid:8080");
        assert_eq!(pets.peers().len(), 1);
        assert_eq!(pets.peers()[0].connect_to, None, "connects by name until an answer is in");
        let (one, two) = ("10.7.0.1".parse().expect("ip"), "10.7.0.2".parse().expect("ip"));
        pets.settle(&[one, two]);
        let first = pets.peers();
        assert_eq!(
            first.iter().map(|p| p.connect_to).collect::<Vec<_>>(),
            [Some(SocketAddr::new(one, 8080)), Some(SocketAddr::new(two, 8080))]
        );
        // Every peer keeps the name for `Host` and TLS.
        assert!(first.iter().all(|p| p.address.host() == "pets.discovery.invalid"));
        // Turns rotate over the addresses; an unusable one is skipped.
        let picked: Vec<_> = (0..4).map(|_| pets.pick(|_| true).expect("one").connect_to).collect();
        assert_eq!(picked[0], picked[2]);
        assert_ne!(picked[0], picked[1]);
        let only_two = |p: &Arc<Peer>| p.connect_to == Some(SocketAddr::new(two, 8080));
        assert!((0..4).all(|_| pets.pick(only_two).expect("two").connect_to == Some(SocketAddr::new(two, 8080))));
        // A new answer keeps the peer of an address still in it.
        let three = "10.7.0.3".parse().expect("ip");
        pets.settle(&[two, three]);
        assert!(Arc::ptr_eq(&pets.peers()[0], &first[1]), "the same peer, pool and health");
        // An empty answer keeps the last one.
        pets.settle(&[]);
        assert_eq!(pets.peers().len(), 2);
    }

    #[test]
    fn ip_literals_are_not_names() {
        assert!(!Named::is_name("10.0.0.1"));
        assert!(!Named::is_name("::1"));
        assert!(Named::is_name("pets.internal"));
        assert!(Named::is_name("localhost"));
    }
}
