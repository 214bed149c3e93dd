//! Path templates: `/pets/{petId}/photos`.

use std::fmt;

/// One segment of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Matches exactly this text.
    Literal(String),
    /// `{name}`: matches any one non-empty segment and names it.
    Param(String),
}

/// A parsed path template. The only way to make one is [`PathTemplate::parse`], which
/// enforces: a leading `/`; no empty segments (so no `//` and no trailing `/` except the root
/// `/`); parameters are whole segments `{name}` with a name of letters, digits and `_` not
/// starting with a digit; no name twice; literal segments use URL path characters only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    raw: String,
    segments: Vec<Segment>,
}

fn literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@%".contains(c)
}

fn param_name_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl PathTemplate {
    /// Parses a template, with a message naming the first rule it breaks.
    pub fn parse(raw: &str) -> Result<PathTemplate, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("is required".into());
        }
        if !raw.starts_with('/') {
            return Err(format!("`{raw}` must start with /"));
        }
        if raw.len() > 512 {
            return Err("must be at most 512 characters".into());
        }
        if raw.contains('?') || raw.contains('#') {
            return Err("must not contain a query (?) or fragment (#); declare query parameters instead".into());
        }
        if raw == "/" {
            return Ok(PathTemplate { raw: raw.to_owned(), segments: Vec::new() });
        }
        let mut segments = Vec::new();
        for (index, segment) in raw[1..].split('/').enumerate() {
            if segment.is_empty() {
                return Err(format!("segment {} is empty (no `//` and no trailing /)", index + 1));
            }
            if let Some(inner) = segment.strip_prefix('{') {
                let Some(name) = inner.strip_suffix('}') else {
                    return Err(format!(
                        "`{segment}`: a parameter must be a whole segment `{{name}}` (unclosed `{{`?)"
                    ));
                };
                if !param_name_ok(name) {
                    return Err(format!(
                        "`{{{name}}}`: a parameter name is letters, digits and _, not starting with a digit"
                    ));
                }
                if segments.contains(&Segment::Param(name.to_owned())) {
                    return Err(format!("parameter `{{{name}}}` appears twice"));
                }
                segments.push(Segment::Param(name.to_owned()));
            } else if segment.contains('{') || segment.contains('}') {
                return Err(format!("`{segment}`: a parameter must be a whole segment `{{name}}`"));
            } else if let Some(bad) = segment.chars().find(|c| !literal_char(*c)) {
                return Err(format!("`{segment}`: the character `{bad}` is not allowed in a path"));
            } else {
                segments.push(Segment::Literal(segment.to_owned()));
            }
        }
        Ok(PathTemplate { raw: raw.to_owned(), segments })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Its segments.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The names of its parameters, in order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The template with each parameter written `{}`: two templates have the same shape
    /// exactly when they [conflict](PathTemplate::conflicts_with) (a literal holds no `/`,
    /// `{` or `}`), so a map keyed by shapes finds a template's conflicts in one lookup.
    pub fn shape(&self) -> String {
        if self.segments.is_empty() {
            return "/".to_owned();
        }
        let mut shape = String::with_capacity(self.raw.len());
        for segment in &self.segments {
            shape.push('/');
            shape.push_str(match segment {
                Segment::Literal(literal) => literal,
                Segment::Param(_) => "{}",
            });
        }
        shape
    }

    /// Whether some request path matches both templates *and* a router could not tell them
    /// apart: same length, and at each position both are parameters or both are the same
    /// literal. (`/pets/mine` beside `/pets/{id}` is fine: the literal wins.)
    pub fn conflicts_with(&self, other: &PathTemplate) -> bool {
        self.segments.len() == other.segments.len()
            && self.segments.iter().zip(&other.segments).all(|pair| match pair {
                (Segment::Param(_), Segment::Param(_)) => true,
                (Segment::Literal(a), Segment::Literal(b)) => a == b,
                _ => false,
            })
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(raw: &str) -> PathTemplate {
        PathTemplate::parse(raw).expect(raw)
    }

    #[test]
    fn valid_templates() {
        assert_eq!(t("/").segments().len(), 0);
        assert_eq!(t("/pets/{petId}").params().collect::<Vec<_>>(), ["petId"]);
        assert_eq!(t("/v2/pet/{id}/photos/{photo_id}").params().count(), 2);
        assert!(PathTemplate::parse("/a-b_c.d~e/x:y").is_ok());
    }

    #[test]
    fn a_leading_slash_is_required() {
        assert!(PathTemplate::parse("pets/{id}").expect_err("no slash").contains("must start with /"));
        assert!(PathTemplate::parse("").is_err());
    }

    #[test]
    fn unclosed_and_partial_parameters_are_refused() {
        assert!(PathTemplate::parse("/pets/{id").expect_err("unclosed").contains("unclosed"));
        assert!(PathTemplate::parse("/pets/id}").is_err());
        assert!(PathTemplate::parse("/pets/{id}.json").is_err());
        assert!(PathTemplate::parse("/pets/{}").is_err());
        assert!(PathTemplate::parse("/pets/{1id}").is_err());
    }

    #[test]
    fn empty_segments_are_refused() {
        assert!(PathTemplate::parse("/pets//1").is_err());
        assert!(PathTemplate::parse("/pets/").is_err());
    }

    #[test]
    fn duplicate_names_are_refused() {
        assert!(PathTemplate::parse("/a/{id}/b/{id}").expect_err("dup").contains("twice"));
    }

    #[test]
    fn queries_and_odd_characters_are_refused() {
        assert!(PathTemplate::parse("/pets?x=1").is_err());
        assert!(PathTemplate::parse("/pe ts").is_err());
    }

    #[test]
    fn conflicts() {
        assert!(t("/pets/{id}").conflicts_with(&t("/pets/{petId}")));
        assert!(t("/pets").conflicts_with(&t("/pets")));
        assert!(!t("/pets/{id}").conflicts_with(&t("/pets/mine")));
        assert!(!t("/pets/{id}").conflicts_with(&t("/pets/{id}/photos")));
        assert!(!t("/pets").conflicts_with(&t("/stores")));
        assert!(t("/").conflicts_with(&t("/")));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any input is either a template or an error message; never a panic.
        #[test]
        fn parsing_arbitrary_text_never_panics(raw in ".{0,80}") {
            let _ = PathTemplate::parse(&raw);
        }

        /// Templates built from valid segments parse back to the same segments.
        #[test]
        fn valid_templates_round_trip(segments in proptest::collection::vec(("[a-z0-9_.-]{1,8}", any::<bool>()), 1..6)) {
            let mut raw = String::new();
            let mut expected = Vec::new();
            for (i, (text, is_param)) in segments.iter().enumerate() {
                if *is_param {
                    let name = format!("p{i}");
                    raw.push_str(&format!("/{{{name}}}"));
                    expected.push(Segment::Param(name));
                } else {
                    raw.push('/');
                    raw.push_str(text);
                    expected.push(Segment::Literal(text.clone()));
                }
            }
            let parsed = PathTemplate::parse(&raw).expect("valid template");
            prop_assert_eq!(parsed.segments(), expected.as_slice());
            prop_assert!(parsed.conflicts_with(&parsed));
        }

        /// Same shape exactly when conflicting, over templates of a small alphabet (so that
        /// both outcomes come up often).
        #[test]
        fn same_shape_exactly_when_conflicting(
            a in proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("ab"), Just("{}")], 0..4),
            b in proptest::collection::vec(prop_oneof![Just("a"), Just("b"), Just("ab"), Just("{}")], 0..4),
        ) {
            let template = |segments: &[&str]| {
                // `{}` a parameter, named by its position (a name may appear once).
                let raw: String = segments
                    .iter()
                    .enumerate()
                    .map(|(i, s)| if *s == "{}" { format!("/{{p{i}}}") } else { format!("/{s}") })
                    .collect();
                PathTemplate::parse(if raw.is_empty() { "/" } else { &raw }).expect("valid template")
            };
            let (a, b) = (template(&a), template(&b));
            prop_assert_eq!(a.shape() == b.shape(), a.conflicts_with(&b), "{} / {}", a, b);
        }
    }
}
