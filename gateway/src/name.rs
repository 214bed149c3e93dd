//! [`Name`]: a short string kept inline where it is stored (an API's name, its parameters'
//! names, its backend path's literals, a router key, a version label), on the heap only when
//! longer than [`Name::INLINE`] bytes.
//!
//! Why: a request reads a dozen such names of the API it routed to. As `String`s each is an
//! allocation of its own, so with 10,000 APIs live each is a cache miss of its own
//! (`bench/results/scale_cache.md`); inline, a name is in the cache line of the struct holding it,
//! and cloning one copies 24 bytes with no allocation.

use compact_str::CompactString;
use std::borrow::Borrow;
use std::fmt;
use std::ops::Deref;

/// A string of at most [`Name::INLINE`] bytes inline, a longer one on the heap (a
/// `compact_str::CompactString`: reading it is a pointer and a length, with no check of its
/// bytes). Compares, hashes and prints as the `str` it holds.
/// `CompactString` compares, orders and hashes as its `str`, so those are derived.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(CompactString);

impl Name {
    /// The longest name kept inline (a `Name` is 24 bytes).
    pub const INLINE: usize = 24;

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// `text` with ASCII letters in lower case (a host name as compared).
    pub fn ascii_lowercase(text: &str) -> Name {
        let mut name = CompactString::from(text);
        name.make_ascii_lowercase();
        Name(name)
    }

    /// Whether the text lives inline (no allocation of its own).
    pub fn is_inline(&self) -> bool {
        !self.0.is_heap_allocated()
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name(CompactString::from(text))
    }
}

impl From<&String> for Name {
    fn from(text: &String) -> Name {
        Name::from(text.as_str())
    }
}

impl From<String> for Name {
    fn from(text: String) -> Name {
        Name(CompactString::from(text))
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_name_is_the_text_it_was_made_from_inline_up_to_the_limit() {
        assert_eq!(std::mem::size_of::<Name>(), 24);
        let longest = "x".repeat(Name::INLINE);
        let longer = "y".repeat(Name::INLINE + 1);
        for (text, inline) in
            [("", true), ("id", true), ("é-ünïcode", true), (longest.as_str(), true), (longer.as_str(), false)]
        {
            for name in [Name::from(text), Name::from(text.to_owned())] {
                assert_eq!(name.as_str(), text);
                assert_eq!(name.is_inline(), inline, "{text:?}");
                assert_eq!(name.clone(), name);
                assert_eq!(format!("{name}"), text);
                assert_eq!(format!("{name:?}"), format!("{text:?}"));
            }
        }
        assert_eq!(Name::default().as_str(), "");
        assert_eq!(Name::ascii_lowercase("Large.LocalHost"), "large.localhost");
        let shout = "A-HOST-NAME-LONGER-THAN-TWENTY-TWO-BYTES.EXAMPLE";
        assert_eq!(Name::ascii_lowercase(shout), shout.to_ascii_lowercase().as_str());
        assert_eq!(Name::ascii_lowercase("ÉCOLE.fr"), "École.fr");
        assert_ne!(Name::from("a"), Name::from("b"));
        assert!(Name::from("a") < Name::from("b"));
    }

    #[test]
    fn a_map_keyed_by_names_is_searched_with_a_str() {
        let long = "a-literal-segment-longer-than-twenty-four-bytes";
        let map: HashMap<Name, u32> = [(Name::from("pets"), 1), (Name::from(long), 2)].into_iter().collect();
        assert_eq!(map.get("pets"), Some(&1));
        assert_eq!(map.get(long), Some(&2));
        assert_eq!(map.get("pet"), None);
    }
}
