//! Names users pick, and the rules each follows.

/// An API group's name: 1 to 64 characters, starting with a letter; letters, digits, `_`
/// and `-`.
pub fn group_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 {
        return Err("is required".into());
    }
    if count > 64 {
        return Err("must be at most 64 characters".into());
    }
    if !name.chars().next().is_some_and(char::is_alphabetic) {
        return Err("must start with a letter".into());
    }
    if !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
        return Err("may contain only letters, digits, '_' and '-'".into());
    }
    Ok(name.to_owned())
}

/// A subdomain: one DNS label, 1 to 63 characters of `a-z`, `0-9` and `-`, not starting or
/// ending with `-`. Upper case is folded.
pub fn subdomain(raw: &str) -> Result<String, String> {
    let label = raw.trim().to_ascii_lowercase();
    if label.is_empty() {
        return Err("is required".into());
    }
    if label.len() > 63 {
        return Err("must be at most 63 characters (one DNS label)".into());
    }
    if !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err("may contain only letters, digits and '-' (one DNS label, no dots)".into());
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err("must not start or end with '-'".into());
    }
    Ok(label)
}

/// An API's name: 1 to 64 characters, no control characters; trimmed.
pub fn api_name(raw: &str) -> Result<String, String> {
    let name = raw.trim();
    let count = name.chars().count();
    if count == 0 {
        return Err("is required".into());
    }
    if count > 64 {
        return Err("must be at most 64 characters".into());
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(name.to_owned())
}

/// Free text such as a description: at most `max` characters; trimmed.
pub fn text(raw: &str, max: usize) -> Result<String, String> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    Ok(text.to_owned())
}

/// A trimmed, non-empty name of at most `max` bytes, all of them `allowed`; `rule` says
/// which characters are.
fn token(raw: &str, max: usize, allowed: impl Fn(u8) -> bool, rule: &str) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("is required".into());
    }
    if name.len() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if !name.bytes().all(allowed) {
        return Err(format!("`{name}` may contain only {rule}"));
    }
    Ok(name.to_owned())
}

/// An HTTP header name: an RFC 9110 token, at most 128 characters. Returned lower-case.
pub fn header_name(raw: &str) -> Result<String, String> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    token(raw, 128, allowed, "letters, digits and !#$%&'*+-.^_`|~ (a header name)").map(|n| n.to_ascii_lowercase())
}

/// An HTTP header value: visible characters, spaces and tabs; no line breaks.
pub fn header_value(raw: &str) -> Result<String, String> {
    if raw.chars().any(|c| c == '\r' || c == '\n' || (c.is_control() && c != '\t')) {
        return Err("must not contain line breaks or control characters".into());
    }
    Ok(raw.to_owned())
}

/// A query, form, path or JSON body parameter name: 1 to 64 of letters, digits, `_`, `-`, `.`.
pub fn param_name(raw: &str) -> Result<String, String> {
    let allowed = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    token(raw, 64, allowed, "letters, digits, '_', '-' and '.'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names() {
        assert_eq!(group_name(" petstore "), Ok("petstore".into()));
        assert!(group_name("").is_err());
        assert!(group_name("1pets").is_err());
        assert!(group_name("pet store").is_err());
        assert!(group_name(&"a".repeat(65)).is_err());
        assert!(group_name("宠物-store_1").is_ok());
    }

    #[test]
    fn subdomains_are_dns_labels() {
        assert_eq!(subdomain("PetStore"), Ok("petstore".into()));
        assert!(subdomain("pet.store").is_err());
        assert!(subdomain("-pets").is_err());
        assert!(subdomain("pets-").is_err());
        assert!(subdomain(&"a".repeat(64)).is_err());
        assert!(subdomain("").is_err());
        assert!(subdomain("pet_store").is_err());
    }

    #[test]
    fn api_names() {
        assert!(api_name("Get pet").is_ok());
        assert!(api_name("  ").is_err());
        assert!(api_name("a\nb").is_err());
    }

    #[test]
    fn header_names_and_values() {
        assert_eq!(header_name("X-Trace-Id"), Ok("x-trace-id".into()));
        assert!(header_name("bad header").is_err());
        assert!(header_name("bad:header").is_err());
        assert!(header_value("ok value").is_ok());
        assert!(header_value("bad\r\nInjected: yes").is_err());
    }

    #[test]
    fn param_names() {
        assert!(param_name("petId").is_ok());
        assert!(param_name("pet id").is_err());
        assert!(param_name("").is_err());
    }
}

/// A host name for a custom domain: DNS labels joined by dots, 1 to 253 characters;
/// lower-cased.
pub fn host_name(raw: &str) -> Result<String, String> {
    let host = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() {
        return Err("is required".into());
    }
    if host.len() > 253 {
        return Err("must be at most 253 characters".into());
    }
    for label in host.split('.') {
        subdomain(label).map_err(|m| format!("`{label}` in `{host}`: {m}"))?;
    }
    Ok(host)
}

#[cfg(test)]
mod host_tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(host_name("API.Example.com."), Ok("api.example.com".into()));
        assert!(host_name("").is_err());
        assert!(host_name("bad..example.com").is_err());
        assert!(host_name("under_score.example.com").is_err());
    }
}
