//! A backend as one address or several weighted targets (issue 25).
//!
//! Wherever an address is accepted (an API's `backend.http.address`, a release's HTTP
//! backend, a backend service's URL per environment), a list of targets is accepted too. The
//! value is kept as one canonical text, so nothing stored changes shape:
//!
//! ```text
//! http://10.0.0.1:8080 weight=3 max_conns=100, http://10.0.0.2:8080
//! ```
//!
//! One address with no options is written as before, `http://10.0.0.1:8080`. A target given
//! by host name may stand for several addresses: the gateway's DNS discovery finds them. On the wire
//! ([`text_or_list`]) a single address stays a string and several targets are a JSON list
//! `[{"url": "http://10.0.0.1:8080", "weight": 3, "max_conns": 100}, …]`; either form is
//! read back into the canonical text.

use crate::BackendAddress;
use std::fmt;

/// At most this many targets in one list.
pub const MAX_TARGETS: usize = 64;
/// Weights run from 1 to this.
pub const MAX_WEIGHT: u32 = 1_000;
/// A per-target connection limit runs from 1 to this.
pub const MAX_CONNS: u32 = 100_000;

/// One target of a backend: an address, its share of the traffic, and optionally its own
/// connection limit (the gateway-wide default otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeightedTarget {
    /// Where.
    pub address: BackendAddress,
    /// Its share, relative to the others (1–[`MAX_WEIGHT`]).
    pub weight: u32,
    /// Most connections open to it at once; `None` for the gateway's default.
    pub max_conns: Option<u32>,
}

/// A backend's targets, at least one, each address once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets(Vec<WeightedTarget>);

impl Targets {
    /// Parses one address, or targets separated by commas or new lines, each
    /// `url [weight=N] [max_conns=N]`. A single address keeps the address's own error
    /// texts; in a list, each error names the target (`target 2: …`).
    pub fn parse(raw: &str) -> Result<Targets, String> {
        let items: Vec<&str> = raw.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).collect();
        if items.is_empty() {
            return Err("is required".into());
        }
        if items.len() > MAX_TARGETS {
            return Err(format!("has {} targets; at most {MAX_TARGETS} are allowed", items.len()));
        }
        let many = items.len() > 1;
        let mut targets: Vec<WeightedTarget> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let named = |message: String| if many { format!("target {}: {message}", i + 1) } else { message };
            let target = parse_one(item).map_err(named)?;
            if targets.iter().any(|t| t.address == target.address) {
                return Err(named(format!("`{}` is listed twice", target.address)));
            }
            targets.push(target);
        }
        Ok(Targets(targets))
    }

    /// The targets, in the order given.
    pub fn targets(&self) -> &[WeightedTarget] {
        &self.0
    }

    /// The address when this is one plain address (no weight or limit of its own).
    pub fn single(&self) -> Option<&BackendAddress> {
        match self.0.as_slice() {
            [only] if only.weight == 1 && only.max_conns.is_none() => Some(&only.address),
            _ => None,
        }
    }

    /// The first target's address (what a one-connection call such as a WebSocket upgrade
    /// names when it has to name one).
    pub fn first(&self) -> &BackendAddress {
        &self.0[0].address
    }
}

fn parse_one(item: &str) -> Result<WeightedTarget, String> {
    let mut words = item.split_whitespace();
    let url = words.next().ok_or("is required")?;
    let address = BackendAddress::parse(url)?;
    let (mut weight, mut max_conns) = (1, None);
    for word in words {
        let (key, value) =
            word.split_once('=').ok_or_else(|| format!("`{word}` is not an option (weight=N or max_conns=N)"))?;
        let number = |bounds: std::ops::RangeInclusive<u32>| match value.parse::<u32>() {
            Ok(n) if bounds.contains(&n) => Ok(n),
            _ => Err(format!("{key} must be a whole number from {} to {}", bounds.start(), bounds.end())),
        };
        match key {
            "weight" => weight = number(1..=MAX_WEIGHT)?,
            "max_conns" => max_conns = Some(number(1..=MAX_CONNS)?),
            other => return Err(format!("`{other}` is not an option (weight=N or max_conns=N)")),
        }
    }
    Ok(WeightedTarget { address, weight, max_conns })
}

impl fmt::Display for WeightedTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.address)?;
        if self.weight != 1 {
            write!(f, " weight={}", self.weight)?;
        }
        if let Some(max) = self.max_conns {
            write!(f, " max_conns={max}")?;
        }
        Ok(())
    }
}

/// The canonical text: targets joined by `, `.
impl fmt::Display for Targets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, target) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{target}")?;
        }
        Ok(())
    }
}

/// Serde for a field that holds the canonical text: written as a string for one target and
/// as a list of `{url, weight, max_conns}` for several; read from either. Text that does not
/// parse is kept as given, for the field's validation to name.
pub mod text_or_list {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        url: String,
        #[serde(default = "one", skip_serializing_if = "is_one")]
        weight: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_conns: Option<u32>,
    }

    fn one() -> u32 {
        1
    }

    fn is_one(n: &u32) -> bool {
        *n == 1
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Wire {
        Text(String),
        List(Vec<Item>),
    }

    fn to_text(wire: Wire) -> String {
        match wire {
            Wire::Text(text) => text,
            Wire::List(items) => items
                .into_iter()
                .map(|item| {
                    let mut text = item.url;
                    if item.weight != 1 {
                        text.push_str(&format!(" weight={}", item.weight));
                    }
                    if let Some(max) = item.max_conns {
                        text.push_str(&format!(" max_conns={max}"));
                    }
                    text
                })
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn items(text: &str) -> Option<Vec<Item>> {
        let targets = super::Targets::parse(text).ok()?;
        if targets.targets().len() < 2 {
            return None;
        }
        let list = targets.targets().iter().map(|t| Item {
            url: t.address.to_string(),
            weight: t.weight,
            max_conns: t.max_conns,
        });
        Some(list.collect())
    }

    /// Writes one target as its text and several as a list.
    pub fn serialize<S: Serializer>(text: &str, serializer: S) -> Result<S::Ok, S::Error> {
        match items(text) {
            Some(list) => list.serialize(serializer),
            None => serializer.serialize_str(text),
        }
    }

    /// Reads a string or a list into the canonical text.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
        Wire::deserialize(deserializer).map(to_text)
    }

    /// The same for each value of a map (a backend service's URL per environment).
    pub mod map {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};
        use std::collections::BTreeMap;

        struct One<'a>(&'a str);

        impl Serialize for One<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                super::serialize(self.0, serializer)
            }
        }

        /// Writes each value as [`super::serialize`] does.
        pub fn serialize<S: Serializer>(map: &BTreeMap<String, String>, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.collect_map(map.iter().map(|(key, text)| (key, One(text))))
        }

        /// Reads each value as a string or a list.
        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<String, String>, D::Error> {
            let raw = BTreeMap::<String, super::Wire>::deserialize(deserializer)?;
            Ok(raw.into_iter().map(|(key, wire)| (key, super::to_text(wire))).collect())
        }
    }

    /// The same for an optional field (`null` or absent is `None`).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};

        /// Writes `None` as `null`.
        pub fn serialize<S: Serializer>(text: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
            match text {
                Some(text) => super::serialize(text, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Reads `null`, a string or a list.
        pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
            Option::<super::Wire>::deserialize(deserializer).map(|wire| wire.map(super::to_text))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_is_one_target_written_as_before() {
        let targets = Targets::parse(" http://pets.internal:8080/ ").expect("one");
        assert_eq!(targets.to_string(), "http://pets.internal:8080");
        assert_eq!(targets.single().map(|a| a.to_string()).as_deref(), Some("http://pets.internal:8080"));
        // The address's own messages, unprefixed.
        assert_eq!(
            Targets::parse("pets.internal").expect_err("no scheme"),
            "`pets.internal` must start with http:// or https://"
        );
        assert_eq!(Targets::parse("  ").expect_err("empty"), "is required");
    }

    #[test]
    fn a_list_has_weights_and_limits_and_one_canonical_text() {
        let targets = Targets::parse(
            "http://10.0.0.1:8080 weight=3 max_conns=100,\nhttps://10.0.0.2 ,http://10.0.0.3:1 weight=1",
        )
        .expect("three");
        assert_eq!(targets.targets().len(), 3);
        assert_eq!((targets.targets()[0].weight, targets.targets()[0].max_conns), (3, Some(100)));
        assert_eq!(
            targets.to_string(),
            "http://10.0.0.1:8080 weight=3 max_conns=100, https://10.0.0.2, http://10.0.0.3:1"
        );
        assert_eq!(Targets::parse(&targets.to_string()), Ok(targets.clone()));
        assert!(targets.single().is_none());
        assert!(Targets::parse("http://a weight=2").expect("weighted").single().is_none());
    }

    #[test]
    fn hostile_lists_are_refused_naming_the_target() {
        let cases = [
            ("http://a, ftp://b", "target 2: `ftp://b` must start with http:// or https://"),
            ("http://a, http://a/", "target 2: `http://a` is listed twice"),
            ("http://a weight=0, http://b", "target 1: weight must be a whole number from 1 to 1000"),
            ("http://a weight=1001", "weight must be a whole number from 1 to 1000"),
            ("http://a weight=-1", "weight must be a whole number from 1 to 1000"),
            ("http://a max_conns=0", "max_conns must be a whole number from 1 to 100000"),
            ("http://a backup", "`backup` is not an option (weight=N or max_conns=N)"),
            ("http://a down=1", "`down` is not an option (weight=N or max_conns=N)"),
            ("http://user:pw@a", "must not contain user info (user:password@)"),
        ];
        for (raw, message) in cases {
            assert_eq!(Targets::parse(raw).expect_err(raw), message, "{raw}");
        }
        let many = (0..=MAX_TARGETS).map(|i| format!("http://10.0.0.{i}")).collect::<Vec<_>>().join(",");
        assert_eq!(Targets::parse(&many).expect_err("too many"), "has 65 targets; at most 64 are allowed");
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Holder {
        #[serde(with = "text_or_list")]
        address: String,
        #[serde(with = "text_or_list::option", default)]
        optional: Option<String>,
    }

    #[test]
    fn on_the_wire_one_is_a_string_and_several_are_a_list() {
        let read: Holder = serde_json::from_value(serde_json::json!({
            "address": [{"url": "http://10.0.0.1:9001", "weight": 3}, {"url": "http://10.0.0.2:9001"}],
            "optional": "http://one"
        }))
        .expect("read");
        assert_eq!(read.address, "http://10.0.0.1:9001 weight=3, http://10.0.0.2:9001");
        let written = serde_json::to_value(&read).expect("write");
        assert_eq!(
            written,
            serde_json::json!({
                "address": [{"url": "http://10.0.0.1:9001", "weight": 3}, {"url": "http://10.0.0.2:9001"}],
                "optional": "http://one"
            })
        );
        let absent: Holder = serde_json::from_value(serde_json::json!({"address": "x"})).expect("absent");
        assert_eq!(absent.optional, None);
        // Text that does not parse is kept for validation to name.
        assert_eq!(absent.address, "x");
        let unknown =
            serde_json::from_value::<Holder>(serde_json::json!({"address": [{"url": "http://a", "wieght": 2}]}));
        assert!(unknown.is_err(), "a misspelt option is refused");
    }
}
