//! The one body type the gateway sends and receives: boxed, so a fixed answer and a streamed
//! backend body share a type without buffering.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

/// Any error a body can fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed or fixed body.
pub type Body = BoxBody<Bytes, BoxError>;

/// A fixed body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

/// A streamed body from hyper.
pub fn stream(body: hyper::body::Incoming) -> Body {
    body.map_err(|e| Box::new(e) as BoxError).boxed()
}

/// A streamed body from hyper that fails once it passes `limit` bytes.
pub fn limited(body: hyper::body::Incoming, limit: u64) -> Body {
    http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX)).boxed()
}
