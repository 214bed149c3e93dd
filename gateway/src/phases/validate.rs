//! Phase 5: the declared parameters (path, query, header, and form or JSON body fields when
//! the API declares them): given at most once, required, typed, within their constraints,
//! defaults filled in.

use crate::compiled::{CompiledApi, Param};
use crate::fields::Fields;
use crate::name::Name;
use crate::GatewayError;
use domain::api::ParamLocation;
use http::HeaderMap;

/// The declared parameters' values after validation (defaults filled in), by location.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Values {
    /// `(location, name, value)` of every declared parameter that has a value: inline for
    /// the usual few, short values too (no allocation per request).
    pub declared: smallvec::SmallVec<[(ParamLocation, Name, Name); 3]>,
}

impl Values {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.declared.iter().find(|(_, n, _)| n == name).map(|(_, _, v)| v.as_str())
    }
}

/// Parses a query string into decoded pairs.
pub fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    query.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

fn check(param: &Param, value: &str) -> Result<(), GatewayError> {
    param.check_value(value).map_err(|message| {
        GatewayError::InvalidParameter(format!("{} parameter `{}`: {message}", param.location.as_str(), param.name))
    })
}

/// Phase 5: checks the declared parameters: path, query, header, and (when the API declares
/// them, so its body was read) form and JSON body fields.
pub fn validate(
    api: &CompiledApi,
    path_params: crate::snapshot::PathValues,
    query: &[(String, String)],
    headers: &HeaderMap,
    fields: Option<&Fields>,
) -> Result<Values, GatewayError> {
    let mut values = Values::default();
    validate_into(&mut values, api, path_params, query, headers, fields)?;
    Ok(values)
}

/// [`validate`], filling `values` where the caller keeps them (the values are a few hundred
/// bytes inline: returned, they would be copied once more per request).
pub fn validate_into(
    values: &mut Values,
    api: &CompiledApi,
    path_params: crate::snapshot::PathValues,
    query: &[(String, String)],
    headers: &HeaderMap,
    fields: Option<&Fields>,
) -> Result<(), GatewayError> {
    for (name, value) in path_params {
        if let Some(param) = api.params.iter().find(|p| p.location == ParamLocation::Path && p.name == name) {
            check(param, &value)?;
        }
        values.declared.push((ParamLocation::Path, name, value));
    }
    let body_declared = api.params.iter().any(|p| matches!(p.location, ParamLocation::Form | ParamLocation::Body));
    if body_declared && fields.is_some_and(Fields::unreadable) {
        return Err(GatewayError::UnsupportedMediaType(
            "this API reads body parameters: send application/x-www-form-urlencoded or application/json".into(),
        ));
    }
    for param in api.params.iter().filter(|p| p.location != ParamLocation::Path) {
        // A parameter given twice would be checked once and forwarded twice (a backend may
        // read the other copy): refused.
        let given = match param.location {
            ParamLocation::Query => query.iter().filter(|(k, _)| k == &param.name).count(),
            ParamLocation::Header => headers.get_all(param.name.as_str()).iter().count(),
            location => fields.map_or(0, |f| f.count(location, &param.name)),
        };
        if given > 1 {
            return Err(GatewayError::InvalidParameter(format!(
                "{} parameter `{}` is given {given} times; send it once",
                param.location.as_str(),
                param.name
            )));
        }
        let found = match param.location {
            ParamLocation::Query => query.iter().find(|(k, _)| k == &param.name).map(|(_, v)| v.clone()),
            ParamLocation::Header => headers.get(param.name.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned),
            location => fields.and_then(|f| f.get(location, &param.name)),
        };
        match found.or_else(|| param.default().map(str::to_owned)) {
            Some(value) => {
                check(param, &value)?;
                values.declared.push((param.location, param.name.clone(), Name::from(value)));
            }
            None if param.required => {
                return Err(GatewayError::InvalidParameter(format!(
                    "{} parameter `{}` is required",
                    param.location.as_str(),
                    param.name
                )))
            }
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compiled::Target;
    use crate::snapshot::PathValues;
    use http::HeaderValue;

    fn compiled(spec: serde_json::Value) -> CompiledApi {
        let spec: domain::api::ApiSpec = serde_json::from_value(spec).expect("spec");
        CompiledApi::compile(1, &spec.validate().expect("valid"), Target::Mock).expect("compile")
    }

    #[test]
    fn validation_checks_required_type_constraints_and_fills_defaults() {
        let api =
            compiled(serde_json::json!({"name": "list", "request": {"method": "GET", "path": "/pets/{id}", "params": [
                {"name": "id", "in": "path", "type": "int"},
                {"name": "limit", "in": "query", "type": "int", "default": "10", "constraints": {"min": 1, "max": 100}},
                {"name": "x-tenant", "in": "header", "required": true}
            ]}}));
        let mut headers = HeaderMap::new();
        headers.insert("x-tenant", HeaderValue::from_static("acme"));
        let path: PathValues = smallvec::smallvec![("id".into(), "7".into())];
        let values = validate(&api, path.clone(), &[], &headers, None).expect("valid");
        assert!(values.declared.contains(&(ParamLocation::Query, "limit".into(), "10".into())));
        let bad_limit =
            validate(&api, path.clone(), &[("limit".into(), "500".into())], &headers, None).expect_err("max");
        assert!(bad_limit.message().contains("limit"), "{}", bad_limit.message());
        let bad_id =
            validate(&api, smallvec::smallvec![("id".into(), "seven".into())], &[], &headers, None).expect_err("int");
        assert!(bad_id.message().contains("`id`"));
        let missing = validate(&api, path, &[], &HeaderMap::new(), None).expect_err("required");
        assert!(
            missing.message().contains("x-tenant is required") || missing.message().contains("`x-tenant` is required")
        );
    }

    #[test]
    fn a_parameter_given_twice_is_refused() {
        let api = compiled(serde_json::json!({"name": "q", "request": {"method": "GET", "path": "/q", "params": [
            {"name": "page", "in": "query"}, {"name": "x-tenant", "in": "header"}
        ]}}));
        let twice = [("page".to_owned(), "1".to_owned()), ("page".to_owned(), "2".to_owned())];
        let error = validate(&api, PathValues::new(), &twice, &HeaderMap::new(), None).expect_err("twice");
        assert!(error.message().contains("`page` is given 2 times"), "{}", error.message());
        let mut headers = HeaderMap::new();
        headers.append("x-tenant", HeaderValue::from_static("a"));
        headers.append("x-tenant", HeaderValue::from_static("b"));
        assert!(validate(&api, PathValues::new(), &[], &headers, None).is_err());
        assert_eq!(parse_query(Some("page=%31&x=a+b")), [("page".into(), "1".into()), ("x".into(), "a b".into())]);
    }
}
