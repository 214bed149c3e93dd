//! Declared frontend parameters: where they travel, their types and constraints, and the
//! rules a declaration follows.

use crate::error::Errors;
use crate::names;
use crate::{HttpMethod, PathTemplate};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// Where a parameter travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// A `{name}` segment of the path.
    Path,
    /// The query string.
    #[default]
    Query,
    /// A request header.
    Header,
    /// A field of a form body (`application/x-www-form-urlencoded`).
    Form,
    /// A top-level field of a JSON body.
    Body,
}

impl ParamLocation {
    /// Every location.
    pub const ALL: [ParamLocation; 5] =
        [ParamLocation::Path, ParamLocation::Query, ParamLocation::Header, ParamLocation::Form, ParamLocation::Body];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            ParamLocation::Form => "form",
            ParamLocation::Body => "body",
        }
    }

    /// Parses the JSON name.
    pub fn parse(raw: &str) -> Option<ParamLocation> {
        ParamLocation::ALL.into_iter().find(|l| l.as_str() == raw)
    }

    pub(crate) fn check_name(self, raw: &str) -> Result<String, String> {
        match self {
            ParamLocation::Header => names::header_name(raw),
            _ => names::param_name(raw),
        }
    }
}

/// A parameter's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Any text.
    #[default]
    String,
    /// A whole number (64-bit).
    Int,
    /// A decimal number.
    Number,
    /// `true` or `false`.
    Boolean,
}

impl ParamType {
    /// Every type.
    pub const ALL: [ParamType; 4] = [ParamType::String, ParamType::Int, ParamType::Number, ParamType::Boolean];

    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Number => "number",
            ParamType::Boolean => "boolean",
        }
    }

    /// Parses the JSON name.
    pub fn parse(raw: &str) -> Option<ParamType> {
        ParamType::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    /// Checks that `value` is of this type; numbers come back as `f64` for range checks.
    pub fn check_value(self, value: &str) -> Result<Option<f64>, String> {
        match self {
            ParamType::String => Ok(None),
            ParamType::Int => value
                .trim()
                .parse::<i64>()
                .map(|v| Some(v as f64))
                .map_err(|_| format!("`{value}` is not a whole number")),
            ParamType::Number => value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(Some)
                .ok_or_else(|| format!("`{value}` is not a number")),
            ParamType::Boolean => match value.trim() {
                "true" | "false" => Ok(None),
                _ => Err(format!("`{value}` is not true or false")),
            },
        }
    }
}

/// Simple constraints on a parameter's value.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Constraints {
    /// Smallest allowed value (int and number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed value (int and number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Longest allowed text, in characters (string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// The only allowed values, when not empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
}

impl Constraints {
    /// Checks a value (already known to be of type `kind`) against the constraints.
    pub fn check_value(&self, kind: ParamType, value: &str) -> Result<(), String> {
        if !self.enum_values.is_empty() && !self.enum_values.iter().any(|v| v == value) {
            return Err(format!("`{value}` is not one of {}", self.enum_values.join(", ")));
        }
        if let Some(number) = kind.check_value(value)? {
            if self.min.is_some_and(|min| number < min) {
                return Err(format!("{value} is less than the minimum {}", self.min.unwrap_or_default()));
            }
            if self.max.is_some_and(|max| number > max) {
                return Err(format!("{value} is more than the maximum {}", self.max.unwrap_or_default()));
            }
        }
        if self.max_length.is_some_and(|max| value.chars().count() > max as usize) {
            return Err(format!("is longer than {} characters", self.max_length.unwrap_or_default()));
        }
        Ok(())
    }
}

/// A declared frontend parameter.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ParamSpec {
    /// Its name where it travels (header names are case-insensitive).
    pub name: String,
    /// Where it travels.
    #[serde(rename = "in")]
    pub location: ParamLocation,
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Whether a request without it is refused (path parameters always are).
    pub required: bool,
    /// Used when the caller leaves it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// For the docs and the debug form.
    pub description: String,
    /// Allowed values.
    pub constraints: Constraints,
}

pub(super) fn validate_params(
    params: &mut [ParamSpec],
    template: Option<&PathTemplate>,
    method: Option<HttpMethod>,
    errors: &mut Errors,
) {
    let mut seen = HashSet::new();
    let mut has_form = None;
    let mut has_body = None;
    for (i, param) in params.iter_mut().enumerate() {
        let at = |field: &str| format!("request.params[{i}].{field}");
        let Some(name) = errors.check(at("name"), param.location.check_name(&param.name)) else { continue };
        param.name = name.clone();
        if !seen.insert((param.location, name.clone())) {
            errors.add(at("name"), format!("`{name}` is declared twice in {}", param.location.as_str()));
        }
        match param.location {
            ParamLocation::Path => {
                if template.is_some_and(|t| !t.params().any(|p| p == name)) {
                    errors.add(at("name"), format!("`{name}` is not a `{{{name}}}` segment of the path"));
                }
                param.required = true;
            }
            ParamLocation::Form => has_form = has_form.or(Some(i)),
            ParamLocation::Body => has_body = has_body.or(Some(i)),
            ParamLocation::Query | ParamLocation::Header => {}
        }
        if matches!(param.location, ParamLocation::Form | ParamLocation::Body)
            && matches!(method, Some(HttpMethod::Get | HttpMethod::Head))
        {
            errors.add(at("in"), "GET and HEAD requests have no body: use query or header");
        }
        let c = &param.constraints;
        if (c.min.is_some() || c.max.is_some()) && !matches!(param.kind, ParamType::Int | ParamType::Number) {
            errors.add(at("constraints"), "min and max apply to int and number parameters");
        }
        if let (Some(min), Some(max)) = (c.min, c.max) {
            if min > max {
                errors.add(at("constraints.min"), "must not be greater than max");
            }
        }
        if c.max_length.is_some() && param.kind != ParamType::String {
            errors.add(at("constraints.max_length"), "applies to string parameters");
        }
        for value in &c.enum_values {
            if let Err(message) = param.kind.check_value(value) {
                errors.add(at("constraints.enum_values"), message);
            }
        }
        if let Some(default) = param.default.as_deref().filter(|d| !d.is_empty()) {
            let checked =
                param.kind.check_value(default).and_then(|_| param.constraints.check_value(param.kind, default));
            if let Err(message) = checked {
                errors.add(at("default"), message);
            }
        } else {
            param.default = None;
        }
        if let Err(message) = names::text(&param.description, 500) {
            errors.add(at("description"), message);
        }
    }
    if let (Some(_), Some(body)) = (has_form, has_body) {
        errors.add(format!("request.params[{body}].in"), "an API takes form or JSON body parameters, not both");
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{fields, pet_api};
    use super::*;

    #[test]
    fn path_params_must_be_in_the_template_and_unique() {
        let mut spec = pet_api();
        spec.request.params.push(ParamSpec {
            name: "other".into(),
            location: ParamLocation::Path,
            ..Default::default()
        });
        spec.request.params.push(ParamSpec {
            name: "verbose".into(),
            location: ParamLocation::Query,
            ..Default::default()
        });
        assert_eq!(fields(&spec), ["request.params[2].name", "request.params[3].name"]);
    }

    #[test]
    fn defaults_must_fit_type_and_constraints() {
        let mut spec = pet_api();
        spec.request.params[1].default = Some("maybe".into());
        assert_eq!(fields(&spec), ["request.params[1].default"]);
        let mut spec = pet_api();
        spec.request.params.push(ParamSpec {
            name: "limit".into(),
            kind: ParamType::Int,
            default: Some("500".into()),
            constraints: Constraints { min: Some(1.0), max: Some(100.0), ..Default::default() },
            ..Default::default()
        });
        assert_eq!(fields(&spec), ["request.params[2].default"]);
    }

    #[test]
    fn constraints_must_suit_the_type() {
        let mut spec = pet_api();
        spec.request.params[1].constraints.min = Some(1.0);
        spec.request.params[1].constraints.max_length = Some(10);
        assert_eq!(fields(&spec), ["request.params[1].constraints", "request.params[1].constraints.max_length"]);
        let mut spec = pet_api();
        spec.request.params[0].constraints = Constraints { min: Some(5.0), max: Some(1.0), ..Default::default() };
        assert_eq!(fields(&spec), ["request.params[0].constraints.min"]);
    }

    #[test]
    fn get_has_no_body_and_form_and_body_do_not_mix() {
        let mut spec = pet_api();
        spec.request.params.push(ParamSpec { name: "x".into(), location: ParamLocation::Form, ..Default::default() });
        assert_eq!(fields(&spec), ["request.params[2].in"]);
        spec.request.method = "POST".into();
        spec.request.params.push(ParamSpec { name: "y".into(), location: ParamLocation::Body, ..Default::default() });
        assert_eq!(fields(&spec), ["request.params[3].in"]);
    }
}
