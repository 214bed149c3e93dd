//! Which of many APIs a new one clashes with: the same name, or a route a router could not
//! tell apart ([`ApiSpec::route_conflicts`]), found by lookups instead of by comparing it
//! with each API in turn.
//!
//! An import of 1,000 APIs into a group of 9,000 compared each with all the others, parsing
//! both path templates every time: tens of millions of comparisons, some of them inside the
//! write transaction, which held the database's write lock for minutes
//! (`docs/decisions.md`, "Importing into a large group"). Here each API is added once, under
//! its name and its path's [shape](crate::PathTemplate::shape); a query is two map lookups.

use super::ApiSpec;
use crate::{HttpMethod, PathTemplate};
use std::collections::HashMap;

/// APIs added under keys of type `K`, in order; a query answers with the first one added
/// that clashes, as a scan in that order would.
#[derive(Debug, Clone)]
pub struct Clashes<K> {
    /// Name → (order added, key).
    names: HashMap<String, Vec<(usize, K)>>,
    /// Path shape → (order added, method, key).
    shapes: HashMap<String, Vec<(usize, HttpMethod, K)>>,
    added: usize,
}

impl<K> Default for Clashes<K> {
    fn default() -> Clashes<K> {
        Clashes { names: HashMap::new(), shapes: HashMap::new(), added: 0 }
    }
}

impl<K: Copy + PartialEq> Clashes<K> {
    /// An empty index.
    pub fn new() -> Clashes<K> {
        Clashes::default()
    }

    /// Adds an API. A path that does not parse clashes with no route (as
    /// [`ApiSpec::route_conflicts`] has it), but its name still counts.
    pub fn add(&mut self, key: K, spec: &ApiSpec) {
        let order = self.added;
        self.added += 1;
        self.names.entry(spec.name.clone()).or_default().push((order, key));
        if let Ok(template) = PathTemplate::parse(&spec.request.path) {
            self.shapes.entry(template.shape()).or_default().push((order, spec.method(), key));
        }
    }

    /// The first API added, other than `except`, that has `spec`'s name.
    pub fn same_name(&self, spec: &ApiSpec, except: Option<K>) -> Option<K> {
        self.first_name(spec, except).map(|(_, key)| key)
    }

    /// The first API added, other than `except`, whose route clashes with `spec`'s.
    pub fn same_route(&self, spec: &ApiSpec, except: Option<K>) -> Option<K> {
        self.first_route(spec, except).map(|(_, key)| key)
    }

    /// The first API added, other than `except`, with `spec`'s name or a route clashing
    /// with its route.
    pub fn first(&self, spec: &ApiSpec, except: Option<K>) -> Option<K> {
        match (self.first_name(spec, except), self.first_route(spec, except)) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a.1 } else { b.1 }),
            (a, b) => a.or(b).map(|(_, key)| key),
        }
    }

    fn first_name(&self, spec: &ApiSpec, except: Option<K>) -> Option<(usize, K)> {
        let found = self.names.get(&spec.name)?;
        found.iter().copied().find(|(_, key)| Some(*key) != except)
    }

    fn first_route(&self, spec: &ApiSpec, except: Option<K>) -> Option<(usize, K)> {
        let template = PathTemplate::parse(&spec.request.path).ok()?;
        let method = spec.method();
        let found = self.shapes.get(&template.shape())?;
        found
            .iter()
            .find(|(_, other, key)| Some(*key) != except && method.overlaps(*other))
            .map(|(order, _, key)| (*order, *key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(name: &str, method: &str, path: &str) -> ApiSpec {
        let mut spec = ApiSpec { name: name.into(), ..Default::default() };
        spec.request.method = method.into();
        spec.request.path = path.into();
        spec
    }

    /// The same answers as comparing with each API in the order added.
    #[test]
    fn answers_as_a_scan_in_order_does() {
        let added = [
            api("pets", "GET", "/pets/{id}"),
            api("any-pet", "ANY", "/pets/{petId}"),
            api("mine", "GET", "/pets/mine"),
            api("stores", "POST", "/stores"),
            api("broken", "GET", "no slash"),
            api("root", "GET", "/"),
        ];
        let mut clashes = Clashes::new();
        for (i, spec) in added.iter().enumerate() {
            clashes.add(i, spec);
        }
        let probes = [
            api("new", "GET", "/pets/{x}"),
            api("new", "DELETE", "/pets/{x}"),
            api("stores", "GET", "/elsewhere"),
            api("new", "GET", "/stores"),
            api("new", "ANY", "/stores"),
            api("mine", "GET", "/pets/{x}"),
            api("broken", "GET", "no slash"),
            api("new", "GET", "/"),
            api("new", "GET", "/pets/mine/photos"),
        ];
        for probe in &probes {
            for except in [None, Some(0), Some(1), Some(3)] {
                let scan = added
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| Some(*i) != except)
                    .find(|(_, other)| other.name == probe.name || probe.route_conflicts(other))
                    .map(|(i, _)| i);
                assert_eq!(clashes.first(probe, except), scan, "{probe:?} except {except:?}");
                let name = added.iter().enumerate().find(|(i, o)| Some(*i) != except && o.name == probe.name);
                assert_eq!(clashes.same_name(probe, except), name.map(|(i, _)| i));
                let route = added.iter().enumerate().find(|(i, o)| Some(*i) != except && probe.route_conflicts(o));
                assert_eq!(clashes.same_route(probe, except), route.map(|(i, _)| i));
            }
        }
        assert_eq!(clashes.first(&probes[0], None), Some(0));
        assert_eq!(clashes.first(&probes[1], Some(0)), Some(1), "ANY overlaps DELETE");
        assert_eq!(clashes.first(&probes[5], None), Some(0), "the route (added first) before the name");
        assert_eq!(clashes.first(&probes[8], None), None);
    }
}
