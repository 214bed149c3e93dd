//! The path router: a trie of path segments. Each node maps its literal children by a hash
//! of the whole segment and has at most one parameter child; a literal wins over a parameter,
//! and matching backtracks to the parameter when the literal branch finds nothing below.
//!
//! Why not a radix tree (`matchit`, used before): it matches byte by byte, so a group with
//! 10,000 routes under one prefix walks several small nodes per request, each a cache miss
//! when traffic spreads over all of them (`bench/results/scale.md`). Here a segment costs one
//! hash probe, and the nodes live in one array.

use crate::name::Name;
use domain::path::Segment;
use rustc_hash::FxHashMap;

/// A template's literal segment as a normalised request spells it (`%7E` → `~`). A literal no
/// request can match (a dot-segment) stays as written.
fn canonical_literal(literal: &str) -> String {
    let slashed = format!("/{literal}");
    match crate::path::normalize(&slashed) {
        Ok(canonical) => canonical[1..].to_owned(),
        Err(_) => literal.to_owned(),
    }
}

/// A matched path's parameter segments, in order: on the stack for the usual few.
pub type Params<'p> = smallvec::SmallVec<[&'p str; 4]>;

/// Routes path templates (as [`Segment`]s) to values of type `T`, kept in the trie's nodes
/// (a matched request reads its value from the node it ends on, not from a table beside).
#[derive(Debug, Clone)]
pub struct Router<T> {
    nodes: Vec<Node<T>>,
}

#[derive(Debug, Clone)]
struct Node<T> {
    /// Keyed by configured literals only, so a fast non-keyed hash is safe here.
    /// Keys are [`Name`]s: short ones (most) are inline, so comparing a request's segment with
    /// the key reads no memory beyond the map's own bucket.
    literals: FxHashMap<Name, u32>,
    param: Option<u32>,
    route: Option<T>,
}

impl<T> Default for Node<T> {
    fn default() -> Node<T> {
        Node { literals: FxHashMap::default(), param: None, route: None }
    }
}

impl<T> Default for Router<T> {
    fn default() -> Router<T> {
        Router { nodes: vec![Node::default()] }
    }
}

impl<T> Router<T> {
    /// A router with no routes.
    pub fn new() -> Router<T> {
        Router::default()
    }

    /// Adds a route; a template whose shape is already routed (literals equal, parameters in
    /// the same places) keeps its first value, and `value` is returned as the error.
    pub fn insert(&mut self, segments: &[Segment], value: T) -> Result<(), T> {
        match self.route_mut(segments) {
            Some(_) => Err(value),
            slot => {
                *slot = Some(value);
                Ok(())
            }
        }
    }

    /// The value of a template's shape (literals equal, parameters in the same places), to
    /// set or change; the nodes of a new shape are made.
    /// Literals are put in the canonical spelling of [`crate::path::normalize`], which
    /// requests are in when they are routed.
    pub fn route_mut(&mut self, segments: &[Segment]) -> &mut Option<T> {
        let mut node = 0usize;
        for segment in segments {
            let canonical = match segment {
                Segment::Literal(literal) => canonical_literal(literal),
                Segment::Param(name) => name.clone(),
            };
            let next = match segment {
                Segment::Literal(_) => self.nodes[node].literals.get(canonical.as_str()).copied(),
                Segment::Param(_) => self.nodes[node].param,
            };
            node = match next {
                Some(next) => next as usize,
                None => {
                    let next = self.nodes.len();
                    self.nodes.push(Node::default());
                    let index = u32::try_from(next).expect("fewer than 4 billion route segments");
                    match segment {
                        Segment::Literal(_) => {
                            self.nodes[node].literals.insert(Name::from(canonical), index);
                        }
                        Segment::Param(_) => self.nodes[node].param = Some(index),
                    }
                    next
                }
            };
        }
        &mut self.nodes[node].route
    }

    /// Every routed value.
    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.nodes.iter().filter_map(|node| node.route.as_ref())
    }

    /// The value routed for `path` (which starts with `/`), with the parameter segments as
    /// they appear in the path (not decoded), in order.
    pub fn at<'p>(&self, path: &'p str, params: &mut Params<'p>) -> Option<&T> {
        let rest = path.strip_prefix('/')?;
        self.find(0, (!rest.is_empty()).then_some(rest), params)
    }

    fn find<'p>(&self, node: usize, rest: Option<&'p str>, params: &mut Params<'p>) -> Option<&T> {
        let here = &self.nodes[node];
        let Some(rest) = rest else { return here.route.as_ref() };
        // A byte search: `str::split_once` with a `char` costs more on short segments.
        let (segment, tail) = match rest.bytes().position(|b| b == b'/') {
            Some(at) => (&rest[..at], Some(&rest[at + 1..])),
            None => (rest, None),
        };
        if let Some(&child) = here.literals.get(segment) {
            if let Some(found) = self.find(child as usize, tail, params) {
                return Some(found);
            }
        }
        match here.param {
            Some(child) if !segment.is_empty() => {
                params.push(segment);
                let found = self.find(child as usize, tail, params);
                if found.is_none() {
                    params.pop();
                }
                found
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::path::PathTemplate;

    fn router(paths: &[&str]) -> Router<usize> {
        let mut router = Router::new();
        for (i, path) in paths.iter().enumerate() {
            let template = PathTemplate::parse(path).expect("template");
            router.insert(template.segments(), i).expect("new shape");
        }
        router
    }

    fn at<'p>(router: &Router<usize>, path: &'p str) -> Option<(usize, Vec<&'p str>)> {
        let mut params = Params::new();
        router.at(path, &mut params).map(|found| (*found, params.to_vec()))
    }

    #[test]
    fn literals_win_over_parameters_and_matching_backtracks() {
        let long = "/a-literal-segment-longer-than-twenty-four-bytes/{id}";
        let r =
            router(&["/pets/{id}", "/pets/mine", "/pets/mine/toys", "/pets/{id}/photos/{photo}", "/", "/a/b/c", long]);
        assert_eq!(at(&r, "/pets/42"), Some((0, vec!["42"])));
        assert_eq!(at(&r, "/pets/mine"), Some((1, vec![])));
        assert_eq!(at(&r, "/pets/mine/toys"), Some((2, vec![])));
        // `mine` is a literal, but only the parameter branch goes on to `photos`.
        assert_eq!(at(&r, "/pets/mine/photos/3"), Some((3, vec!["mine", "3"])));
        assert_eq!(at(&r, "/"), Some((4, vec![])));
        assert_eq!(at(&r, "/a/b/c"), Some((5, vec![])));
        assert_eq!(at(&r, "/a-literal-segment-longer-than-twenty-four-bytes/7"), Some((6, vec!["7"])));
        assert_eq!(at(&r, "/a-literal-segment-longer-than-twenty-four-bytes"), None);
    }

    #[test]
    fn empty_segments_trailing_slashes_and_partial_paths_do_not_match() {
        let r = router(&["/pets/{id}", "/a/b/c"]);
        for path in ["/pets/", "/pets", "/pets//", "/pets/1/", "/a/b", "/a/b/c/", "", "pets/1", "//pets/1"] {
            assert_eq!(at(&r, path), None, "{path}");
        }
    }

    #[test]
    fn a_shape_routed_twice_keeps_the_first() {
        let mut r = router(&["/pets/{id}"]);
        let same_shape = PathTemplate::parse("/pets/{petId}").expect("template");
        assert_eq!(r.insert(same_shape.segments(), 9), Err(9));
        assert_eq!(at(&r, "/pets/1"), Some((0, vec!["1"])));
        *r.route_mut(same_shape.segments()) = Some(5);
        assert_eq!(at(&r, "/pets/1"), Some((5, vec!["1"])));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// The rule the trie implements, written the slow, obvious way: of the templates with as
    /// many segments as the path whose literals equal the path's segments (a parameter takes
    /// any non-empty segment), the one with a literal at the first place where they differ.
    fn naive(templates: &[Vec<Segment>], path: &[&str]) -> Option<usize> {
        templates
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                t.len() == path.len()
                    && t.iter().zip(path).all(|(segment, given)| match segment {
                        Segment::Literal(literal) => literal == given,
                        Segment::Param(_) => !given.is_empty(),
                    })
            })
            .min_by_key(|(_, t)| t.iter().map(|s| matches!(s, Segment::Param(_))).collect::<Vec<bool>>())
            .map(|(i, _)| i)
    }

    fn segment() -> impl Strategy<Value = Segment> {
        prop_oneof![
            prop::sample::select(vec!["a", "b", "c"]).prop_map(|l| Segment::Literal(l.to_owned())),
            Just(Segment::Param(String::new())),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// The trie agrees with the naive matcher on every path, for any set of templates
        /// over a small alphabet (so that literals, parameters and backtracking collide).
        #[test]
        fn the_trie_matches_like_the_naive_rule(
            templates in prop::collection::vec(prop::collection::vec(segment(), 0..4), 0..12),
            paths in prop::collection::vec(prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "x", ""]), 0..5), 1..20),
        ) {
            // Parameters get names by position; a template whose shape is taken is skipped,
            // as the router refuses it.
            let mut router = Router::new();
            let mut kept: Vec<Vec<Segment>> = Vec::new();
            for template in templates {
                let named: Vec<Segment> = template
                    .into_iter()
                    .enumerate()
                    .map(|(i, s)| match s {
                        Segment::Param(_) => Segment::Param(format!("p{i}")),
                        literal => literal,
                    })
                    .collect();
                if router.insert(&named, kept.len()).is_ok() {
                    kept.push(named);
                }
            }
            for path in paths {
                let text = format!("/{}", path.join("/"));
                let mut params = Params::new();
                let found = router.at(&text, &mut params).copied();
                let params = params.to_vec();
                // "/" is the template without segments; "/a" has one, "/a/" two (the last empty).
                let segments: Vec<&str> = if text == "/" { Vec::new() } else { path.clone() };
                prop_assert_eq!(found, naive(&kept, &segments), "path {}", text);
                if let Some(i) = found {
                    let expected: Vec<&str> = kept[i]
                        .iter()
                        .zip(&segments)
                        .filter(|(s, _)| matches!(s, Segment::Param(_)))
                        .map(|(_, given)| *given)
                        .collect();
                    prop_assert_eq!(params, expected, "parameters of {}", text);
                }
            }
        }
    }
}
