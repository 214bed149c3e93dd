//! The request lifecycle as named phases (DESIGN.md, "Gateway request lifecycle"), in the
//! spirit of Pingora's `ProxyHttp`: each phase is a plain function of the request context,
//! so it can be tested alone; [`crate::server`] runs them in order and records the
//! [`Phase`](crate::context::Phase) it is in.
//!
//! 1. [`resolve`](resolve::resolve): Host → group, stage → environment, no deployment → 404.
//! 2. [`route`](resolve::route): method + path → API of the live version; 404 vs 405.
//! 3. [`mock`](resolve::mock): a Mock backend answers now (no authentication, as the seeds
//!    say); any other backend is named for the phases after ([`Handler`]).
//! 4. [`authenticate`](auth::authenticate): `auth = app` APIs: AppCode or X-Ca signature
//!    (timestamp, nonce, HMAC), then the app's authorization for the API in this environment.
//! 5. [`policies`](policies::policies): traffic policies bound to the API in this
//!    environment: IP access control, then throttling; CORS preflights are answered before
//!    routing's method check, and CORS headers added to the answer.
//! 6. [`validate`](validate::validate): declared path, query, header and body parameters.
//! 7. [`upstream_request`](upstream_request::upstream_request): the backend request: URL,
//!    mapped parameters, constants, system parameters, `X-Forwarded-*`, hop-by-hop headers
//!    and credentials removed.
//! 8. [`proxy`](proxy::proxy): pooled keep-alive call (HTTP or HTTPS through rustls) with the
//!    API's timeout, 504 / 502; or [`function`](proxy::function) for a Function backend.
//! 9. [`log`](log::log): always runs.
//!
//! Between 4 and 5 the server decides whether the body streams or is read
//! ([`crate::server`]'s `read_body`).

pub mod auth;
pub mod log;
pub mod policies;
pub mod proxy;
pub mod resolve;
pub mod upstream_request;
pub mod validate;

pub use auth::{authenticate, authenticate_reads_body, Check, Credentials, Replay};
pub use log::log;
pub use policies::policies;
pub use proxy::{function, proxy};
pub use resolve::{mock, resolve, route, Dispatch, Handler, PathParams};
pub use upstream_request::{strip_hop_by_hop, upstream_request, SEGMENT};
pub use validate::{parse_query, validate, validate_into, Values};
