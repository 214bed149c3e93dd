//! The compiled configuration the gateway serves, and its atomic swap.
//!
//! A [`Snapshot`] is immutable: `control` builds a new one whenever a release, switch or
//! off-line commits, and [`SnapshotHandle::swap`] publishes it in one pointer store. Each
//! request loads the current snapshot once and keeps it to the end, so a swap never changes
//! the configuration under a request in flight. Groups are held behind `Arc`, so a new
//! snapshot that recompiles one group shares every other group with the old one.

use crate::Environment;
use arc_swap::ArcSwap;
use std::collections::HashMap;
use std::sync::Arc;

/// What one environment of a group serves: the live version. (Routes, backends and auth
/// arrive with the gateway issue; until then a live deployment matches no API.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveDeployment {
    /// The label of the version that is live.
    pub version: String,
}

/// One API group as the gateway sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledGroup {
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
    hosts: HashMap<String, HostBinding>,
}

impl Snapshot {
    /// A snapshot that serves nothing (every request is a 404).
    pub fn empty(revision: i64) -> Snapshot {
        Snapshot { revision, hosts: HashMap::new() }
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

    #[test]
    fn a_request_keeps_the_snapshot_it_loaded_across_a_swap() {
        let handle = SnapshotHandle::new(Snapshot::empty(1));
        let held = handle.current();
        handle.swap(Snapshot::empty(2));
        assert_eq!(held.revision, 1);
        assert_eq!(handle.current().revision, 2);
    }
}
