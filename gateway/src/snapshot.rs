//! The compiled configuration the gateway serves, and its atomic swap.
//!
//! A [`Snapshot`] is immutable: `control` builds a new one whenever a release, switch or
//! off-line commits, and [`SnapshotHandle::swap`] publishes it in one pointer store. Each
//! request loads the current snapshot once and keeps it to the end, so a swap never changes
//! the configuration under a request in flight. Groups are held behind `Arc`, so a new
//! snapshot that recompiles one group shares every other group with the old one.

use crate::apps::AppTable;
use crate::compiled::CompiledApi;
use crate::name::Name;
use crate::router::Router;
use crate::Environment;
use arc_swap::ArcSwap;
use http::Method;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// What one environment of a group serves: the live version's APIs behind a [`Router`].
#[derive(Debug)]
pub struct LiveDeployment {
    /// The label of the version that is live (shared with each request it serves).
    pub version: Arc<str>,
    /// The same as an `X-Ca-Version` value (`None` if the label cannot be one).
    pub version_header: Option<http::HeaderValue>,
    /// APIs per path shape: one shape may carry several methods; the usual one is held
    /// inline in the router's node (no allocation of its own to read per request).
    router: Router<Routed>,
}

/// The APIs of one path shape: the usual one inline in the router's node (24 bytes with
/// the `Option` around it, so a node to its parameter child's route is two lines at most:
/// `crate::router`).
#[derive(Debug)]
enum Routed {
    One(Arc<CompiledApi>),
    Several(Box<[Arc<CompiledApi>]>),
}

impl Routed {
    fn push(&mut self, api: Arc<CompiledApi>) {
        let mut all = self.as_slice().to_vec();
        all.push(api);
        *self = Routed::Several(all.into());
    }

    fn as_slice(&self) -> &[Arc<CompiledApi>] {
        match self {
            Routed::One(api) => std::slice::from_ref(api),
            Routed::Several(apis) => apis,
        }
    }
}

/// A matched request's path parameters by name, percent-decoded: inline for the usual few
/// (no allocation per request).
pub type PathValues = smallvec::SmallVec<[(Name, Name); 2]>;

/// The outcome of matching a request against a deployment.
#[derive(Debug)]
pub enum RouteMatch<'a> {
    /// This API, with its path parameters by name (percent-decoded).
    Found(&'a Arc<CompiledApi>, PathValues),
    /// A path matches but not with this method; these methods would.
    MethodNotAllowed(Vec<String>),
    /// No API has this path.
    NotFound,
}

impl LiveDeployment {
    /// Builds the router of a version's APIs. APIs whose paths differ only in parameter names
    /// share one router entry (parameters are matched by position).
    pub fn new(version: impl Into<String>, apis: Vec<CompiledApi>) -> Result<LiveDeployment, String> {
        let mut router: Router<Routed> = Router::new();
        for api in apis {
            let api = Arc::new(api);
            match router.route_mut(api.segments()) {
                Some(routed) => routed.push(api),
                none => *none = Some(Routed::One(api)),
            }
        }
        let version: Arc<str> = Arc::from(version.into());
        Ok(LiveDeployment { version_header: http::HeaderValue::from_str(&version).ok(), version, router })
    }

    /// A deployment with no APIs.
    pub fn empty(version: impl Into<String>) -> LiveDeployment {
        let version: Arc<str> = Arc::from(version.into());
        LiveDeployment { version_header: http::HeaderValue::from_str(&version).ok(), version, router: Router::new() }
    }

    /// How many APIs it serves.
    pub fn api_count(&self) -> usize {
        self.router.values().map(|apis| apis.as_slice().len()).sum()
    }

    /// Matches a method and path. An API with its exact method wins over one with `ANY`.
    pub fn route(&self, method: &Method, path: &str) -> RouteMatch<'_> {
        let mut values = crate::router::Params::new();
        let Some(apis) = self.router.at(path, &mut values) else { return RouteMatch::NotFound };
        let apis = apis.as_slice();
        let api = apis.iter().find(|api| api.answers(method)).or_else(|| apis.iter().find(|api| api.any_method()));
        match api {
            Some(api) => {
                // Collecting nothing still costs a vector's setup: an API without path
                // parameters skips it.
                let params = match api.path_params.is_empty() {
                    true => PathValues::new(),
                    false => api.path_params.iter().cloned().zip(values.into_iter().map(decode_segment)).collect(),
                };
                RouteMatch::Found(api, params)
            }
            None => RouteMatch::MethodNotAllowed(
                apis.iter().filter_map(|api| api.method().map(|m| m.to_string())).collect(),
            ),
        }
    }
}

fn decode_segment(raw: &str) -> Name {
    Name::from(&*percent_encoding::percent_decode_str(raw).decode_utf8_lossy())
}

/// One API group as the gateway sees it.
#[derive(Debug)]
pub struct CompiledGroup {
    /// The group's database id (to replace it on recompile).
    pub id: i32,
    /// The group's name, for logs and traces.
    pub name: Arc<str>,
    /// The id and name as the access log's lines name the group.
    pub label: crate::access_log::Label,
    /// What is live in each environment, indexed by [`Environment::index`].
    pub deployments: [Option<Arc<LiveDeployment>>; 3],
    /// The canary beside each environment's deployment, if one runs.
    pub canaries: [Option<Arc<Canary>>; 3],
}

impl CompiledGroup {
    /// The deployment live in `env`, if any.
    pub fn deployment(&self, env: Environment) -> Option<&Arc<LiveDeployment>> {
        self.deployments[env.index()].as_ref()
    }

    /// The canary running in `env`, if any.
    pub fn canary(&self, env: Environment) -> Option<&Arc<Canary>> {
        self.canaries[env.index()].as_ref()
    }
}

/// Who a canary takes.
#[derive(Debug, Clone)]
pub enum CanaryRule {
    /// Every caller is a candidate.
    Everyone,
    /// Calls naming the app of this name: its AppKey in `X-Ca-Key`, or its AppCode in
    /// `Authorization: APPCODE …` (looked up in the snapshot's app table, so a reset AppCode
    /// counts at once).
    App(String),
    /// Calls carrying this header with exactly this value.
    Header(http::HeaderName, http::HeaderValue),
    /// Calls from this address range (the caller traffic policies judge).
    Ip(domain::policy::IpRange),
}

/// A second version beside an environment's deployment, taking a share of the candidates
/// its rule admits: by a low-discrepancy sequence (a Weyl sequence on a counter, so 10 %
/// is 10 % over any run of requests, not on average), or by a hash of the caller (its
/// AppKey, else its address) when sticky, which is the same on every node.
#[derive(Debug)]
pub struct Canary {
    /// What the canary serves.
    pub deployment: Arc<LiveDeployment>,
    /// Its share of the candidates, in parts of [`domain::canary::PARTS`].
    pub parts: u32,
    /// Who is a candidate.
    pub rule: CanaryRule,
    /// The same caller always lands on the same side.
    pub sticky: bool,
    counter: std::sync::atomic::AtomicU64,
}

impl Canary {
    /// A canary serving `deployment`.
    pub fn new(deployment: Arc<LiveDeployment>, parts: u32, rule: CanaryRule, sticky: bool) -> Canary {
        Canary { deployment, parts, rule, sticky, counter: std::sync::atomic::AtomicU64::new(0) }
    }

    /// Whether this request goes to the canary.
    pub fn takes(&self, headers: &http::HeaderMap, caller: std::net::IpAddr, apps: &AppTable) -> bool {
        let key = headers.get(crate::signature::X_CA_KEY);
        let candidate = match &self.rule {
            CanaryRule::Everyone => true,
            CanaryRule::App(name) => {
                let by_key = key.and_then(|k| k.to_str().ok()).and_then(|k| apps.by_key(k));
                let app = by_key.or_else(|| {
                    let code = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("APPCODE ")?;
                    apps.by_code(code.trim())
                });
                app.is_some_and(|app| app.name == *name)
            }
            CanaryRule::Header(name, value) => headers.get(name) == Some(value),
            CanaryRule::Ip(range) => range.contains(caller),
        };
        if !candidate {
            return false;
        }
        if self.parts >= domain::canary::PARTS {
            return true;
        }
        let point = if self.sticky {
            match key {
                Some(key) => mix(fnv(key.as_bytes())),
                None => mix(fnv(caller.to_string().as_bytes())),
            }
        } else {
            // The fractional parts of n·φ spread evenly over [0, 1) for every n.
            self.counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        };
        let bucket = ((u128::from(point) * u128::from(domain::canary::PARTS)) >> 64) as u32;
        bucket < self.parts
    }
}

/// FNV-1a: a fixed hash, so a sticky caller lands on the same side on every node.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

/// SplitMix64's finaliser: spreads similar inputs (neighbouring addresses) apart.
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A host the gateway answers on: the group, and the environment when the host is a custom
/// domain pinned to one.
#[derive(Debug, Clone)]
pub struct HostBinding {
    /// The group this host belongs to.
    pub group: Arc<CompiledGroup>,
    /// `Some` when the host always serves one environment, whatever `X-Ca-Stage` says.
    pub pinned: Option<Environment>,
}

/// Everything the gateway serves at one `config_revision`.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The database `config_revision` this snapshot was compiled from.
    pub revision: i64,
    /// Keyed by configured host names only, so a fast non-keyed hash is safe here.
    hosts: FxHashMap<String, HostBinding>,
    apps: Arc<AppTable>,
    policies: Arc<crate::policy::PolicyTable>,
    certificates: Arc<crate::tls::CertificateTable>,
}

impl Snapshot {
    /// A snapshot that serves nothing (every request is a 404).
    pub fn empty(revision: i64) -> Snapshot {
        Snapshot { revision, ..Snapshot::default() }
    }

    /// Adds (or replaces) the binding for `host` (lower-case, without port).
    pub fn bind_host(&mut self, host: &str, binding: HostBinding) {
        self.hosts.insert(host.to_ascii_lowercase(), binding);
    }

    /// The binding for a host (lower-case, without port).
    pub fn host(&self, host: &str) -> Option<&HostBinding> {
        self.hosts.get(host)
    }

    /// How many hosts this snapshot answers on.
    pub fn host_count(&self) -> usize {
        self.hosts.len()
    }

    /// A copy with group `group_id`'s hosts removed and the other groups shared (`Arc`).
    pub fn without_group(&self, group_id: i32, revision: i64) -> Snapshot {
        let hosts =
            self.hosts.iter().filter(|(_, b)| b.group.id != group_id).map(|(h, b)| (h.clone(), b.clone())).collect();
        Snapshot { revision, hosts, ..self.clone_without_hosts() }
    }

    /// The apps that may call `auth = app` APIs.
    pub fn apps(&self) -> &AppTable {
        &self.apps
    }

    /// A copy with `apps` instead of the current apps, every group shared.
    pub fn with_apps(&self, apps: AppTable, revision: i64) -> Snapshot {
        Snapshot { revision, apps: Arc::new(apps), ..self.clone() }
    }

    /// Replaces the apps in place (while building a snapshot).
    pub fn set_apps(&mut self, apps: AppTable) {
        self.apps = Arc::new(apps);
    }

    /// The traffic policies bound to APIs and groups.
    pub fn policies(&self) -> &crate::policy::PolicyTable {
        &self.policies
    }

    /// A copy with `policies` instead of the current ones, everything else shared.
    pub fn with_policies(&self, policies: crate::policy::PolicyTable, revision: i64) -> Snapshot {
        Snapshot { revision, policies: Arc::new(policies), ..self.clone() }
    }

    /// Replaces the policies in place (while building a snapshot).
    pub fn set_policies(&mut self, policies: crate::policy::PolicyTable) {
        self.policies = Arc::new(policies);
    }

    /// The custom domains' certificates (the HTTPS listener's SNI choices).
    pub fn certificates(&self) -> &crate::tls::CertificateTable {
        &self.certificates
    }

    /// A copy with `certificates` instead of the current ones, everything else shared.
    pub fn with_certificates(&self, certificates: crate::tls::CertificateTable, revision: i64) -> Snapshot {
        Snapshot { revision, certificates: Arc::new(certificates), ..self.clone() }
    }

    /// Replaces the certificates in place (while building a snapshot).
    pub fn set_certificates(&mut self, certificates: crate::tls::CertificateTable) {
        self.certificates = Arc::new(certificates);
    }

    /// Everything but the hosts, shared.
    fn clone_without_hosts(&self) -> Snapshot {
        Snapshot {
            revision: self.revision,
            hosts: FxHashMap::default(),
            apps: self.apps.clone(),
            policies: self.policies.clone(),
            certificates: self.certificates.clone(),
        }
    }
}

impl crate::tls::CertificateSource for SnapshotHandle {
    /// The live snapshot's certificate for `host`, read at each handshake.
    fn certificate(&self, host: &str) -> Option<Arc<crate::tls::CertifiedKey>> {
        self.0.load().certificates().get(host).cloned()
    }
}

/// The shared, swappable pointer to the current snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotHandle(Arc<ArcSwap<Snapshot>>);

impl SnapshotHandle {
    /// A handle that starts with `snapshot`.
    pub fn new(snapshot: Snapshot) -> SnapshotHandle {
        SnapshotHandle(Arc::new(ArcSwap::from_pointee(snapshot)))
    }

    /// The current snapshot; keep it for the whole request.
    pub fn current(&self) -> Arc<Snapshot> {
        self.0.load_full()
    }

    /// Publishes a new snapshot; requests already running keep the old one.
    pub fn swap(&self, snapshot: Snapshot) {
        self.0.store(Arc::new(snapshot));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::{CompiledApi, Target};
    use domain::api::ApiSpec;

    #[test]
    fn a_router_node_holding_apis_is_72_bytes() {
        // A node's own fields, then its parameter child's route: two lines at most.
        assert_eq!(crate::router::node_size::<Routed>(), 72);
    }

    fn api(id: i32, method: &str, path: &str) -> CompiledApi {
        let spec: ApiSpec = serde_json::from_value(serde_json::json!({
            "name": format!("api{id}"), "request": {"method": method, "path": path}
        }))
        .expect("spec");
        CompiledApi::compile(id, &spec.validate().expect("valid"), Target::Mock).expect("compile")
    }

    #[test]
    fn a_request_keeps_the_snapshot_it_loaded_across_a_swap() {
        let handle = SnapshotHandle::new(Snapshot::empty(1));
        let held = handle.current();
        handle.swap(Snapshot::empty(2));
        assert_eq!(held.revision, 1);
        assert_eq!(handle.current().revision, 2);
    }

    #[test]
    fn routing_finds_the_api_and_tells_404_from_405() {
        let live = LiveDeployment::new(
            "1",
            vec![
                api(1, "GET", "/pets/{petId}"),
                api(2, "POST", "/pets/{id}"),
                api(3, "GET", "/pets/mine"),
                api(4, "ANY", "/any"),
            ],
        )
        .expect("router");
        match live.route(&Method::GET, "/pets/42%20x") {
            RouteMatch::Found(api, params) => {
                assert_eq!(api.id, 1);
                assert_eq!(params.as_slice(), [(Name::from("petId"), Name::from("42 x"))]);
            }
            other => panic!("{other:?}"),
        }
        match live.route(&Method::POST, "/pets/7") {
            RouteMatch::Found(api, params) => assert_eq!((api.id, params[0].0.as_str()), (2, "id")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(live.route(&Method::GET, "/pets/mine"), RouteMatch::Found(api, _) if api.id == 3));
        assert!(
            matches!(live.route(&Method::DELETE, "/pets/7"), RouteMatch::MethodNotAllowed(m) if m == ["GET", "POST"])
        );
        assert!(matches!(live.route(&Method::GET, "/stores"), RouteMatch::NotFound));
        assert!(matches!(live.route(&Method::PATCH, "/any"), RouteMatch::Found(api, _) if api.id == 4));
        assert_eq!(live.api_count(), 4);
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::compiled::{CompiledApi, Target};
    use domain::api::ApiSpec;
    use proptest::prelude::*;

    fn deployment() -> LiveDeployment {
        let apis = ["/pets/{id}", "/pets/{id}/photos/{photo}", "/pets/mine", "/", "/a/b/c"]
            .iter()
            .enumerate()
            .map(|(i, path)| {
                let spec: ApiSpec = serde_json::from_value(
                    serde_json::json!({"name": format!("a{i}"), "request": {"method": "GET", "path": path}}),
                )
                .expect("spec");
                CompiledApi::compile(i as i32, &spec.validate().expect("valid"), Target::Mock).expect("compile")
            })
            .collect();
        LiveDeployment::new("1", apis).expect("router")
    }

    proptest! {
        /// Routing arbitrary paths never panics, and what matches names every parameter.
        #[test]
        fn routing_arbitrary_paths_never_panics(path in "/[a-zA-Z0-9/%._~-]{0,60}") {
            let live = deployment();
            if let RouteMatch::Found(api, params) = live.route(&Method::GET, &path) {
                prop_assert_eq!(params.len(), api.path_params.len());
            }
        }
    }
}

#[cfg(test)]
mod canary_tests {
    use super::*;
    use crate::apps::AppCredential;
    use http::{HeaderMap, HeaderValue};
    use std::net::{IpAddr, Ipv4Addr};

    fn canary(percent: f64, rule: CanaryRule, sticky: bool) -> Canary {
        Canary::new(Arc::new(LiveDeployment::empty("2")), domain::canary::parts(percent), rule, sticky)
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 1, (last / 7) % 255, last))
    }

    /// 10 % of 10,000 requests lands within ±1.5 % of 10 % (the sequence makes it exact
    /// within a few requests), and 0.1 % and 50 % alike.
    #[test]
    fn a_share_is_kept_over_any_run_of_requests() {
        for (percent, tolerance) in [(10.0, 150), (0.1, 5), (50.0, 150), (99.0, 150)] {
            let canary = canary(percent, CanaryRule::Everyone, false);
            let taken = (0..10_000).filter(|_| canary.takes(&HeaderMap::new(), ip(1), &AppTable::default())).count();
            let wanted = (percent * 100.0) as i64;
            assert!((taken as i64 - wanted).abs() <= tolerance, "{percent} %: {taken} of 10,000");
        }
    }

    /// Sticky: one caller always lands on one side; many callers split by the share.
    #[test]
    fn sticky_callers_stay_on_their_side() {
        let canary = canary(30.0, CanaryRule::Everyone, true);
        let apps = AppTable::default();
        let mut on_canary = 0;
        for caller in 0..2_000u32 {
            let mut headers = HeaderMap::new();
            headers.insert(crate::signature::X_CA_KEY, HeaderValue::from_str(&format!("key{caller}")).expect("key"));
            let first = canary.takes(&headers, ip(1), &apps);
            for _ in 0..5 {
                assert_eq!(canary.takes(&headers, ip(2), &apps), first, "caller {caller} moved");
            }
            on_canary += usize::from(first);
        }
        assert!((500..700).contains(&on_canary), "{on_canary} of 2,000 callers on a 30 % canary");
        // Without an AppKey the client address decides, the same way every time.
        let by_address: Vec<bool> = (0..50).map(|i| canary.takes(&HeaderMap::new(), ip(i), &apps)).collect();
        let again: Vec<bool> = (0..50).map(|i| canary.takes(&HeaderMap::new(), ip(i), &apps)).collect();
        assert_eq!(by_address, again);
    }

    /// Rules: an app by AppKey or AppCode, a header's exact value, an address range.
    #[test]
    fn rules_take_only_the_callers_they_match() {
        let apps = AppTable::new(vec![
            AppCredential::new(1, "web", "webkey", "websecret", "webcode", true),
            AppCredential::new(2, "other", "otherkey", "othersecret", "othercode", true),
        ]);
        let with = |name: &'static str, value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_str(value).expect("value"));
            headers
        };
        let app = canary(100.0, CanaryRule::App("web".into()), false);
        assert!(app.takes(&with("x-ca-key", "webkey"), ip(1), &apps));
        assert!(app.takes(&with("authorization", "APPCODE webcode"), ip(1), &apps));
        assert!(!app.takes(&with("x-ca-key", "otherkey"), ip(1), &apps));
        assert!(!app.takes(&with("x-ca-key", "nobody"), ip(1), &apps));
        assert!(!app.takes(&HeaderMap::new(), ip(1), &apps));
        let header = canary(
            100.0,
            CanaryRule::Header(http::HeaderName::from_static("x-canary"), HeaderValue::from_static("1")),
            false,
        );
        assert!(header.takes(&with("x-canary", "1"), ip(1), &apps));
        assert!(!header.takes(&with("x-canary", "10"), ip(1), &apps));
        assert!(!header.takes(&HeaderMap::new(), ip(1), &apps));
        let range = canary(100.0, CanaryRule::Ip(domain::policy::IpRange::parse("10.1.0.0/16").expect("range")), false);
        assert!(range.takes(&HeaderMap::new(), ip(3), &apps));
        assert!(!range.takes(&HeaderMap::new(), IpAddr::V4(Ipv4Addr::new(10, 2, 0, 1)), &apps));
        // A rule with a share: half of the matching callers.
        let half = canary(50.0, CanaryRule::App("web".into()), false);
        let taken = (0..1_000).filter(|_| half.takes(&with("x-ca-key", "webkey"), ip(1), &apps)).count();
        assert!((480..=520).contains(&taken), "{taken}");
    }
}
