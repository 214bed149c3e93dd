//! The path router: a trie of path segments. Each node finds its literal children in a small
//! open-addressed table of its own and has at most one parameter child; a literal wins over a
//! parameter, and matching backtracks to the parameter when the literal branch finds nothing
//! below.
//!
//! Why not a radix tree (`matchit`, used before): it matches byte by byte, so a group with
//! 10,000 routes under one prefix walks several small nodes per request, each a cache miss
//! when traffic spreads over all of them (`bench/results/scale.md`). Here a segment costs one
//! probe of an 8-byte slot (a hash and a node's index), and the nodes live in one array.
//!
//! Why not a `HashMap` of segments: its probe reads a line of control bytes, then the bucket
//! with the key, then the node the key leads to: three lines apart, each a miss with 10,000
//! literals under one node. A slot here holds the hash and the child's index; the child
//! keeps its own literal, so the probe is confirmed on the line the match reads next anyway
//! (`bench/results/scale_cache.md`).

use crate::name::Name;
use domain::path::Segment;

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
    /// The root is node 0 (nobody's child, so 0 marks "none" in a slot or `param`).
    nodes: Vec<Node<T>>,
}

/// `repr(C)`, in this order: a request that goes from a node to its parameter child reads
/// the node's literal (to confirm the probe that led there), its table's length and its
/// `param`, then the child's `route`, which follows the node's literal in memory: with the
/// nodes of a template pushed one after the other, that is 72 bytes, two lines at most.
#[derive(Debug, Clone)]
#[repr(C)]
struct Node<T> {
    route: Option<T>,
    /// The parameter child; 0 for none.
    param: u32,
    /// How many literal children.
    literal_count: u32,
    /// The literal children.
    literals: Literals,
    /// The literal segment this node is reached by (empty for the root and parameter nodes):
    /// where a probe of the parent's table is confirmed. Short ones (most) are inline.
    literal: Name,
}

impl<T> Default for Node<T> {
    fn default() -> Node<T> {
        Node { route: None, param: 0, literal_count: 0, literals: Literals::default(), literal: Name::default() }
    }
}

/// One entry of a node's literal table: the low 32 bits of the literal's hash and the
/// child's index (0: an empty slot).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    hash: u32,
    node: u32,
}

/// A node's literal children, open-addressed with linear probing, at most half full (so a
/// probe always ends at an empty slot). Keyed by configured literals only, so a fast
/// non-keyed hash is safe here.
#[derive(Debug, Clone, Default)]
struct Literals {
    /// A power of two in length, or empty.
    slots: Box<[Slot]>,
}

fn hash_of(segment: &str) -> u32 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(segment) as u32
}

impl Literals {
    /// The slots a probe for `hash` visits, from its home slot on (at most the table).
    fn probe(&self, hash: u32) -> impl Iterator<Item = Slot> + '_ {
        let mask = self.slots.len().wrapping_sub(1);
        (0..self.slots.len()).map(move |step| self.slots[(hash as usize).wrapping_add(step) & mask])
    }

    /// Adds a child to a table holding `count`; the table doubles first when it would pass
    /// half full.
    fn insert(&mut self, count: u32, hash: u32, node: u32) {
        if (count as usize + 1) * 2 > self.slots.len() {
            let mut grown = Literals { slots: vec![Slot::default(); (self.slots.len() * 2).max(2)].into() };
            for slot in self.slots.iter().filter(|slot| slot.node != 0) {
                grown.place(slot.hash, slot.node);
            }
            *self = grown;
        }
        self.place(hash, node);
    }

    fn place(&mut self, hash: u32, node: u32) {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at].node != 0 {
            at = (at + 1) & mask;
        }
        self.slots[at] = Slot { hash, node };
    }
}

/// The size of a node holding values of type `T` (the snapshot checks its own is 72 bytes).
#[cfg(test)]
pub(crate) const fn node_size<T>() -> usize {
    std::mem::size_of::<Node<T>>()
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
            let next = match segment {
                Segment::Literal(literal) => {
                    let canonical = canonical_literal(literal);
                    match self.literal_child(node, &canonical) {
                        Some(next) => next,
                        None => {
                            let next = self.push(Node { literal: Name::from(canonical.as_str()), ..Node::default() });
                            let parent = &mut self.nodes[node];
                            parent.literals.insert(parent.literal_count, hash_of(&canonical), next as u32);
                            parent.literal_count += 1;
                            next
                        }
                    }
                }
                Segment::Param(_) => match self.nodes[node].param {
                    0 => {
                        let next = self.push(Node::default());
                        self.nodes[node].param = next as u32;
                        next
                    }
                    next => next as usize,
                },
            };
            node = next;
        }
        &mut self.nodes[node].route
    }

    fn push(&mut self, node: Node<T>) -> usize {
        let index = self.nodes.len();
        u32::try_from(index).expect("fewer than 4 billion route segments");
        self.nodes.push(node);
        index
    }

    /// The child of `node` reached by the literal `segment`, if any.
    fn literal_child(&self, node: usize, segment: &str) -> Option<usize> {
        let literals = &self.nodes[node].literals;
        if literals.slots.is_empty() {
            return None;
        }
        let hash = hash_of(segment);
        for slot in literals.probe(hash) {
            if slot.node == 0 {
                return None;
            }
            if slot.hash == hash && self.nodes[slot.node as usize].literal == *segment {
                return Some(slot.node as usize);
            }
        }
        None
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
        if let Some(child) = self.literal_child(node, segment) {
            if let Some(found) = self.find(child, tail, params) {
                return Some(found);
            }
        }
        match here.param {
            child if child != 0 && !segment.is_empty() => {
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

    /// Slots a lookup of `segment` under `node` visits until it finds the child or an empty slot.
    fn probes<T>(router: &Router<T>, node: usize, segment: &str) -> usize {
        let hash = hash_of(segment);
        let visited = router.nodes[node].literals.probe(hash).position(|slot| {
            slot.node == 0 || (slot.hash == hash && router.nodes[slot.node as usize].literal == *segment)
        });
        visited.expect("a table at most half full has an empty slot") + 1
    }

    #[test]
    fn ten_thousand_literals_under_one_node_are_found_in_few_probes() {
        let paths: Vec<String> = (0..10_000).map(|i| format!("/items/{i}/{{id}}")).collect();
        let r = router(&paths.iter().map(String::as_str).collect::<Vec<_>>());
        let items = r.literal_child(0, "items").expect("items");
        assert_eq!(r.nodes[items].literal_count, 10_000);
        assert!(r.nodes[items].literals.slots.len() >= 20_000, "at most half full");
        let mut total = 0;
        let mut longest = 0;
        for i in 0..10_000 {
            let path = format!("/items/{i}/7");
            assert_eq!(at(&r, &path), Some((i, vec!["7"])), "{path}");
            let n = probes(&r, items, &i.to_string());
            total += n;
            longest = longest.max(n);
        }
        for absent in ["10000", "-1", "", "items", "0x"] {
            assert_eq!(at(&r, &format!("/items/{absent}/7")), None, "{absent}");
        }
        let mean = total as f64 / 10_000.0;
        eprintln!("probes: mean {mean:.2}, longest {longest}");
        assert!(mean < 2.0 && longest <= 24, "mean {mean}, longest {longest}: the hash spreads numbers badly");
    }

    #[test]
    fn a_node_ends_with_its_literal_and_a_templates_nodes_are_adjacent() {
        use std::mem::{offset_of, size_of};
        type Value = Option<std::sync::Arc<u8>>;
        assert_eq!(offset_of!(Node<Value>, route), 0);
        assert_eq!(offset_of!(Node<Value>, literal) + size_of::<Name>(), node_size::<Value>());
        // `/items/{i}/{id}`'s last two nodes: the parameter child follows its parent.
        let r = router(&["/items/1/{id}"]);
        let one = r.literal_child(r.literal_child(0, "items").expect("items"), "1").expect("1");
        assert_eq!(r.nodes[one].param as usize, one + 1);
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
