//! Which of many APIs a new one clashes with: the same name, or a route a router could not
//! tell apart (overlapping methods, [conflicting](PathTemplate::conflicts_with) paths: what
//! `ApiSpec::route_conflicts` says of two), found by lookups instead of by comparing it with
//! each API in turn.
//!
//! An import of 1,000 APIs into a group of 9,000 compared each with all the others, parsing
//! both path templates every time: tens of millions of comparisons, some of them inside the
//! write transaction, which held the database's write lock for minutes
//! (`docs/decisions.md`, "Importing into a large group"). Here each API is added once, under
//! its name and its path's [shape](crate::PathTemplate::shape); a query is two map lookups.

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

    /// Adds an API by its name, method and path template as written. A path that does not
    /// parse clashes with no route (as `ApiSpec::route_conflicts` has it), but its name
    /// still counts.
    pub fn add(&mut self, key: K, name: &str, method: HttpMethod, path: &str) {
        let order = self.added;
        self.added += 1;
        self.names.entry(name.to_owned()).or_default().push((order, key));
        if let Ok(template) = PathTemplate::parse(path) {
            self.shapes.entry(template.shape()).or_default().push((order, method, key));
        }
    }

    /// The first API added, other than `except`, named `name`.
    pub fn same_name(&self, name: &str, except: Option<K>) -> Option<K> {
        self.first_name(name, except).map(|(_, key)| key)
    }

    /// The first API added, other than `except`, whose route clashes with `method` and
    /// `path`.
    pub fn same_route(&self, method: HttpMethod, path: &str, except: Option<K>) -> Option<K> {
        self.first_route(method, path, except).map(|(_, key)| key)
    }

    /// The first API added, other than `except`, named `name` or with a route clashing with
    /// `method` and `path`.
    pub fn first(&self, name: &str, method: HttpMethod, path: &str, except: Option<K>) -> Option<K> {
        match (self.first_name(name, except), self.first_route(method, path, except)) {
            (Some(a), Some(b)) => Some(if a.0 <= b.0 { a.1 } else { b.1 }),
            (a, b) => a.or(b).map(|(_, key)| key),
        }
    }

    fn first_name(&self, name: &str, except: Option<K>) -> Option<(usize, K)> {
        let found = self.names.get(name)?;
        found.iter().copied().find(|(_, key)| Some(*key) != except)
    }

    fn first_route(&self, method: HttpMethod, path: &str, except: Option<K>) -> Option<(usize, K)> {
        let template = PathTemplate::parse(path).ok()?;
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

    /// (name, method, path) as an API has them.
    type Api = (&'static str, &'static str, &'static str);

    fn method(api: &Api) -> HttpMethod {
        HttpMethod::parse(api.1).expect("method")
    }

    /// What comparing two APIs one by one says (`ApiSpec::route_conflicts`).
    fn routes_conflict(a: &Api, b: &Api) -> bool {
        match (PathTemplate::parse(a.2), PathTemplate::parse(b.2)) {
            (Ok(x), Ok(y)) => method(a).overlaps(method(b)) && x.conflicts_with(&y),
            _ => false,
        }
    }

    /// The same answers as comparing with each API in the order added.
    #[test]
    fn answers_as_a_scan_in_order_does() {
        let added: [Api; 6] = [
            ("pets", "GET", "/pets/{id}"),
            ("any-pet", "ANY", "/pets/{petId}"),
            ("mine", "GET", "/pets/mine"),
            ("stores", "POST", "/stores"),
            ("broken", "GET", "no slash"),
            ("root", "GET", "/"),
        ];
        let mut clashes = Clashes::new();
        for (i, api) in added.iter().enumerate() {
            clashes.add(i, api.0, method(api), api.2);
        }
        let probes: [Api; 9] = [
            ("new", "GET", "/pets/{x}"),
            ("new", "DELETE", "/pets/{x}"),
            ("stores", "GET", "/elsewhere"),
            ("new", "GET", "/stores"),
            ("new", "ANY", "/stores"),
            ("mine", "GET", "/pets/{x}"),
            ("broken", "GET", "no slash"),
            ("new", "GET", "/"),
            ("new", "GET", "/pets/mine/photos"),
        ];
        for probe in &probes {
            let (name, m, path) = (probe.0, method(probe), probe.2);
            for except in [None, Some(0), Some(1), Some(3)] {
                let others = || added.iter().enumerate().filter(move |(i, _)| Some(*i) != except);
                let scan = others().find(|(_, other)| other.0 == name || routes_conflict(probe, other)).map(|(i, _)| i);
                assert_eq!(clashes.first(name, m, path, except), scan, "{probe:?} except {except:?}");
                let by_name = others().find(|(_, other)| other.0 == name).map(|(i, _)| i);
                assert_eq!(clashes.same_name(name, except), by_name);
                let by_route = others().find(|(_, other)| routes_conflict(probe, other)).map(|(i, _)| i);
                assert_eq!(clashes.same_route(m, path, except), by_route);
            }
        }
        let first = |probe: &Api, except| clashes.first(probe.0, method(probe), probe.2, except);
        assert_eq!(first(&probes[0], None), Some(0));
        assert_eq!(first(&probes[1], Some(0)), Some(1), "ANY overlaps DELETE");
        assert_eq!(first(&probes[5], None), Some(0), "the route (added first) before the name");
        assert_eq!(first(&probes[8], None), None);
    }
}
