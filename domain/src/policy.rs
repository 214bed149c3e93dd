//! Traffic policies (throttling, IP access control, CORS) and their bindings to an API or a
//! whole group in one environment.
//!
//! [`PolicySpec`] is the wire shape (`{"name", "type", "description", "config"}`);
//! [`PolicySpec::validate`] checks every rule and returns a [`ValidPolicy`] whose
//! configuration is parsed ([`IpRange`]s, [`OriginPattern`]s, limits with their unit), which
//! the gateway compiles as it is.

use crate::error::Errors;
use crate::{names, Environment, FieldError};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// The three kinds of policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyType {
    /// Requests per unit of time.
    Throttling,
    /// Allow or deny lists of addresses.
    IpAccess,
    /// Cross-origin resource sharing.
    Cors,
}

impl PolicyType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Throttling => "throttling",
            PolicyType::IpAccess => "ip_access",
            PolicyType::Cors => "cors",
        }
    }

    /// The console's label.
    pub fn label(self) -> &'static str {
        match self {
            PolicyType::Throttling => "Throttling",
            PolicyType::IpAccess => "IP access control",
            PolicyType::Cors => "CORS",
        }
    }

    /// Parses a wire name.
    pub fn parse(raw: &str) -> Result<PolicyType, String> {
        match raw.trim() {
            "throttling" => Ok(PolicyType::Throttling),
            "ip_access" => Ok(PolicyType::IpAccess),
            "cors" => Ok(PolicyType::Cors),
            other => Err(format!("`{other}` is not a policy type (throttling, ip_access, cors)")),
        }
    }
}

/// A policy as submitted: the configuration's shape depends on the type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySpec {
    /// Unique name (letters, digits, `_`, `-`).
    pub name: String,
    /// The type.
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// The type's configuration ([`ThrottlingConfig`], [`IpAccessConfig`], [`CorsConfig`]).
    #[serde(default)]
    pub config: serde_json::Value,
}

/// Throttling: at most `limit` requests per `unit`, for the API as a whole, per app, per
/// caller address (anonymous callers), and for named apps their own limit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlingConfig {
    /// `second`, `minute`, `hour` or `day`.
    pub unit: String,
    /// Requests of all callers together.
    pub api_limit: Option<u64>,
    /// Requests of one app.
    pub app_limit: Option<u64>,
    /// Requests from one address, for callers without an app.
    pub ip_limit: Option<u64>,
    /// Apps with their own per-app limit.
    pub special_apps: Vec<SpecialApp>,
}

/// An app with its own limit.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpecialApp {
    /// The app's name.
    pub app: String,
    /// Its limit per unit.
    pub limit: u64,
}

/// IP access control: only the listed ranges (`allow`) or all but them (`deny`); an allow
/// list may apply to one app only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IpAccessConfig {
    /// `allow` or `deny`.
    pub mode: String,
    /// Addresses and CIDR ranges, IPv4 or IPv6.
    pub cidrs: Vec<String>,
    /// With `allow`: the list applies to this app's calls only.
    pub app: Option<String>,
}

/// CORS for browsers calling the API from other origins.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CorsConfig {
    /// `https://app.example.com`, `https://*.example.org`, or `*`.
    pub allow_origins: Vec<String>,
    /// Methods a preflight allows (empty: the API's own method).
    pub allow_methods: Vec<String>,
    /// Request headers a preflight allows.
    pub allow_headers: Vec<String>,
    /// Response headers scripts may read.
    pub expose_headers: Vec<String>,
    /// Whether cookies and credentials may be sent.
    pub allow_credentials: bool,
    /// How long a browser may cache a preflight, in seconds.
    pub max_age_s: Option<u64>,
}

/// The unit a throttling limit counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateUnit {
    /// Per second.
    Second,
    /// Per minute.
    Minute,
    /// Per hour.
    Hour,
    /// Per day.
    Day,
}

impl RateUnit {
    /// Parses `second`, `minute`, `hour` or `day`.
    pub fn parse(raw: &str) -> Result<RateUnit, String> {
        match raw.trim() {
            "second" => Ok(RateUnit::Second),
            "minute" => Ok(RateUnit::Minute),
            "hour" => Ok(RateUnit::Hour),
            "day" => Ok(RateUnit::Day),
            other => Err(format!("`{other}` is not a unit (second, minute, hour, day)")),
        }
    }

    /// The window's length in milliseconds.
    pub fn millis(self) -> u64 {
        match self {
            RateUnit::Second => 1_000,
            RateUnit::Minute => 60_000,
            RateUnit::Hour => 3_600_000,
            RateUnit::Day => 86_400_000,
        }
    }
}

/// The largest limit per unit.
pub const MAX_LIMIT: u64 = 1_000_000_000;

/// One address range: an address and a prefix length (`10.0.0.0/8`, `::1/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    base: IpAddr,
    prefix: u8,
}

impl IpRange {
    /// Parses `a.b.c.d/n`, `x:y::z/n` or a single address (a range of one).
    pub fn parse(raw: &str) -> Result<IpRange, String> {
        let raw = raw.trim();
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let base: IpAddr = address.parse().map_err(|_| format!("`{raw}` is not an IP address or CIDR range"))?;
        let max = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{raw}`: the prefix length must be 0 to {max}"))?,
        };
        Ok(IpRange { base, prefix })
    }

    /// Whether `ip` is in the range (an IPv4-mapped IPv6 address counts as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.base, ip) {
            (IpAddr::V4(base), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(base) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(base), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(base) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for IpRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// An allowed origin: exact (`https://app.example.com:8443`), a subdomain pattern
/// (`https://*.example.org`: any subdomain, not the domain itself), or any origin (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginPattern {
    /// Every origin.
    Any,
    /// This origin, lower-case.
    Exact(String),
    /// `scheme://` and `.domain[:port]`: an origin with this scheme ending in this suffix.
    Subdomains {
        /// `https://`.
        scheme: String,
        /// `.example.org` (and `:port` if given).
        suffix: String,
    },
}

impl OriginPattern {
    /// Parses an origin or pattern, naming the rule it breaks.
    pub fn parse(raw: &str) -> Result<OriginPattern, String> {
        let raw = raw.trim();
        if raw == "*" {
            return Ok(OriginPattern::Any);
        }
        let lower = raw.to_ascii_lowercase();
        let (scheme, rest) = match lower.split_once("://") {
            Some((scheme @ ("http" | "https"), rest)) => (scheme, rest),
            _ => return Err(format!("`{raw}` must be `*` or start with http:// or https://")),
        };
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return Err(format!("`{raw}` must be an origin: scheme, host and port only, no path"));
        }
        let host_ok = |h: &str| {
            !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']'))
        };
        match rest.strip_prefix("*.") {
            Some(domain) if host_ok(domain) && !domain.contains('*') => {
                Ok(OriginPattern::Subdomains { scheme: format!("{scheme}://"), suffix: format!(".{domain}") })
            }
            Some(_) => Err(format!("`{raw}`: a pattern is `scheme://*.domain`")),
            None if host_ok(rest) => Ok(OriginPattern::Exact(format!("{scheme}://{rest}"))),
            None => Err(format!("`{raw}` is not a valid origin")),
        }
    }

    /// Whether `origin` (as a browser sends it) matches.
    pub fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(exact) => origin.eq_ignore_ascii_case(exact),
            OriginPattern::Subdomains { scheme, suffix } => {
                let origin = origin.to_ascii_lowercase();
                origin.strip_prefix(scheme.as_str()).is_some_and(|host| {
                    host.len() > suffix.len()
                        && host.ends_with(suffix.as_str())
                        && !host[..host.len() - suffix.len()].contains(['/', '@'])
                })
            }
        }
    }
}

/// A validated throttling configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttling {
    /// The window.
    pub unit: RateUnit,
    /// All callers together.
    pub api_limit: Option<u64>,
    /// One app.
    pub app_limit: Option<u64>,
    /// One address (callers without an app).
    pub ip_limit: Option<u64>,
    /// Apps with their own limit, by name.
    pub special_apps: Vec<(String, u64)>,
}

/// A validated IP access configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAccess {
    /// `true`: only these ranges; `false`: all but these.
    pub allow: bool,
    /// The ranges.
    pub ranges: Vec<IpRange>,
    /// An allow list for this app's calls only.
    pub app: Option<String>,
}

/// A validated CORS configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Allowed origins.
    pub origins: Vec<OriginPattern>,
    /// Methods a preflight allows (upper-case; empty: the API's own).
    pub methods: Vec<String>,
    /// Request headers a preflight allows (lower-case).
    pub headers: Vec<String>,
    /// Exposed response headers (lower-case).
    pub expose: Vec<String>,
    /// Credentials allowed.
    pub credentials: bool,
    /// Preflight cache time.
    pub max_age_s: Option<u64>,
}

/// A policy's parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyRule {
    /// Throttling.
    Throttling(Throttling),
    /// IP access control.
    IpAccess(IpAccess),
    /// CORS.
    Cors(Cors),
}

/// A policy that follows every rule: its normalised spec and parsed rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidPolicy {
    /// The normalised spec (what is stored).
    pub spec: PolicySpec,
    /// The parsed configuration.
    pub rule: PolicyRule,
}

fn limit(errors: &mut Errors, field: &str, value: Option<u64>) -> Option<u64> {
    match value {
        Some(0) => {
            errors.add(field, "must be at least 1");
            None
        }
        Some(n) if n > MAX_LIMIT => {
            errors.add(field, format!("must be at most {MAX_LIMIT}"));
            None
        }
        other => other,
    }
}

impl PolicySpec {
    /// Checks every rule; the normalised spec with its parsed rule, or every broken rule.
    pub fn validate(&self) -> Result<ValidPolicy, Vec<FieldError>> {
        let mut errors = Errors::default();
        let mut spec = self.clone();
        if let Some(name) = errors.check("name", names::group_name(&self.name)) {
            spec.name = name;
        }
        if let Some(text) = errors.check("description", names::text(&self.description, 500)) {
            spec.description = text;
        }
        let config = if self.config.is_null() { serde_json::json!({}) } else { self.config.clone() };
        let rule = match self.kind {
            PolicyType::Throttling => match serde_json::from_value::<ThrottlingConfig>(config) {
                Ok(c) => validate_throttling(c, &mut errors, &mut spec),
                Err(e) => {
                    errors.add("config", e.to_string());
                    None
                }
            },
            PolicyType::IpAccess => match serde_json::from_value::<IpAccessConfig>(config) {
                Ok(c) => validate_ip_access(c, &mut errors, &mut spec),
                Err(e) => {
                    errors.add("config", e.to_string());
                    None
                }
            },
            PolicyType::Cors => match serde_json::from_value::<CorsConfig>(config) {
                Ok(c) => validate_cors(c, &mut errors, &mut spec),
                Err(e) => {
                    errors.add("config", e.to_string());
                    None
                }
            },
        };
        match (errors.into_vec(), rule) {
            (errors, Some(rule)) if errors.is_empty() => Ok(ValidPolicy { spec, rule }),
            (errors, _) => Err(errors),
        }
    }
}

fn validate_throttling(mut c: ThrottlingConfig, errors: &mut Errors, spec: &mut PolicySpec) -> Option<PolicyRule> {
    let unit = errors.check("config.unit", RateUnit::parse(&c.unit));
    let api_limit = limit(errors, "config.api_limit", c.api_limit);
    let app_limit = limit(errors, "config.app_limit", c.app_limit);
    let ip_limit = limit(errors, "config.ip_limit", c.ip_limit);
    let mut special = Vec::new();
    for (i, s) in c.special_apps.iter_mut().enumerate() {
        let name = errors.check(format!("config.special_apps[{i}].app"), names::group_name(&s.app));
        let value = limit(errors, &format!("config.special_apps[{i}].limit"), Some(s.limit));
        if let (Some(name), Some(value)) = (name, value) {
            if special.iter().any(|(n, _)| *n == name) {
                errors.add(format!("config.special_apps[{i}].app"), format!("app `{name}` is listed twice"));
            }
            s.app = name.clone();
            special.push((name, value));
        }
    }
    if c.api_limit.is_none() && c.app_limit.is_none() && c.ip_limit.is_none() && c.special_apps.is_empty() {
        errors.add("config.api_limit", "set at least one limit (api_limit, app_limit, ip_limit or special_apps)");
    }
    c.unit = c.unit.trim().to_owned();
    spec.config = serde_json::to_value(&c).unwrap_or_default();
    Some(PolicyRule::Throttling(Throttling { unit: unit?, api_limit, app_limit, ip_limit, special_apps: special }))
}

fn validate_ip_access(mut c: IpAccessConfig, errors: &mut Errors, spec: &mut PolicySpec) -> Option<PolicyRule> {
    let allow = match c.mode.trim() {
        "allow" => Some(true),
        "deny" => Some(false),
        other => {
            errors.add("config.mode", format!("`{other}` is not a mode (allow, deny)"));
            None
        }
    };
    let mut ranges = Vec::new();
    for (i, raw) in c.cidrs.iter_mut().enumerate() {
        if let Some(range) = errors.check(format!("config.cidrs[{i}]"), IpRange::parse(raw)) {
            *raw = raw.trim().to_owned();
            ranges.push(range);
        }
    }
    if c.cidrs.is_empty() {
        errors.add("config.cidrs", "list at least one address or CIDR range");
    }
    if c.cidrs.len() > 1000 {
        errors.add("config.cidrs", "at most 1,000 entries");
    }
    let app = match c.app.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        Some(app) => {
            if allow == Some(false) {
                errors.add("config.app", "only an allow list can be scoped to an app");
            }
            errors.check("config.app", names::group_name(app))
        }
        None => None,
    };
    c.mode = c.mode.trim().to_owned();
    c.app = app.clone();
    spec.config = serde_json::to_value(&c).unwrap_or_default();
    Some(PolicyRule::IpAccess(IpAccess { allow: allow?, ranges, app }))
}

fn validate_cors(mut c: CorsConfig, errors: &mut Errors, spec: &mut PolicySpec) -> Option<PolicyRule> {
    let mut origins = Vec::new();
    for (i, raw) in c.allow_origins.iter_mut().enumerate() {
        if let Some(origin) = errors.check(format!("config.allow_origins[{i}]"), OriginPattern::parse(raw)) {
            *raw = raw.trim().to_owned();
            origins.push(origin);
        }
    }
    if c.allow_origins.is_empty() {
        errors.add("config.allow_origins", "list at least one origin (or `*`)");
    }
    if c.allow_credentials && origins.contains(&OriginPattern::Any) {
        errors.add("config.allow_origins", "`*` cannot be used with allow_credentials (the Fetch standard forbids it)");
    }
    let mut methods = Vec::new();
    for (i, raw) in c.allow_methods.iter_mut().enumerate() {
        match crate::HttpMethod::parse(raw) {
            Ok(crate::HttpMethod::Any) | Err(_) => {
                errors.add(format!("config.allow_methods[{i}]"), format!("`{raw}` is not an HTTP method"))
            }
            Ok(method) => {
                *raw = method.as_str().to_owned();
                methods.push(raw.clone());
            }
        }
    }
    let mut names_of = |list: &mut Vec<String>, field: &str| {
        let mut out = Vec::new();
        for (i, raw) in list.iter_mut().enumerate() {
            if let Some(name) = errors.check(format!("config.{field}[{i}]"), names::header_name(raw)) {
                *raw = name.clone();
                out.push(name);
            }
        }
        out
    };
    let headers = names_of(&mut c.allow_headers, "allow_headers");
    let expose = names_of(&mut c.expose_headers, "expose_headers");
    if c.max_age_s.is_some_and(|s| s > 86_400) {
        errors.add("config.max_age_s", "must be at most 86400 (a day)");
    }
    spec.config = serde_json::to_value(&c).unwrap_or_default();
    Some(PolicyRule::Cors(Cors {
        origins,
        methods,
        headers,
        expose,
        credentials: c.allow_credentials,
        max_age_s: c.max_age_s,
    }))
}

/// A binding as submitted: a policy applies to one API (`api`) or the whole group (no
/// `api`) in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingSpec {
    /// The group's name.
    pub group: String,
    /// The API's id; absent: every API of the group.
    #[serde(default)]
    pub api: Option<i32>,
    /// `test`, `pre` or `prod`.
    pub env: String,
}

/// A policy as the console and REST show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    /// Unique name.
    pub name: String,
    /// The type.
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// Free text.
    pub description: String,
    /// The configuration.
    pub config: serde_json::Value,
    /// Where it is bound.
    pub bindings: Vec<BindingView>,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

/// A binding as the console and REST show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BindingView {
    /// Its id (to unbind).
    pub id: i32,
    /// The policy's name.
    pub policy: String,
    /// The policy's type.
    #[serde(rename = "type")]
    pub kind: PolicyType,
    /// The group.
    pub group: String,
    /// The API's id, or none for the whole group.
    pub api: Option<i32>,
    /// The API's name, when bound to one.
    pub api_name: Option<String>,
    /// Where.
    pub env: Environment,
}

/// A binding that reaches one API, as the API's Policies tab lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiBinding {
    /// The binding (on the API itself, or on its whole group).
    pub binding: BindingView,
    /// Whether it is the one the gateway follows: an API's own binding wins over its
    /// group's of the same type in the same environment.
    pub in_force: bool,
}

/// The bindings of a group that reach API `api`: its own and the group-wide ones, ordered by
/// environment (Test, Pre-release, Production) and type, the API's own first.
pub fn reaching_api(group_bindings: &[BindingView], api: i32) -> Vec<ApiBinding> {
    let own = |b: &BindingView| b.api == Some(api);
    let mut found: Vec<ApiBinding> = group_bindings
        .iter()
        .filter(|b| own(b) || b.api.is_none())
        .map(|b| ApiBinding {
            binding: b.clone(),
            in_force: own(b) || !group_bindings.iter().any(|o| own(o) && o.kind == b.kind && o.env == b.env),
        })
        .collect();
    found.sort_by_key(|a| (a.binding.env, a.binding.kind, a.binding.api.is_none(), a.binding.id));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn binding(id: i32, kind: PolicyType, api: Option<i32>, env: Environment) -> BindingView {
        let policy = format!("p{id}");
        BindingView { id, policy, kind, group: "g".into(), api, api_name: None, env }
    }

    #[test]
    fn an_api_sees_its_own_bindings_and_its_groups_and_its_own_win() {
        use Environment::{Prod, Test};
        use PolicyType::{Cors, Throttling};
        let all = vec![
            binding(1, Throttling, None, Test),    // the group's, overridden in Test by 2
            binding(2, Throttling, Some(7), Test), // the API's own
            binding(3, Cors, None, Test),          // the group's, in force
            binding(4, Throttling, Some(8), Test), // another API's: not listed
            binding(5, Throttling, None, Prod),    // the group's in Production, in force
        ];
        let seen: Vec<(i32, bool)> = reaching_api(&all, 7).iter().map(|a| (a.binding.id, a.in_force)).collect();
        assert_eq!(seen, vec![(2, true), (1, false), (3, true), (5, true)]);
        let other: Vec<(i32, bool)> = reaching_api(&all, 9).iter().map(|a| (a.binding.id, a.in_force)).collect();
        assert_eq!(other, vec![(1, true), (3, true), (5, true)]);
    }

    fn spec(kind: &str, config: serde_json::Value) -> PolicySpec {
        serde_json::from_value(json!({"name": "p", "type": kind, "config": config})).expect("spec")
    }

    fn fields(spec: &PolicySpec) -> Vec<String> {
        spec.validate().expect_err("invalid").into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn the_issue_shapes_validate() {
        let five = spec(
            "throttling",
            json!({"unit": "second", "api_limit": 5, "app_limit": null, "special_apps": [{"app": "web", "limit": 50}]}),
        );
        let PolicyRule::Throttling(t) = five.validate().expect("valid").rule else { panic!("throttling") };
        assert_eq!((t.unit, t.api_limit, t.special_apps), (RateUnit::Second, Some(5), vec![("web".into(), 50)]));
        let office = spec("ip_access", json!({"mode": "allow", "cidrs": ["10.0.0.0/8", "::1/128"]}));
        let PolicyRule::IpAccess(ip) = office.validate().expect("valid").rule else { panic!("ip") };
        assert!(ip.allow && ip.ranges[1].contains("::1".parse().expect("ip")));
        let web = spec(
            "cors",
            json!({"allow_origins": ["https://app.example.com", "https://*.example.org"], "allow_methods": ["get"], "allow_headers": [], "expose_headers": [], "allow_credentials": false, "max_age_s": 600}),
        );
        let valid = web.validate().expect("valid");
        assert_eq!(valid.spec.config["allow_methods"], json!(["GET"]), "stored normalised");
    }

    #[test]
    fn bad_configurations_name_their_fields() {
        assert_eq!(
            fields(&spec("throttling", json!({"unit": "week", "api_limit": 0}))),
            ["config.unit", "config.api_limit"]
        );
        assert_eq!(fields(&spec("throttling", json!({"unit": "second"}))), ["config.api_limit"]);
        assert_eq!(fields(&spec("throttling", json!({"unit": "second", "api_limit": "five"}))), ["config"]);
        assert_eq!(
            fields(&spec("throttling", json!({"unit": "second", "apilimit": 5}))),
            ["config"],
            "unknown fields are refused"
        );
        assert_eq!(
            fields(&spec("ip_access", json!({"mode": "maybe", "cidrs": ["10.0.0.0/33", "x"]}))),
            ["config.mode", "config.cidrs[0]", "config.cidrs[1]"]
        );
        assert_eq!(
            fields(&spec("ip_access", json!({"mode": "deny", "cidrs": ["1.2.3.4"], "app": "web"}))),
            ["config.app"]
        );
        assert_eq!(
            fields(&spec("cors", json!({"allow_origins": ["*"], "allow_credentials": true}))),
            ["config.allow_origins"]
        );
        assert_eq!(
            fields(&spec(
                "cors",
                json!({"allow_origins": ["https://a.com/path", "ftp://b"], "allow_methods": ["ANY"]})
            )),
            ["config.allow_origins[0]", "config.allow_origins[1]", "config.allow_methods[0]"]
        );
        let mut unnamed = spec("cors", json!({"allow_origins": ["*"]}));
        unnamed.name = " ".into();
        assert_eq!(fields(&unnamed), ["name"]);
    }

    #[test]
    fn origins_match_exactly_or_by_subdomain() {
        let exact = OriginPattern::parse("https://App.Example.com").expect("origin");
        assert!(exact.matches("https://app.example.com"));
        assert!(!exact.matches("http://app.example.com") && !exact.matches("https://app.example.com.evil.net"));
        let sub = OriginPattern::parse("https://*.example.org").expect("pattern");
        assert!(sub.matches("https://a.example.org") && sub.matches("https://a.b.example.org"));
        assert!(!sub.matches("https://example.org"), "the domain itself is not a subdomain");
        assert!(!sub.matches("https://evilexample.org") && !sub.matches("http://a.example.org"));
        assert!(OriginPattern::parse("https://*").is_err() && OriginPattern::parse("null").is_err());
    }

    #[test]
    fn ranges_hold_their_addresses() {
        let v4 = IpRange::parse("10.1.0.0/16").expect("range");
        assert!(v4.contains("10.1.200.3".parse().expect("ip")) && !v4.contains("10.2.0.1".parse().expect("ip")));
        assert!(v4.contains("::ffff:10.1.0.9".parse().expect("ip")), "IPv4-mapped IPv6 counts as IPv4");
        let v6 = IpRange::parse("2001:db8::/32").expect("range");
        assert!(v6.contains("2001:db8::1".parse().expect("ip")) && !v6.contains("2001:db9::1".parse().expect("ip")));
        assert!(IpRange::parse("0.0.0.0/0").expect("all").contains("8.8.8.8".parse().expect("ip")));
    }
}
