//! Traffic policies as the gateway serves them: the [`PolicyTable`] (which throttling, IP
//! access and CORS policy applies to each API in each environment, resolved once per change
//! by the control plane: an API's own binding wins over its group's) and the
//! [`Throttles`], the request counters, which outlive snapshots.
//!
//! Counting is a **sliding log** per key (policy, API, environment, and the app or caller
//! address): the times of the requests let through in the last window. A request is let
//! through when fewer than `limit` are in the log, so no window of the unit's length ever
//! holds more than `limit` (exact, where a fixed window allows up to twice the limit across
//! a boundary and GCRA a burst on top of the rate). The log of a key holds at most `limit`
//! times; limits above [`LOG_LIMIT`] count in a sliding window of two fixed windows
//! (the previous one weighted by how much of it is still inside), which needs no log.

use domain::policy::{Cors, IpAccess, PolicyRule, Throttling};
use domain::Environment;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Limits up to this count in an exact sliding log.
pub const LOG_LIMIT: u64 = 10_000;

/// One policy, compiled.
#[derive(Debug)]
pub struct CompiledPolicy {
    /// Its id (the counters' key).
    pub id: i32,
    /// Its name (trace, logs).
    pub name: String,
    /// What it does.
    pub rule: PolicyRule,
}

/// The policies in force for one API in one environment, at most one of each type.
#[derive(Debug, Default, Clone)]
pub struct ApiPolicies {
    /// Throttling.
    pub throttling: Option<Arc<CompiledPolicy>>,
    /// IP access control.
    pub ip_access: Option<Arc<CompiledPolicy>>,
    /// CORS.
    pub cors: Option<Arc<CompiledPolicy>>,
}

impl ApiPolicies {
    fn slot(&mut self, policy: &Arc<CompiledPolicy>) -> &mut Option<Arc<CompiledPolicy>> {
        match policy.rule {
            PolicyRule::Throttling(_) => &mut self.throttling,
            PolicyRule::IpAccess(_) => &mut self.ip_access,
            PolicyRule::Cors(_) => &mut self.cors,
        }
    }

    /// The CORS rule, if one is bound.
    pub fn cors(&self) -> Option<&Cors> {
        match self.cors.as_deref().map(|p| &p.rule) {
            Some(PolicyRule::Cors(cors)) => Some(cors),
            _ => None,
        }
    }
}

/// One binding, as the control plane hands it over.
#[derive(Debug, Clone)]
pub struct Bound {
    /// The group.
    pub group: i32,
    /// The API, or none for every API of the group.
    pub api: Option<i32>,
    /// Where.
    pub env: Environment,
    /// What.
    pub policy: Arc<CompiledPolicy>,
}

#[derive(Debug, Default)]
struct GroupPolicies {
    /// Bound to the whole group.
    group: Arc<ApiPolicies>,
    /// Per API: its own bindings over the group's.
    apis: FxHashMap<i32, Arc<ApiPolicies>>,
}

/// Which policies apply where; immutable, part of the snapshot.
#[derive(Debug, Default)]
pub struct PolicyTable {
    groups: FxHashMap<(i32, u8), GroupPolicies>,
}

impl PolicyTable {
    /// Resolves `bindings`: per API and type, its own binding, else its group's.
    pub fn new(bindings: Vec<Bound>) -> PolicyTable {
        let mut groups: FxHashMap<(i32, u8), (ApiPolicies, FxHashMap<i32, ApiPolicies>)> = FxHashMap::default();
        for bound in bindings.iter().filter(|b| b.api.is_none()) {
            let entry = groups.entry((bound.group, bound.env.index() as u8)).or_default();
            *entry.0.slot(&bound.policy) = Some(bound.policy.clone());
        }
        for bound in &bindings {
            let Some(api) = bound.api else { continue };
            let entry = groups.entry((bound.group, bound.env.index() as u8)).or_default();
            let group = entry.0.clone();
            let own = entry.1.entry(api).or_insert(group);
            *own.slot(&bound.policy) = Some(bound.policy.clone());
        }
        let groups = groups
            .into_iter()
            .map(|(key, (group, apis))| {
                let apis = apis.into_iter().map(|(id, p)| (id, Arc::new(p))).collect();
                (key, GroupPolicies { group: Arc::new(group), apis })
            })
            .collect();
        PolicyTable { groups }
    }

    /// The policies in force for `api` of `group` in `env`, if any are bound.
    pub fn for_api(&self, group: i32, env: Environment, api: i32) -> Option<Arc<ApiPolicies>> {
        let group = self.groups.get(&(group, env.index() as u8))?;
        Some(group.apis.get(&api).unwrap_or(&group.group).clone())
    }

    /// Whether no policy is bound anywhere.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

/// What a throttling check decided, for the `RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// The limit that bound tightest.
    pub limit: u64,
    /// Requests left in the window.
    pub remaining: u64,
    /// Seconds until a request is let through again (at least 1 when none remain).
    pub reset_s: u64,
    /// Whether this request was let through.
    pub allowed: bool,
}

/// Whose requests a counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every caller of the API.
    Api,
    /// One app.
    App(i32),
    /// One address (callers without an app).
    Ip(IpAddr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    policy: i32,
    api: i32,
    env: u8,
    scope: Scope,
}

#[derive(Debug)]
enum Counter {
    /// Times (ms) of the requests let through within the window, oldest first.
    Log(VecDeque<u64>),
    /// The current fixed window's start and count, and the previous window's count.
    Windows { start: u64, current: u64, previous: u64 },
}

/// Request counters of every throttled key; shared by all snapshots.
#[derive(Debug)]
pub struct Throttles {
    shards: Vec<Mutex<FxHashMap<Key, Counter>>>,
    epoch: Instant,
}

impl Default for Throttles {
    fn default() -> Throttles {
        Throttles { shards: (0..16).map(|_| Mutex::new(FxHashMap::default())).collect(), epoch: Instant::now() }
    }
}

/// Keys kept per shard; when a shard is full, counters idle for a whole window go first.
const MAX_KEYS_PER_SHARD: usize = 65_536;

impl Throttles {
    /// Milliseconds since the counters started (a monotonic clock).
    pub fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// Counts a request for `scope` under `limit` per `window_ms` at `now_ms`: whether it
    /// may pass, and the quota after it.
    pub fn take(
        &self,
        policy: i32,
        api: i32,
        env: Environment,
        scope: Scope,
        limit: u64,
        window_ms: u64,
        now_ms: u64,
    ) -> Quota {
        let key = Key { policy, api, env: env.index() as u8, scope };
        let mut hasher = rustc_hash::FxHasher::default();
        key.hash(&mut hasher);
        let shard = &self.shards[(hasher.finish() as usize) % self.shards.len()];
        let mut counters = shard.lock().unwrap_or_else(|p| p.into_inner());
        if counters.len() >= MAX_KEYS_PER_SHARD && !counters.contains_key(&key) {
            counters.retain(|_, counter| match counter {
                Counter::Log(times) => times.back().is_some_and(|last| last + window_ms > now_ms),
                Counter::Windows { start, .. } => *start + 2 * window_ms > now_ms,
            });
        }
        let counter = counters.entry(key).or_insert_with(|| {
            if limit <= LOG_LIMIT {
                Counter::Log(VecDeque::new())
            } else {
                Counter::Windows { start: now_ms - now_ms % window_ms, current: 0, previous: 0 }
            }
        });
        match counter {
            Counter::Log(times) => {
                while times.front().is_some_and(|t| t + window_ms <= now_ms) {
                    times.pop_front();
                }
                let allowed = (times.len() as u64) < limit;
                if allowed {
                    times.push_back(now_ms);
                }
                let remaining = limit.saturating_sub(times.len() as u64);
                let reset_ms = times.front().map(|t| t + window_ms - now_ms).unwrap_or(0);
                Quota { limit, remaining, reset_s: seconds(reset_ms, remaining == 0), allowed }
            }
            Counter::Windows { start, current, previous } => {
                let window = now_ms - now_ms % window_ms;
                if window != *start {
                    *previous = if window == *start + window_ms { *current } else { 0 };
                    *current = 0;
                    *start = window;
                }
                let inside = window_ms - (now_ms - window);
                let estimate = (*previous as u128 * inside as u128 / window_ms as u128) as u64 + *current;
                let allowed = estimate < limit;
                if allowed {
                    *current += 1;
                }
                let remaining = limit.saturating_sub(estimate + u64::from(allowed));
                Quota { limit, remaining, reset_s: seconds(inside, remaining == 0), allowed }
            }
        }
    }
}

/// Whole seconds in `ms`, rounded up; at least 1 when the quota is `exhausted`.
pub(crate) fn seconds(ms: u64, exhausted: bool) -> u64 {
    let s = ms.div_ceil(1000);
    if exhausted {
        s.max(1)
    } else {
        s
    }
}

/// The limits of `throttling` that apply to a caller (the app's, its special limit, or the
/// address's for a caller without an app; then the API's), with their scopes, most specific
/// first. No allocation: it runs on every request of a throttled API.
pub fn limits_for(throttling: &Throttling, app: Option<(i32, &str)>, caller: IpAddr) -> [Option<(Scope, u64)>; 2] {
    let own = match app {
        Some((id, name)) => {
            let special = throttling.special_apps.iter().find(|(n, _)| n == name).map(|(_, l)| *l);
            special.or(throttling.app_limit).map(|limit| (Scope::App(id), limit))
        }
        None => throttling.ip_limit.map(|limit| (Scope::Ip(caller), limit)),
    };
    [own, throttling.api_limit.map(|limit| (Scope::Api, limit))]
}

/// Whether `ip_access` lets `caller` through (an app-scoped allow list only applies to that
/// app's calls).
pub fn ip_allowed(rule: &IpAccess, caller: IpAddr, app: Option<&str>) -> bool {
    if let Some(scoped) = &rule.app {
        if app != Some(scoped.as_str()) {
            return true;
        }
    }
    let listed = rule.ranges.iter().any(|range| range.contains(caller));
    listed == rule.allow
}

/// The address policies judge: the socket peer, or, when the peer is a trusted proxy, the
/// right-most `X-Forwarded-For` entry that is not a trusted proxy.
pub fn caller_address(peer: IpAddr, forwarded: Option<&str>, trusted: &[domain::policy::IpRange]) -> IpAddr {
    if trusted.is_empty() || !trusted.iter().any(|r| r.contains(peer)) {
        return peer;
    }
    let Some(forwarded) = forwarded else { return peer };
    for entry in forwarded.rsplit(',') {
        let Ok(ip) = entry.trim().parse::<IpAddr>() else { return peer };
        if !trusted.iter().any(|r| r.contains(ip)) {
            return ip;
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::policy::IpRange;

    fn throttles() -> Throttles {
        Throttles::default()
    }

    #[test]
    fn a_sliding_log_lets_exactly_the_limit_through_in_any_window() {
        let t = throttles();
        let take = |now| t.take(1, 7, Environment::Test, Scope::Api, 5, 1000, now);
        let burst: Vec<bool> = (0..15).map(|i| take(1000 + i).allowed).collect();
        assert_eq!(burst.iter().filter(|a| **a).count(), 5);
        assert!(burst[..5].iter().all(|a| *a), "the first five pass");
        let refused = take(1100);
        assert_eq!((refused.allowed, refused.remaining, refused.reset_s), (false, 0, 1));
        // The first request leaves the window at 2000: one more passes then, not before.
        assert!(!take(1999).allowed);
        assert!(take(2000).allowed);
        assert!(!take(2000).allowed, "the second of the burst left at 2001");
        assert!(take(2004).allowed);
    }

    #[test]
    fn offered_ten_times_the_limit_for_ten_windows_the_log_accepts_exactly_ten_limits() {
        let t = throttles();
        // 1,000 requests per second for 10 s against 100 per second.
        let accepted =
            (0..10_000u64).filter(|i| t.take(2, 1, Environment::Prod, Scope::Api, 100, 1000, *i).allowed).count();
        assert_eq!(accepted, 1000);
    }

    #[test]
    fn large_limits_count_in_two_weighted_windows() {
        let t = throttles();
        let limit = LOG_LIMIT + 1;
        let passed =
            (0..limit + 50).filter(|_| t.take(3, 1, Environment::Test, Scope::Api, limit, 60_000, 10).allowed).count();
        assert_eq!(passed as u64, limit);
        // Half-way through the next window, half of the previous still counts.
        let q = t.take(3, 1, Environment::Test, Scope::Api, limit, 60_000, 90_000);
        assert!(q.allowed && q.remaining < limit / 2 + 10, "{q:?}");
    }

    #[test]
    fn keys_are_counted_apart() {
        let t = throttles();
        for scope in [Scope::Api, Scope::App(1), Scope::App(2), Scope::Ip("10.0.0.1".parse().expect("ip"))] {
            assert!(t.take(1, 1, Environment::Test, scope, 1, 1000, 0).allowed, "{scope:?}");
            assert!(!t.take(1, 1, Environment::Test, scope, 1, 1000, 0).allowed);
        }
        assert!(t.take(1, 1, Environment::Prod, Scope::Api, 1, 1000, 0).allowed, "another environment");
        assert!(t.take(1, 2, Environment::Test, Scope::Api, 1, 1000, 0).allowed, "another API");
    }

    #[test]
    fn special_apps_and_anonymous_callers_get_their_limits() {
        let rule = Throttling {
            unit: domain::policy::RateUnit::Second,
            api_limit: Some(100),
            app_limit: Some(10),
            ip_limit: Some(3),
            special_apps: vec![("web".into(), 50)],
        };
        let ip: IpAddr = "192.0.2.1".parse().expect("ip");
        assert_eq!(limits_for(&rule, Some((1, "web")), ip), [Some((Scope::App(1), 50)), Some((Scope::Api, 100))]);
        assert_eq!(limits_for(&rule, Some((2, "cli")), ip), [Some((Scope::App(2), 10)), Some((Scope::Api, 100))]);
        assert_eq!(limits_for(&rule, None, ip), [Some((Scope::Ip(ip), 3)), Some((Scope::Api, 100))]);
        let only_api = Throttling { app_limit: None, ip_limit: None, special_apps: vec![], ..rule };
        assert_eq!(limits_for(&only_api, Some((2, "cli")), ip), [None, Some((Scope::Api, 100))]);
    }

    #[test]
    fn ip_rules_allow_deny_and_scope_to_an_app() {
        let ranges = vec![IpRange::parse("10.0.0.0/8").expect("r"), IpRange::parse("::1/128").expect("r")];
        let allow = IpAccess { allow: true, ranges: ranges.clone(), app: None };
        let deny = IpAccess { allow: false, ranges: ranges.clone(), app: None };
        let inside: IpAddr = "10.2.3.4".parse().expect("ip");
        let outside: IpAddr = "192.0.2.1".parse().expect("ip");
        assert!(ip_allowed(&allow, inside, None) && !ip_allowed(&allow, outside, None));
        assert!(!ip_allowed(&deny, inside, None) && ip_allowed(&deny, outside, None));
        assert!(ip_allowed(&allow, "::1".parse().expect("ip"), None));
        let scoped = IpAccess { allow: true, ranges, app: Some("web".into()) };
        assert!(!ip_allowed(&scoped, outside, Some("web")) && ip_allowed(&scoped, outside, Some("cli")));
    }

    #[test]
    fn the_caller_behind_trusted_proxies_is_the_right_most_untrusted_address() {
        let trusted = vec![IpRange::parse("10.0.0.0/8").expect("r")];
        let ctx = |peer: &str| -> IpAddr { peer.parse().expect("ip") };
        let from_proxy = ctx("10.0.0.2");
        assert_eq!(
            caller_address(from_proxy, Some("203.0.113.9, 198.51.100.7, 10.0.0.3"), &trusted).to_string(),
            "198.51.100.7"
        );
        assert_eq!(caller_address(from_proxy, None, &trusted).to_string(), "10.0.0.2");
        assert_eq!(caller_address(from_proxy, Some("garbage"), &trusted).to_string(), "10.0.0.2");
        let direct = ctx("198.51.100.1");
        assert_eq!(
            caller_address(direct, Some("203.0.113.9"), &trusted).to_string(),
            "198.51.100.1",
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            caller_address(from_proxy, Some("203.0.113.9"), &[]).to_string(),
            "10.0.0.2",
            "no trusted proxies: the peer"
        );
    }

    #[test]
    fn an_apis_own_binding_wins_over_its_groups() {
        let policy = |id: i32, rule: PolicyRule| Arc::new(CompiledPolicy { id, name: format!("p{id}"), rule });
        let deny = |allow| PolicyRule::IpAccess(IpAccess { allow, ranges: vec![], app: None });
        let table = PolicyTable::new(vec![
            Bound { group: 1, api: None, env: Environment::Test, policy: policy(1, deny(false)) },
            Bound { group: 1, api: Some(7), env: Environment::Test, policy: policy(2, deny(true)) },
        ]);
        assert_eq!(table.for_api(1, Environment::Test, 7).and_then(|p| p.ip_access.clone()).map(|p| p.id), Some(2));
        assert_eq!(table.for_api(1, Environment::Test, 8).and_then(|p| p.ip_access.clone()).map(|p| p.id), Some(1));
        assert!(table.for_api(1, Environment::Prod, 7).is_none() && table.for_api(2, Environment::Test, 7).is_none());
    }
}
