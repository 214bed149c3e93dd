//! HTTP methods an API can answer.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A frontend method; `Any` matches every method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Delete,
    Patch,
    Head,
    Options,
    Any,
}

impl HttpMethod {
    /// Every method, in the order forms list them.
    pub const ALL: [HttpMethod; 8] = [
        HttpMethod::Get,
        HttpMethod::Post,
        HttpMethod::Put,
        HttpMethod::Delete,
        HttpMethod::Patch,
        HttpMethod::Head,
        HttpMethod::Options,
        HttpMethod::Any,
    ];

    /// The upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Patch => "PATCH",
            HttpMethod::Head => "HEAD",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Any => "ANY",
        }
    }

    /// Parses a method name, case-insensitively.
    pub fn parse(raw: &str) -> Result<HttpMethod, String> {
        let raw = raw.trim();
        HttpMethod::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(raw))
            .ok_or_else(|| format!("`{raw}` is not one of GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS, ANY"))
    }

    /// The method of a definition as stored (validated when it was written): a spelling
    /// [`HttpMethod::parse`] refuses is read as `ANY`, the method that overlaps every other,
    /// so a clash check errs towards refusing.
    pub fn stored(raw: &str) -> HttpMethod {
        HttpMethod::parse(raw).unwrap_or(HttpMethod::Any)
    }

    /// Whether two frontend methods can match the same request.
    pub fn overlaps(self, other: HttpMethod) -> bool {
        self == other || self == HttpMethod::Any || other == HttpMethod::Any
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_parse_case_insensitively() {
        assert_eq!(HttpMethod::parse("get"), Ok(HttpMethod::Get));
        assert_eq!(HttpMethod::parse("ANY"), Ok(HttpMethod::Any));
        assert!(HttpMethod::parse("FETCH").is_err());
    }

    #[test]
    fn a_stored_spelling_no_parse_accepts_reads_as_any() {
        assert_eq!(HttpMethod::stored(" post "), HttpMethod::Post);
        assert_eq!(HttpMethod::stored("FETCH"), HttpMethod::Any);
        assert!(HttpMethod::stored("").overlaps(HttpMethod::Delete));
    }

    #[test]
    fn any_overlaps_everything() {
        assert!(HttpMethod::Any.overlaps(HttpMethod::Post));
        assert!(HttpMethod::Get.overlaps(HttpMethod::Get));
        assert!(!HttpMethod::Get.overlaps(HttpMethod::Post));
    }
}
