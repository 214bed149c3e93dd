//! Form and JSON body fields, for APIs that declare body parameters or map values into or
//! out of a body. Only those APIs have their body read (up to the size limit); every other
//! body is streamed untouched.

use crate::body::{self, Body};
use crate::compiled::CompiledApi;
use crate::GatewayError;
use bytes::Bytes;
use domain::api::ParamLocation;
use http::{header, HeaderMap, HeaderValue};

/// A request body as fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Fields {
    /// `application/x-www-form-urlencoded` pairs.
    Form(Vec<(String, String)>),
    /// A JSON object.
    Json(serde_json::Map<String, serde_json::Value>),
    /// Anything else (kept as is).
    Other(Bytes),
}

/// Whether the API needs its request body as fields: it declares body parameters, maps
/// values into or out of the body, or adds constant fields.
pub fn needed(api: &CompiledApi) -> bool {
    let body = |l: ParamLocation| matches!(l, ParamLocation::Form | ParamLocation::Body);
    api.params.iter().any(|p| body(p.location))
        || matches!(&api.backend, crate::compiled::Backend::Http(b)
            if b.mapping().iter().any(|m| body(m.location)) || !b.constant_fields().is_empty())
}

/// Parses a body by its content type.
pub fn parse(headers: &HeaderMap, bytes: Bytes) -> Result<Fields, GatewayError> {
    let content_type =
        headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        Ok(Fields::Form(form_urlencoded::parse(&bytes).into_owned().collect()))
    } else if content_type.starts_with("application/json") || content_type.contains("+json") {
        if bytes.is_empty() {
            return Ok(Fields::Json(serde_json::Map::new()));
        }
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(serde_json::Value::Object(map)) => Ok(Fields::Json(map)),
            Ok(_) => Err(GatewayError::InvalidParameter("the JSON body must be an object".into())),
            Err(e) => Err(GatewayError::InvalidParameter(format!("the JSON body is not valid JSON: {e}"))),
        }
    } else if bytes.is_empty() {
        Ok(Fields::Other(bytes))
    } else {
        Ok(Fields::Other(bytes))
    }
}

impl Fields {
    /// How many times a field is given (a JSON object holds a name once).
    pub fn count(&self, location: ParamLocation, name: &str) -> usize {
        match (self, location) {
            (Fields::Form(pairs), ParamLocation::Form) => pairs.iter().filter(|(k, _)| k == name).count(),
            (Fields::Json(map), ParamLocation::Body) => usize::from(map.contains_key(name)),
            _ => 0,
        }
    }

    /// Whether the body is neither a form nor JSON but has bytes, which body parameters
    /// cannot be read from.
    pub fn unreadable(&self) -> bool {
        matches!(self, Fields::Other(bytes) if !bytes.is_empty())
    }

    /// A field's value as text (JSON strings without quotes, other JSON values as JSON).
    pub fn get(&self, location: ParamLocation, name: &str) -> Option<String> {
        match (self, location) {
            (Fields::Form(pairs), ParamLocation::Form) => pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            (Fields::Json(map), ParamLocation::Body) => map.get(name).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }),
            _ => None,
        }
    }

    /// Keeps only the fields `keep` says yes to.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        match self {
            Fields::Form(pairs) => pairs.retain(|(k, _)| keep(k)),
            Fields::Json(map) => map.retain(|k, _| keep(k)),
            Fields::Other(_) => {}
        }
    }

    /// Adds a field (a form field, or a JSON string), turning an empty body into that kind.
    pub fn insert(&mut self, location: ParamLocation, name: &str, value: &str) {
        if let Fields::Other(bytes) = self {
            if bytes.is_empty() {
                *self = match location {
                    ParamLocation::Form => Fields::Form(Vec::new()),
                    _ => Fields::Json(serde_json::Map::new()),
                };
            }
        }
        match (self, location) {
            (Fields::Form(pairs), ParamLocation::Form) => pairs.push((name.to_owned(), value.to_owned())),
            (Fields::Json(map), ParamLocation::Body) => {
                map.insert(name.to_owned(), serde_json::Value::String(value.to_owned()));
            }
            _ => {}
        }
    }

    /// Sets a constant field, replacing any the caller sent of that name: a form field in a
    /// form body, a string field in a JSON object; an empty body becomes a form. Refused for a
    /// body that is neither (the constant would silently be missing).
    pub fn set_constant(&mut self, name: &str, value: &str) -> Result<(), GatewayError> {
        match self {
            Fields::Form(pairs) => {
                pairs.retain(|(k, _)| k != name);
                pairs.push((name.to_owned(), value.to_owned()));
            }
            Fields::Json(map) => {
                map.insert(name.to_owned(), serde_json::Value::String(value.to_owned()));
            }
            Fields::Other(bytes) if bytes.is_empty() => *self = Fields::Form(vec![(name.to_owned(), value.to_owned())]),
            Fields::Other(_) => {
                return Err(GatewayError::UnsupportedMediaType(
                    "this API adds fields to the body: send application/x-www-form-urlencoded or application/json"
                        .into(),
                ))
            }
        }
        Ok(())
    }

    /// The body and its content type.
    pub fn into_body(self) -> (Body, Option<HeaderValue>, usize) {
        match self {
            Fields::Form(pairs) => {
                let text = form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
                let len = text.len();
                (body::full(text), Some(HeaderValue::from_static("application/x-www-form-urlencoded")), len)
            }
            Fields::Json(map) => {
                let text = serde_json::Value::Object(map).to_string();
                let len = text.len();
                (body::full(text), Some(HeaderValue::from_static("application/json")), len)
            }
            Fields::Other(bytes) => {
                let len = bytes.len();
                (body::full(bytes), None, len)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).expect("value"));
        headers
    }

    #[test]
    fn forms_and_json_objects_parse_and_anything_else_is_kept() {
        let form = parse(&headers("application/x-www-form-urlencoded"), Bytes::from("a=1&b=two+words")).expect("form");
        assert_eq!(form.get(ParamLocation::Form, "b").as_deref(), Some("two words"));
        let json =
            parse(&headers("application/json; charset=utf-8"), Bytes::from(r#"{"n": 5, "s": "x"}"#)).expect("json");
        assert_eq!(json.get(ParamLocation::Body, "n").as_deref(), Some("5"));
        assert_eq!(json.get(ParamLocation::Body, "s").as_deref(), Some("x"));
        assert!(parse(&headers("application/json"), Bytes::from("[1]")).is_err());
        assert!(parse(&headers("application/json"), Bytes::from("{")).is_err());
        assert!(matches!(parse(&headers("text/plain"), Bytes::from("hi")), Ok(Fields::Other(_))));
    }

    #[test]
    fn inserting_into_an_empty_body_makes_it_that_kind() {
        let mut fields = Fields::Other(Bytes::new());
        fields.insert(ParamLocation::Body, "id", "7");
        let (_, content_type, len) = fields.into_body();
        assert_eq!(content_type.expect("type"), "application/json");
        assert_eq!(len, r#"{"id":"7"}"#.len());
    }

    #[test]
    fn a_constant_field_replaces_the_callers_and_needs_a_form_or_json_body() {
        let mut form = parse(&headers("application/x-www-form-urlencoded"), Bytes::from("source=evil&a=1&source=x"))
            .expect("form");
        form.set_constant("source", "gantry").expect("form");
        assert_eq!(form, Fields::Form(vec![("a".into(), "1".into()), ("source".into(), "gantry".into())]));
        let mut json = parse(&headers("application/json"), Bytes::from(r#"{"source": 5}"#)).expect("json");
        json.set_constant("source", "gantry").expect("json");
        assert_eq!(json.get(ParamLocation::Body, "source").as_deref(), Some("gantry"));
        let mut empty = Fields::Other(Bytes::new());
        empty.set_constant("source", "gantry").expect("empty");
        assert_eq!(empty.into_body().1.expect("type"), "application/x-www-form-urlencoded");
        let mut text = Fields::Other(Bytes::from("hello"));
        assert!(matches!(text.set_constant("source", "gantry"), Err(GatewayError::UnsupportedMediaType(_))));
    }
}
