//! The compiled configuration the gateway serves, and its atomic swap.
//!
//! A [`Snapshot`] is immutable: `control` builds a new one whenever a release, switch or
//! off-line commits, and [`SnapshotHandle::swap`] publishes it in one pointer store. Each
//! request loads the current snapshot once and keeps it to the end, so a swap never changes
//! the configuration under a request in flight. Groups are held behind `Arc`, so a new
//! snapshot that recompiles one group shares every other group with the old one.

use crate::apps::AppTable;
use crate::compiled::CompiledApi;
use crate::router::Router;
use crate::Environment;
use arc_swap::ArcSwap;
use http::Method;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// What one environment of a group serves: the live version's APIs behind a [`Router`].
#[derive(Debug)]
pub struct LiveDeployment {
    /// The label of the version that is live.
    pub version: String,
    router: Router,
    /// APIs per router entry: one path shape may carry several methods.
    routes: Vec<Vec<Arc<CompiledApi>>>,
}

/// The outcome of matching a request against a deployment.
#[derive(Debug)]
pub enum RouteMatch<'a> {
    /// This API, with its path parameters by name (percent-decoded).
    Found(&'a Arc<CompiledApi>, Vec<(String, String)>),
    /// A path matches but not with this method; these methods would.
    MethodNotAllowed(Vec<String>),
    /// No API has this path.
    NotFound,
}

impl LiveDeployment {
    /// Builds the router of a version's APIs. APIs whose paths differ only in parameter names
    /// share one router entry (parameters are matched by position).
    pub fn new(version: impl Into<String>, apis: Vec<CompiledApi>) -> Result<LiveDeployment, String> {
        let mut router = Router::new();
        let mut routes: Vec<Vec<Arc<CompiledApi>>> = Vec::new();
        for api in apis {
            let index = match router.insert(api.segments(), routes.len()) {
                Ok(()) => {
                    routes.push(Vec::new());
                    routes.len() - 1
                }
                Err(same_shape) => same_shape,
            };
            routes[index].push(Arc::new(api));
        }
        Ok(LiveDeployment { version: version.into(), router, routes })
    }

    /// A deployment with no APIs.
    pub fn empty(version: impl Into<String>) -> LiveDeployment {
        LiveDeployment { version: version.into(), router: Router::new(), routes: Vec::new() }
    }

    /// How many APIs it serves.
    pub fn api_count(&self) -> usize {
        self.routes.iter().map(Vec::len).sum()
    }

    /// Matches a method and path. An API with its exact method wins over one with `ANY`.
    pub fn route(&self, method: &Method, path: &str) -> RouteMatch<'_> {
        let mut values = Vec::new();
        let Some(found) = self.router.at(path, &mut values) else { return RouteMatch::NotFound };
        let apis = &self.routes[found];
        let api = apis
            .iter()
            .find(|api| api.method.as_ref() == Some(method))
            .or_else(|| apis.iter().find(|api| api.method.is_none()));
        match api {
            Some(api) => {
                let params = api.path_params.iter().cloned().zip(values.into_iter().map(decode_segment)).collect();
                RouteMatch::Found(api, params)
            }
            None => RouteMatch::MethodNotAllowed(
                apis.iter().filter_map(|api| api.method.as_ref().map(|m| m.to_string())).collect(),
            ),
        }
    }
}

fn decode_segment(raw: &str) -> String {
    percent_encoding::percent_decode_str(raw).decode_utf8_lossy().into_owned()
}

/// One API group as the gateway sees it.
#[derive(Debug)]
pub struct CompiledGroup {
    /// The group's database id (to replace it on recompile).
    pub id: i32,
    /// The group's name, for logs and traces.
    pub name: String,
    /// What is live in each environment, indexed by [`Environment::index`].
    pub deployments: [Option<Arc<LiveDeployment>>; 3],
}

impl CompiledGroup {
    /// The deployment live in `env`, if any.
    pub fn deployment(&self, env: Environment) -> Option<&Arc<LiveDeployment>> {
        self.deployments[env.index()].as_ref()
    }
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
                assert_eq!(params, [("petId".to_owned(), "42 x".to_owned())]);
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
