//! The one body type the gateway sends and receives: boxed, so a fixed answer and a streamed
//! backend body share a type without buffering.

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};

/// Any error a body can fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed or fixed body.
pub type Body = BoxBody<Bytes, BoxError>;

/// No body: nothing allocated (the box holds nothing), unlike [`full`] of no bytes.
pub fn empty() -> Body {
    http_body_util::Empty::new().map_err(|never| match never {}).boxed()
}

/// A fixed body.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed()
}

/// A streamed body from hyper.
pub fn stream(body: hyper::body::Incoming) -> Body {
    body.map_err(|e| Box::new(e) as BoxError).boxed()
}

/// A caller's streamed body that fails once it passes `limit` bytes, or when no bytes
/// arrive for `idle`.
pub fn limited(body: Body, limit: u64, idle: std::time::Duration) -> Body {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if hyper::body::Body::is_end_stream(&body) {
        // No body (most GETs): nothing to limit, no timer to set up.
        return body;
    }
    http_body_util::Limited::new(Progress::new(body, idle), limit).boxed()
}

/// A request body that fails with [`BodyTimeout`] when no bytes arrive for `idle`: a caller
/// that starts a body and then stalls cannot hold a connection and a request's buffers
/// forever (a slow-body attack). The timer restarts at every frame.
pub struct Progress<B> {
    inner: B,
    idle: std::time::Duration,
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
}

impl<B> Progress<B> {
    /// Watches `inner`.
    pub fn new(inner: B, idle: std::time::Duration) -> Progress<B> {
        Progress { inner, idle, sleep: Box::pin(tokio::time::sleep(idle)) }
    }
}

/// The caller sent no body bytes for this long.
#[derive(Debug, Clone, Copy)]
pub struct BodyTimeout(pub std::time::Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no request body bytes arrived for {} s", self.0.as_secs())
    }
}

impl std::error::Error for BodyTimeout {}

impl<B> hyper::body::Body for Progress<B>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, BoxError>>> {
        use std::future::Future;
        use std::task::Poll;
        let this = self.get_mut();
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let deadline = tokio::time::Instant::now() + this.idle;
                this.sleep.as_mut().reset(deadline);
                Poll::Ready(frame.map(|result| result.map_err(Into::into)))
            }
            Poll::Pending => match this.sleep.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout(this.idle))))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// The bytes of a body already in memory (one made by [`full`], or an empty one), taken
/// without waiting. Any other body comes back whole: one that is not ready at once is
/// returned unread, and a frame read off one that had more is put back in front.
pub fn in_memory(mut body: Body) -> Result<Bytes, Body> {
    use hyper::body::Body as _;
    use std::task::{Context, Poll, Waker};
    if body.is_end_stream() {
        return Ok(Bytes::new());
    }
    match std::pin::Pin::new(&mut body).poll_frame(&mut Context::from_waker(Waker::noop())) {
        Poll::Pending => Err(body),
        Poll::Ready(None) => Ok(Bytes::new()),
        Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
            Ok(data) if body.is_end_stream() => Ok(data),
            Ok(data) => Err(Prefixed { first: Some(Ok(hyper::body::Frame::data(data))), rest: body }.boxed()),
            Err(frame) => Err(Prefixed { first: Some(Ok(frame)), rest: body }.boxed()),
        },
        Poll::Ready(Some(Err(error))) => Err(Prefixed { first: Some(Err(error)), rest: body }.boxed()),
    }
}

/// A frame already read, then the rest of its body.
struct Prefixed {
    first: Option<Result<hyper::body::Frame<Bytes>, BoxError>>,
    rest: Body,
}

impl hyper::body::Body for Prefixed {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, BoxError>>> {
        match self.first.take() {
            Some(first) => std::task::Poll::Ready(Some(first)),
            None => std::pin::Pin::new(&mut self.rest).poll_frame(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.first.is_none() && self.rest.is_end_stream()
    }
}

/// The bytes of request bodies the gateway buffers at once, across all connections (bodies
/// it must read whole: signed forms, body parameters, functions). A request that would go
/// over it is refused at once with 503 `Overloaded`, so many large or slow bodies cannot
/// exhaust memory or make other requests wait.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    kib: std::sync::Arc<tokio::sync::Semaphore>,
    total_kib: u32,
}

impl BodyBudget {
    /// A budget of `bytes` (counted in KiB).
    pub fn new(bytes: u64) -> BodyBudget {
        let total_kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).max(1);
        BodyBudget { kib: std::sync::Arc::new(tokio::sync::Semaphore::new(total_kib as usize)), total_kib }
    }

    /// Takes `bytes` of the budget until the returned permit is dropped.
    pub fn reserve(&self, bytes: u64) -> Result<tokio::sync::OwnedSemaphorePermit, BudgetSpent> {
        let kib = u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX).clamp(1, self.total_kib);
        self.kib.clone().try_acquire_many_owned(kib).map_err(|_| BudgetSpent)
    }
}

/// The [`BodyBudget`] cannot hold another body now (503 `Overloaded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BudgetSpent;

impl std::fmt::Display for BudgetSpent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the gateway is buffering as many request bodies as it may; try again shortly")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_refuses_what_it_cannot_hold_and_takes_back_what_is_released() {
        let budget = BodyBudget::new(10 * 1024);
        let first = budget.reserve(6 * 1024).expect("fits");
        assert!(budget.reserve(5 * 1024).is_err(), "6 + 5 KiB is over 10");
        let second = budget.reserve(4 * 1024).expect("6 + 4 fits");
        drop(first);
        assert!(budget.reserve(6 * 1024).is_ok(), "released");
        drop(second);
        assert!(budget.reserve(100 * 1024).is_ok(), "a body larger than the budget takes all of it, once");
    }

    /// A body that answers as scripted: `None` is a `Pending` poll.
    struct Scripted(std::collections::VecDeque<Option<&'static str>>);

    impl hyper::body::Body for Scripted {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, BoxError>>> {
            match self.0.pop_front() {
                Some(None) => std::task::Poll::Pending,
                Some(Some(text)) => std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(text))))),
                None => std::task::Poll::Ready(None),
            }
        }
    }

    #[tokio::test]
    async fn only_a_body_in_memory_gives_its_bytes_and_any_other_comes_back_whole() {
        assert_eq!(in_memory(full("abc")).ok().as_deref(), Some(&b"abc"[..]));
        assert_eq!(in_memory(full("")).ok().as_deref(), Some(&b""[..]));
        // No body at all reads as empty, and ends at once (no frame to wait for).
        assert!(hyper::body::Body::is_end_stream(&empty()));
        assert_eq!(hyper::body::Body::size_hint(&empty()).exact(), Some(0));
        assert_eq!(in_memory(empty()).ok().as_deref(), Some(&b""[..]));
        assert!(hyper::body::Body::is_end_stream(&limited(empty(), 10, std::time::Duration::from_secs(1))));
        // A stream that is not ready comes back unread.
        let waiting = Scripted([None, Some("late")].into()).boxed();
        let back = in_memory(waiting).expect_err("not in memory");
        assert_eq!(back.collect().await.expect("body").to_bytes(), "late");
        // A stream with a frame ready and more to come keeps that frame in front.
        let ready = Scripted([Some("one "), Some("two")].into()).boxed();
        let back = in_memory(ready).expect_err("more may come");
        assert_eq!(back.collect().await.expect("body").to_bytes(), "one two");
    }
}
