//! The declarative configuration's file: YAML in and out, and one line per change for
//! `gantry config diff` and `POST /config/diff`.

use control::config::ConfigDocument;
use domain::release::FieldChange;

/// The largest file `diff` reads.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;

/// The document as YAML: keys in the document's order, collections sorted by name.
pub fn to_yaml(document: &ConfigDocument) -> anyhow::Result<String> {
    Ok(serde_norway::to_string(document)?)
}

/// Parses a file, saying where it is wrong (line and column) and what was expected. Unknown
/// keys are refused (a typo must not be ignored silently).
pub fn from_yaml(text: &str) -> Result<ConfigDocument, String> {
    if text.len() > MAX_FILE_BYTES {
        return Err(format!("the file is larger than {MAX_FILE_BYTES} bytes"));
    }
    serde_norway::from_str(text).map_err(|e| e.to_string())
}

/// `~ groups.petstore.apis.Hello.backend.mock.body: "a" -> "b"`, `+ path: value` for an
/// addition, `- path: value` for a removal.
pub fn describe(change: &FieldChange) -> String {
    match (&change.old, &change.new) {
        (None, Some(new)) => format!("+ {}: {new}", change.field),
        (Some(old), None) => format!("- {}: {old}", change.field),
        (Some(old), Some(new)) => format!("~ {}: {old} -> {new}", change.field),
        (None, None) => format!("~ {}", change.field),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_round_trip_and_bad_ones_say_where() {
        let text = "gantry: 1\ngroups:\n  petstore:\n    subdomain: petstore\n";
        let document = from_yaml(text).expect("valid");
        assert_eq!(document.groups["petstore"].subdomain, "petstore");
        assert_eq!(from_yaml(&to_yaml(&document).expect("yaml")).expect("again"), document);
        let typo = from_yaml("gantry: 1\ngroup: {}\n").expect_err("unknown key");
        assert!(typo.contains("group") && typo.contains("line"), "{typo}");
        assert!(from_yaml("gantry: [").is_err());
    }

    /// "Billion laughs": nine levels of nine aliases would expand to 9^9 strings inside a
    /// policy's free-form `config`; the parser stops at its repetition limit instead. Deep
    /// nesting stops at the recursion limit. Both are ordinary errors, not a stall or a crash.
    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let mut text = String::from(
            "gantry: 1\npolicies:\n  p:\n    type: cors\n    config:\n      l0: &l0 [x, x, x, x, x, x, x, x, x]\n",
        );
        for level in 1..=9 {
            let refs = vec![format!("*l{}", level - 1); 9].join(", ");
            text.push_str(&format!("      l{level}: &l{level} [{refs}]\n"));
        }
        let refused = from_yaml(&text).expect_err("alias bomb");
        assert!(refused.contains("repetition limit"), "{refused}");
        let deep = format!(
            "gantry: 1\npolicies:\n  p:\n    type: cors\n    config: {}{}\n",
            "[".repeat(10_000),
            "]".repeat(10_000)
        );
        let refused = from_yaml(&deep).expect_err("deep");
        assert!(refused.contains("recursion limit"), "{refused}");
        let big = "#".repeat(MAX_FILE_BYTES + 1);
        assert!(from_yaml(&big).expect_err("big").contains("larger than"));
    }

    #[test]
    fn changes_read_as_one_line_each() {
        let change = |old: Option<&str>, new: Option<&str>| FieldChange {
            field: "groups.petstore.description".into(),
            old: old.map(str::to_owned),
            new: new.map(str::to_owned),
        };
        assert_eq!(describe(&change(Some("\"a\""), Some("\"b\""))), "~ groups.petstore.description: \"a\" -> \"b\"");
        assert_eq!(describe(&change(None, Some("1"))), "+ groups.petstore.description: 1");
        assert_eq!(describe(&change(Some("1"), None)), "- groups.petstore.description: 1");
    }
}
