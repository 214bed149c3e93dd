//! State every gateway node of a cluster must agree on: the `X-Ca-Nonce` values seen (a
//! replay sent to another node is refused), the Debug API's one-time tokens (issued by a
//! console node, consumed by whichever gateway node the call reaches) and the throttling
//! counters (a limit is the cluster's, not each node's).
//!
//! With `GANTRY_REDIS_URL` they live on Redis; without it, in this process's memory
//! ([`NonceStore`], [`DebugTokens`], [`Throttles`]), which is exact for one node.
//!
//! On Redis:
//! - a nonce is `SET gantry:nonce:{app}:{nonce} 1 NX PX {until the timestamp leaves the
//!   window}`: the first `SET` wins, on any node;
//! - a debug token is `SET gantry:debug:{token} 1 EX 60`, consumed with `GETDEL`;
//! - a throttling counter is one Lua script per check, timed by Redis's own clock (nodes'
//!   clocks never disagree about a window): a sorted set of the requests let through in the
//!   sliding window for limits up to [`LOG_LIMIT`], two fixed windows (the previous weighted
//!   by how much of it is still inside) above it — the same two counters as in memory.
//!
//! When Redis does not answer within [`REDIS_TIMEOUT`], each fails its own way: a signed
//! request is refused (503 `SharedStateUnavailable`: fail closed, a replay must never pass),
//! a throttled request is let through (fail open: a Redis outage must not take every API
//! down) and counted in `gantry_shared_state_errors_total`, a debug token is not found (the
//! call is served without a trace).

use crate::debug::DebugTokens;
use crate::nonce::NonceStore;
use crate::policy::{Quota, Scope, Throttles, LOG_LIMIT};
use domain::Environment;
use redis::aio::ConnectionManager;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How long a Redis command may take before it counts as unavailable.
pub const REDIS_TIMEOUT: Duration = Duration::from_millis(500);

/// How long a debug token stays valid on Redis (as in memory).
const DEBUG_TOKEN_TTL_S: u64 = 60;

/// Redis did not answer (down, unreachable or too slow).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the shared state store (Redis) is unavailable: {}", self.0)
    }
}

/// Nonces, debug tokens and throttling counters: in memory, or on Redis for a cluster.
pub struct SharedState {
    nonces: NonceStore,
    debug: DebugTokens,
    throttles: Throttles,
    redis: Option<Redis>,
    /// Redis commands that failed or timed out.
    errors: AtomicU64,
}

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedState").field("on_redis", &self.redis.is_some()).finish_non_exhaustive()
    }
}

struct Redis {
    connection: ConnectionManager,
    sliding_log: redis::Script,
    two_windows: redis::Script,
}

impl Default for SharedState {
    fn default() -> SharedState {
        SharedState::in_memory()
    }
}

impl SharedState {
    /// Everything in this process's memory (one node).
    pub fn in_memory() -> SharedState {
        SharedState {
            nonces: NonceStore::default(),
            debug: DebugTokens::default(),
            throttles: Throttles::default(),
            redis: None,
            errors: AtomicU64::new(0),
        }
    }

    /// Everything on the Redis server at `url` (`redis://host:port[/db]`); fails when it
    /// cannot be reached now. Later outages are survived: the connection is re-made.
    pub async fn connect(url: &str) -> Result<SharedState, Unavailable> {
        let client = redis::Client::open(url).map_err(|e| Unavailable(format!("GANTRY_REDIS_URL: {e}")))?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = tokio::time::timeout(REDIS_TIMEOUT * 4, client.get_connection_manager_with_config(config))
            .await
            .map_err(|_| Unavailable(format!("no answer from {url}")))?
            .map_err(|e| Unavailable(e.to_string()))?;
        Ok(SharedState {
            redis: Some(Redis {
                connection,
                sliding_log: redis::Script::new(SLIDING_LOG),
                two_windows: redis::Script::new(TWO_WINDOWS),
            }),
            ..SharedState::in_memory()
        })
    }

    /// Whether the state is shared through Redis.
    pub fn on_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// Redis commands that failed or timed out since start.
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn failed(&self, error: impl std::fmt::Display) -> Unavailable {
        let count = self.errors.fetch_add(1, Ordering::Relaxed);
        // Logged once per thousand failures: an outage must not flood the log.
        if count % 1000 == 0 {
            tracing::error!(%error, failures = count + 1, "the shared state store (Redis) is unavailable");
        }
        Unavailable(error.to_string())
    }

    async fn run<T: redis::FromRedisValue>(
        &self,
        command: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, Unavailable> {
        match tokio::time::timeout(REDIS_TIMEOUT, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.failed(error)),
            Err(_) => Err(self.failed(format!("no answer within {} ms", REDIS_TIMEOUT.as_millis()))),
        }
    }

    /// Records `nonce` of `app` until `expires_ms` (epoch ms): `true` the first time it is
    /// seen (on any node sharing this state), `false` for a replay.
    pub async fn first_use(&self, app: i32, nonce: &str, expires_ms: i64, now_ms: i64) -> Result<bool, Unavailable> {
        let Some(redis) = &self.redis else { return Ok(self.nonces.first_use(app, nonce, expires_ms, now_ms)) };
        let ttl_ms = (expires_ms - now_ms).max(1);
        let mut connection = redis.connection.clone();
        let set: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(format!("gantry:nonce:{app}:{nonce}"))
                    .arg(1)
                    .arg("NX")
                    .arg("PX")
                    .arg(ttl_ms)
                    .query_async(&mut connection),
            )
            .await?;
        Ok(set.is_some())
    }

    /// A new one-time debug token, valid for a minute on every node.
    pub async fn issue_debug_token(&self) -> Result<String, Unavailable> {
        let Some(redis) = &self.redis else { return Ok(self.debug.issue()) };
        let token = crate::debug::new_token();
        let mut connection = redis.connection.clone();
        let _: () = self
            .run(
                redis::cmd("SET")
                    .arg(format!("gantry:debug:{token}"))
                    .arg(1)
                    .arg("EX")
                    .arg(DEBUG_TOKEN_TTL_S)
                    .query_async(&mut connection),
            )
            .await?;
        Ok(token)
    }

    /// Consumes a debug token: `true` only the first time, within its lifetime.
    pub async fn consume_debug_token(&self, token: &str) -> bool {
        let Some(redis) = &self.redis else { return self.debug.consume(token) };
        // A token is 64 hex digits; anything else was never issued (and never reaches Redis).
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        let mut connection = redis.connection.clone();
        let found: Result<Option<String>, _> =
            self.run(redis::cmd("GETDEL").arg(format!("gantry:debug:{token}")).query_async(&mut connection)).await;
        matches!(found, Ok(Some(_)))
    }

    /// Counts a request for `scope` under `limit` per `window_ms`: whether it may pass and
    /// the quota after it. On Redis, an unanswered check lets the request through.
    pub async fn take(
        &self,
        policy: i32,
        api: i32,
        env: Environment,
        scope: Scope,
        limit: u64,
        window_ms: u64,
    ) -> Quota {
        let Some(redis) = &self.redis else {
            let now = self.throttles.now_ms();
            return self.throttles.take(policy, api, env, scope, limit, window_ms, now);
        };
        let who = match scope {
            Scope::Api => "api".to_owned(),
            Scope::App(id) => format!("app:{id}"),
            Scope::Ip(address) => format!("ip:{address}"),
        };
        let key = format!("gantry:throttle:{policy}:{api}:{}:{who}", env.index());
        let mut connection = redis.connection.clone();
        let (script, member) = if limit <= LOG_LIMIT {
            (&redis.sliding_log, rand::random::<u64>().to_string())
        } else {
            (&redis.two_windows, String::new())
        };
        let mut invocation = script.key(key);
        invocation.arg(window_ms).arg(limit).arg(member);
        match self.run::<(u64, u64, u64)>(invocation.invoke_async(&mut connection)).await {
            Ok((allowed, counted, reset_ms)) => {
                let remaining = limit.saturating_sub(counted);
                Quota {
                    limit,
                    remaining,
                    reset_s: crate::policy::seconds(reset_ms, remaining == 0),
                    allowed: allowed == 1,
                }
            }
            Err(_) => Quota { limit, remaining: limit, reset_s: 0, allowed: true },
        }
    }
}

/// Limits up to `LOG_LIMIT`: the times (Redis's clock, ms) of the requests let through in the
/// last window, in a sorted set. KEYS[1]: the counter; ARGV: window ms, limit, a unique member.
/// Returns {allowed (0/1), requests counted in the window, ms until the oldest leaves it}.
const SLIDING_LOG: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
local allowed = 0
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  n = n + 1
  allowed = 1
end
redis.call('PEXPIRE', KEYS[1], window)
local reset = 0
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if oldest[2] then reset = tonumber(oldest[2]) + window - now end
return {allowed, n, reset}
";

/// Limits above `LOG_LIMIT`: two fixed windows, the previous weighted by how much of it is
/// still inside the sliding window. Same arguments and answer as `SLIDING_LOG`.
const TWO_WINDOWS: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local start = now - (now % window)
local current_key = KEYS[1] .. ':' .. start
local previous = tonumber(redis.call('GET', KEYS[1] .. ':' .. (start - window)) or '0')
local current = tonumber(redis.call('GET', current_key) or '0')
local inside = window - (now - start)
local estimate = math.floor(previous * inside / window) + current
local allowed = 0
if estimate < limit then
  redis.call('INCR', current_key)
  redis.call('PEXPIRE', current_key, 2 * window)
  allowed = 1
end
return {allowed, estimate + allowed, inside}
";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_state_refuses_replays_and_reused_tokens() {
        let state = SharedState::in_memory();
        assert!(!state.on_redis());
        assert_eq!(state.first_use(1, "n", 1_000, 0).await, Ok(true));
        assert_eq!(state.first_use(1, "n", 1_000, 10).await, Ok(false));
        let token = state.issue_debug_token().await.expect("token");
        assert!(state.consume_debug_token(&token).await);
        assert!(!state.consume_debug_token(&token).await);
        let quota = state.take(1, 1, Environment::Test, Scope::Api, 1, 60_000).await;
        assert!(quota.allowed);
        assert!(!state.take(1, 1, Environment::Test, Scope::Api, 1, 60_000).await.allowed);
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_refused_at_start() {
        // Port 1 on loopback: nothing listens there.
        let error = SharedState::connect("redis://127.0.0.1:1").await.expect_err("no Redis there");
        assert!(error.to_string().contains("unavailable"), "{error}");
        assert!(SharedState::connect("http://nope").await.is_err(), "not a Redis URL");
    }
}
