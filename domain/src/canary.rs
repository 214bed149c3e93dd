//! Canary releases: a second version live beside an environment's version, taking a share of
//! its traffic or only the callers a rule matches, until it is promoted (it becomes the
//! environment's version) or rolled back (removed).

use crate::error::{Errors, FieldError};
use crate::policy::IpRange;
use crate::release::DeployBackend;
pub use crate::release::{CanaryMatch, CanaryView};
use serde::{Deserialize, Serialize};

/// The smallest share a canary takes without a rule, in percent.
pub const MIN_WEIGHT: f64 = 0.1;
/// The largest share a canary takes without a rule (100 % is a release), in percent.
pub const MAX_WEIGHT: f64 = 99.0;
/// Shares are counted in parts of this.
pub const PARTS: u32 = 100_000;

/// A share in percent as parts of [`PARTS`] (at least one part).
pub fn parts(weight: f64) -> u32 {
    ((weight * f64::from(PARTS) / 100.0).round() as u32).clamp(1, PARTS)
}

/// `PUT /groups/{group}/deployments/{env}/canary`: start a canary or change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanarySpec {
    /// The canary's version label.
    pub version: String,
    /// Where its unified APIs go (as for a release).
    pub backend: DeployBackend,
    /// The share of the callers it may take, in percent (0.1–99; with a rule, 0.1–100 and
    /// 100 by default: every matching caller).
    #[serde(default)]
    pub weight: Option<f64>,
    /// Only callers matching this (absent: every caller is a candidate).
    #[serde(default, rename = "match")]
    pub rule: Option<CanaryMatch>,
    /// The same caller (AppKey, else client address) always lands on the same side.
    #[serde(default)]
    pub sticky: bool,
    /// Why.
    #[serde(default)]
    pub note: String,
}

/// A checked canary: the weight in parts of [`PARTS`], the rule parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidCanary {
    /// The percentage as given.
    pub weight: f64,
    /// The share in parts of [`PARTS`].
    pub parts: u32,
    /// The rule, checked.
    pub rule: Option<CanaryMatch>,
    /// Sticky routing.
    pub sticky: bool,
}

impl CanarySpec {
    /// Checks the weight and the rule (the version, backend and app are the control plane's
    /// to check); every broken field named.
    pub fn validate(&self) -> Result<ValidCanary, Vec<FieldError>> {
        let mut errors = Errors::default();
        let (low, high) = if self.rule.is_some() { (MIN_WEIGHT, 100.0) } else { (MIN_WEIGHT, MAX_WEIGHT) };
        let weight = match (self.weight, &self.rule) {
            (None, Some(_)) => Some(100.0),
            (None, None) => {
                errors.check("weight", Err::<f64, _>("a weight in percent is required without a match rule".to_owned()))
            }
            (Some(w), _) if !w.is_finite() || w < low || w > high => {
                errors.check("weight", Err::<f64, _>(format!("must be between {low} and {high} (percent)")))
            }
            (Some(w), _) => Some(w),
        };
        let rule = match &self.rule {
            None => Some(None),
            Some(CanaryMatch::App(app)) => {
                errors.check("match.app", crate::names::group_name(app).map(|a| Some(CanaryMatch::App(a))))
            }
            Some(CanaryMatch::Header { name, value }) => {
                let name = name.trim();
                let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
                let name_ok = if !name.is_empty() && name.len() <= 64 && name.bytes().all(token) {
                    Ok(name.to_ascii_lowercase())
                } else {
                    Err("must be an HTTP header name (letters, digits, `-`, up to 64)".to_owned())
                };
                let value_ok = if value.is_empty() || value.len() > 256 {
                    Err("must be 1 to 256 characters".to_owned())
                } else if !value.bytes().all(|b| (0x20..0x7f).contains(&b)) || value.trim() != value {
                    Err("must be visible ASCII without leading or trailing spaces".to_owned())
                } else {
                    Ok(value.clone())
                };
                let name = errors.check("match.header.name", name_ok);
                let value = errors.check("match.header.value", value_ok);
                name.zip(value).map(|(name, value)| Some(CanaryMatch::Header { name, value }))
            }
            Some(CanaryMatch::Ip(range)) => {
                errors.check("match.ip", IpRange::parse(range).map(|_| Some(CanaryMatch::Ip(range.trim().to_owned()))))
            }
        };
        match (weight, rule) {
            (Some(weight), Some(rule)) => {
                errors.finish(ValidCanary { weight, parts: parts(weight), rule, sticky: self.sticky })
            }
            _ => Err(errors.into_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(value: serde_json::Value) -> CanarySpec {
        serde_json::from_value(value).expect("spec")
    }

    #[test]
    fn weights_and_rules_are_checked_and_named() {
        let base = json!({"version": "1.1.0", "backend": {"type": "mock"}});
        let mut ten = base.clone();
        ten["weight"] = json!(10.0);
        assert_eq!(spec(ten).validate().expect("valid").parts, 10_000);
        let mut tiny = base.clone();
        tiny["weight"] = json!(0.1);
        assert_eq!(spec(tiny).validate().expect("valid").parts, 100);
        for bad in [json!(0.0), json!(99.5), json!(-1), json!(100)] {
            let mut wrong = base.clone();
            wrong["weight"] = bad.clone();
            let errors = spec(wrong).validate().expect_err("refused");
            assert_eq!(errors[0].field, "weight", "{bad}");
        }
        assert_eq!(spec(base.clone()).validate().expect_err("no weight")[0].field, "weight");
        let mut app = base.clone();
        app["match"] = json!({"app": "web"});
        let valid = spec(app).validate().expect("valid");
        assert_eq!((valid.weight, valid.parts), (100.0, PARTS));
        let mut header = base.clone();
        header["match"] = json!({"header": {"name": "bad name", "value": ""}});
        let fields: Vec<_> = spec(header).validate().expect_err("refused").into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["match.header.name", "match.header.value"]);
        let mut ip = base.clone();
        ip["match"] = json!({"ip": "10.0.0.0/33"});
        assert_eq!(spec(ip).validate().expect_err("refused")[0].field, "match.ip");
        let mut unknown = base;
        unknown["match"] = json!({"cookie": "x"});
        assert!(serde_json::from_value::<CanarySpec>(unknown).is_err());
    }
}
