//! Function backends: user JavaScript run in-process, in a sandbox (DESIGN.md, "Functions").
//!
//! The engine is QuickJS through `rquickjs`: a small, well-kept embeddable engine with a
//! per-runtime memory limit, an interrupt hook (our CPU-time limit) and no I/O of its own; a
//! context gets the ECMAScript built-ins only, so user code has no file system, network,
//! process or timer access.
//!
//! A [`FunctionPool`] runs a fixed number of worker threads, each owning one runtime. Code is
//! compiled once per worker and cached by its SHA-256, so a version's functions stay compiled
//! across requests and a Switch Version (new code, new hash) switches code too. A call that
//! throws, exceeds its time or memory, or returns a bad value becomes a `FunctionError`; a
//! worker whose runtime hit a limit replaces the runtime before the next call.
//!
//! The contract: the module's default export is `handler(req)` (it may be `async`), with
//! `req = {method, path, params, query, headers, body, json}`, returning
//! `{status?, headers?, body?}`; an object or array `body` is sent as JSON.

use bytes::Bytes;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Module, Persistent, Runtime, Value};
use sha2::{Digest, Sha256};
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Memory a worker's runtime may use (code, caches and every call's data).
const MEMORY_LIMIT: usize = 64 << 20;
/// Stack a call may use.
const STACK_LIMIT: usize = 512 << 10;
/// Compiled functions a worker keeps before it starts over.
const CACHE_LIMIT: usize = 512;
/// Time allowed to evaluate a module's top level (at check and at first use).
const LOAD_LIMIT: Duration = Duration::from_millis(500);

/// A function as released: its code, its hash and its CPU-time limit.
#[derive(Debug)]
pub struct FunctionCode {
    /// SHA-256 of the code (hex): the cache key.
    pub hash: String,
    /// The source.
    pub code: String,
    /// CPU-time limit per call.
    pub timeout: Duration,
}

impl PartialEq for FunctionCode {
    fn eq(&self, other: &FunctionCode) -> bool {
        self.hash == other.hash && self.timeout == other.timeout
    }
}

impl Eq for FunctionCode {}

impl FunctionCode {
    /// Wraps source code with its hash.
    pub fn new(code: &str, timeout: Duration) -> FunctionCode {
        FunctionCode { hash: hex(&Sha256::digest(code.as_bytes())), code: code.to_owned(), timeout }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a handler answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionResponse {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Bytes,
}

/// A fresh runtime with the limits, and the deadline its interrupt hook watches.
fn runtime() -> Result<(Runtime, Context, Rc<Cell<Instant>>), String> {
    let runtime = Runtime::new().map_err(|e| format!("starting the JavaScript engine: {e}"))?;
    runtime.set_memory_limit(MEMORY_LIMIT);
    runtime.set_max_stack_size(STACK_LIMIT);
    let deadline = Rc::new(Cell::new(Instant::now()));
    let watched = deadline.clone();
    runtime.set_interrupt_handler(Some(Box::new(move || Instant::now() > watched.get())));
    let context = Context::full(&runtime).map_err(|e| format!("starting the JavaScript engine: {e}"))?;
    Ok((runtime, context, deadline))
}

/// `line L, column C: message` from a caught error (QuickJS puts the position in the stack).
fn describe(error: CaughtError<'_>) -> String {
    match error {
        CaughtError::Exception(exception) => {
            let message = exception.message().unwrap_or_else(|| "error".into());
            let position = exception.stack().and_then(|stack| {
                let line = stack.lines().find(|l| l.contains(".js:"))?;
                let mut parts = line.rsplit(':');
                let column = parts.next()?.trim_end_matches(')').trim().parse::<u32>().ok()?;
                let row = parts.next()?.parse::<u32>().ok()?;
                Some(format!("line {row}, column {column}: "))
            });
            format!("{}{message}", position.unwrap_or_default())
        }
        CaughtError::Value(value) => format!("threw {value:?}"),
        CaughtError::Error(error) => error.to_string(),
    }
}

/// Compiles and evaluates `code` as a module and returns its default export.
fn load<'js>(ctx: &Ctx<'js>, name: &str, code: &str) -> Result<Function<'js>, String> {
    let declared = Module::declare(ctx.clone(), name, code).catch(ctx).map_err(describe)?;
    let (module, promise) = declared.eval().catch(ctx).map_err(describe)?;
    promise.finish::<()>().catch(ctx).map_err(describe)?;
    module
        .get::<_, Value>("default")
        .ok()
        .and_then(|v| v.into_function())
        .ok_or_else(|| "the module must `export default function handler(req) { … }`".to_owned())
}

/// Checks that `code` compiles and exports a default function, as a save or release does.
/// Errors name the line and column.
pub fn check(code: &str) -> Result<(), String> {
    let (_runtime, context, deadline) = runtime()?;
    deadline.set(Instant::now() + LOAD_LIMIT);
    context.with(|ctx| load(&ctx, "handler.js", code).map(|_| ()))
}

/// Converts a handler's return value into a response.
fn response<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> Result<FunctionResponse, String> {
    let shape = "expected an object {status, headers, body}";
    let Some(object) = value.as_object() else {
        return Err(format!("the handler returned {}; {shape}", value.type_name()));
    };
    let status = match object.get::<_, Value>("status").map_err(|e| e.to_string())? {
        v if v.is_undefined() || v.is_null() => 200,
        v => match v.as_int().map(i64::from).or_else(|| v.as_float().filter(|f| f.fract() == 0.0).map(|f| f as i64)) {
            Some(status @ 100..=599) => status as u16,
            _ => return Err(format!("the handler returned status {v:?}; it must be an integer from 100 to 599")),
        },
    };
    let mut headers = Vec::new();
    let given = object.get::<_, Value>("headers").map_err(|e| e.to_string())?;
    if let Some(map) = given.as_object() {
        for entry in map.props::<String, rquickjs::Coerced<String>>() {
            let (name, value) = entry.map_err(|e| format!("the handler's headers: {e}"))?;
            headers.push((name, value.0));
        }
    } else if !(given.is_undefined() || given.is_null()) {
        return Err(format!("the handler returned headers of type {}; {shape}", given.type_name()));
    }
    let body = object.get::<_, Value>("body").map_err(|e| e.to_string())?;
    let has_type = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("content-type"));
    let body = if body.is_undefined() || body.is_null() {
        Bytes::new()
    } else if let Some(text) = body.as_string() {
        if !has_type {
            headers.push(("content-type".into(), "text/plain; charset=utf-8".into()));
        }
        Bytes::from(text.to_string().map_err(|e| e.to_string())?)
    } else {
        let json = ctx
            .json_stringify(body)
            .catch(ctx)
            .map_err(describe)?
            .map(|s| s.to_string())
            .transpose()
            .map_err(|e| e.to_string())?
            .unwrap_or_default();
        if !has_type {
            headers.push(("content-type".into(), "application/json; charset=utf-8".into()));
        }
        Bytes::from(json)
    };
    Ok(FunctionResponse { status, headers, body })
}

/// Freezes the built-in objects and their prototypes, so a function cannot patch what its
/// own later calls (made for other callers) run, e.g. `String.prototype.toUpperCase`.
const FREEZE_INTRINSICS: &str = "\
for (const name of Object.getOwnPropertyNames(globalThis)) {\
  const value = globalThis[name];\
  if ((typeof value === 'function' || typeof value === 'object') && value !== null && value !== globalThis) {\
    Object.freeze(value);\
    if (typeof value === 'function' && value.prototype) Object.freeze(value.prototype);\
  }\
}\
Object.freeze(Object.getPrototypeOf(function* () {}));\
Object.freeze(Object.getPrototypeOf(async function () {}));";

/// Gives `req` a `json` property parsed from `req.body` when first read (`null` when the body
/// is not JSON): a large JSON body costs nothing unless the function reads it as JSON.
const LAZY_JSON: &str = "(req) => {\
  let parsed = false, value = null;\
  Object.defineProperty(req, 'json', { enumerable: true, get() {\
    if (!parsed) { parsed = true; try { value = JSON.parse(req.body); } catch (e) { value = null; } }\
    return value;\
  } });\
  return req;\
}";

/// A function loaded in a context of its own: no two functions share globals or built-ins,
/// so code released in one group can never observe calls to another group's function.
/// The persistent values drop before `context`.
struct Loaded {
    handler: Persistent<Function<'static>>,
    lazy_json: Persistent<Function<'static>>,
    context: Context,
}

/// One worker's engine: its functions, each in its own context, and the runtime they share
/// (memory and CPU-time limits). Fields drop in this order: values held for the runtime
/// must go before it (QuickJS asserts so).
struct Engine {
    compiled: HashMap<String, Loaded>,
    deadline: Rc<Cell<Instant>>,
    /// Calls since the last full garbage collection.
    since_gc: u32,
    runtime: Runtime,
}

/// A full collection walks every object of every loaded function's context (each has its own
/// built-ins), which cost more than the call itself when run after every call (40 % of the
/// gateway's CPU in the function benchmark). Reference counting frees most garbage at once and
/// QuickJS collects cycles itself as memory grows (the memory limit still holds); a full
/// collection every this many calls bounds what cycles can keep between them.
const CALLS_PER_GC: u32 = 64;

impl Engine {
    fn new() -> Result<Engine, String> {
        let (runtime, _context, deadline) = runtime()?;
        Ok(Engine { compiled: HashMap::new(), deadline, since_gc: 0, runtime })
    }

    /// Loads `function` into a fresh context with frozen built-ins.
    fn load(runtime: &Runtime, deadline: &Cell<Instant>, function: &FunctionCode) -> Result<Loaded, String> {
        let context = Context::full(runtime).map_err(|e| format!("starting the JavaScript engine: {e}"))?;
        deadline.set(Instant::now() + LOAD_LIMIT);
        let (handler, lazy_json) = context.with(|ctx| {
            ctx.eval::<(), _>(FREEZE_INTRINSICS).catch(&ctx).map_err(describe)?;
            let lazy_json: Function = ctx.eval(LAZY_JSON).catch(&ctx).map_err(describe)?;
            let name = format!("function-{}.js", &function.hash[..16]);
            let handler = load(&ctx, &name, &function.code)?;
            Ok::<_, String>((Persistent::save(&ctx, handler), Persistent::save(&ctx, lazy_json)))
        })?;
        Ok(Loaded { handler, lazy_json, context })
    }

    /// Runs one call; the flag says whether the runtime hit a limit and must be replaced.
    fn call(&mut self, function: &FunctionCode, request: &str) -> (Result<FunctionResponse, String>, bool) {
        if self.compiled.len() >= CACHE_LIMIT {
            self.compiled.clear();
        }
        let Engine { compiled, deadline, since_gc, runtime } = self;
        let started = Instant::now();
        if !compiled.contains_key(&function.hash) {
            match Engine::load(runtime, deadline, function) {
                Ok(loaded) => {
                    compiled.insert(function.hash.clone(), loaded);
                }
                Err(message) => {
                    let broken = message.contains("interrupted") || message.contains("out of memory");
                    return (Err(message), broken);
                }
            }
        }
        let Some(loaded) = compiled.get(&function.hash) else {
            return (Err("the function could not be loaded".into()), true);
        };
        let outcome = loaded.context.with(|ctx| {
            let handler = loaded.handler.clone().restore(&ctx).map_err(|e| e.to_string())?;
            deadline.set(Instant::now() + function.timeout);
            let argument = ctx.json_parse(request.to_owned()).catch(&ctx).map_err(describe)?;
            let lazy_json = loaded.lazy_json.clone().restore(&ctx).map_err(|e| e.to_string())?;
            let argument: Value = lazy_json.call((argument,)).catch(&ctx).map_err(describe)?;
            let returned: Value = handler.call((argument,)).catch(&ctx).map_err(describe)?;
            let value = match returned.as_promise() {
                Some(promise) => promise.finish::<Value>().catch(&ctx).map_err(|e| match e {
                    CaughtError::Error(rquickjs::Error::WouldBlock) => {
                        "the handler's promise never settles (no timers or I/O are available)".to_owned()
                    }
                    other => describe(other),
                })?,
                None => returned,
            };
            response(&ctx, value)
        });
        let timed_out = started.elapsed() > function.timeout;
        let outcome = outcome.map_err(|message| {
            if timed_out || message.contains("interrupted") {
                format!("the function exceeded its CPU-time limit of {} ms", function.timeout.as_millis())
            } else if message.contains("out of memory") || message.contains("stack overflow") {
                format!("the function exceeded its memory limit: {message}")
            } else {
                message
            }
        });
        let broken = outcome.as_ref().is_err_and(|m| m.contains("limit"));
        *since_gc += 1;
        if *since_gc >= CALLS_PER_GC {
            *since_gc = 0;
            runtime.run_gc();
        }
        (outcome, broken)
    }
}

struct Job {
    function: Arc<FunctionCode>,
    request: String,
    /// Dropped unrun after this: its caller's timeout has passed.
    deadline: Instant,
    reply: tokio::sync::oneshot::Sender<Result<FunctionResponse, String>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("function", &self.function.hash).finish()
    }
}

/// Waiting calls, one queue per group, served round robin: a group whose function is slow
/// or flooded waits behind itself, not in front of other groups. Bounded in all.
#[derive(Debug)]
struct FairQueue {
    state: std::sync::Mutex<Queues>,
    ready: std::sync::Condvar,
    capacity: usize,
}

#[derive(Debug, Default)]
struct Queues {
    by_group: HashMap<i32, std::collections::VecDeque<Job>>,
    /// Groups with waiting calls, in the order they are served next.
    turn: std::collections::VecDeque<i32>,
    waiting: usize,
}

impl FairQueue {
    fn push(&self, group: i32, job: Job) -> Result<(), Job> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if state.waiting >= self.capacity {
            return Err(job);
        }
        let queue = state.by_group.entry(group).or_default();
        queue.push_back(job);
        if queue.len() == 1 {
            state.turn.push_back(group);
        }
        state.waiting += 1;
        drop(state);
        self.ready.notify_one();
        Ok(())
    }

    fn pop(&self) -> Job {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        loop {
            if let Some(group) = state.turn.pop_front() {
                let queue = state.by_group.get_mut(&group).expect("a group in turn has a queue");
                let job = queue.pop_front().expect("a group in turn has a call");
                if queue.is_empty() {
                    state.by_group.remove(&group);
                } else {
                    state.turn.push_back(group);
                }
                state.waiting -= 1;
                return job;
            }
            state = self.ready.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }
}

/// Worker threads that run functions; cheap to clone.
#[derive(Clone, Debug)]
pub struct FunctionPool {
    queue: Arc<FairQueue>,
}

impl FunctionPool {
    /// Starts `workers` threads, each with its own engine, and a queue of at most `capacity`
    /// waiting calls.
    pub fn new(workers: usize, capacity: usize) -> FunctionPool {
        let queue = Arc::new(FairQueue {
            state: std::sync::Mutex::new(Queues::default()),
            ready: std::sync::Condvar::new(),
            capacity: capacity.max(1),
        });
        for n in 0..workers.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new().name(format!("gantry-fn-{n}")).spawn(move || {
                let mut engine = Engine::new();
                loop {
                    let job = queue.pop();
                    // A caller that went away, or whose time is up, gets nothing run for it.
                    if job.reply.is_closed() {
                        continue;
                    }
                    if Instant::now() > job.deadline {
                        let _ = job.reply.send(Err("the call waited for a function worker past its timeout".into()));
                        continue;
                    }
                    let result = match engine.as_mut() {
                        Ok(engine) => {
                            let (result, broken) = engine.call(&job.function, &job.request);
                            if broken {
                                tracing::warn!(function = %job.function.hash, "function hit a limit; replacing its engine");
                            }
                            (result, broken)
                        }
                        Err(e) => (Err(e.clone()), true),
                    };
                    if result.1 {
                        engine = Engine::new();
                    }
                    let _ = job.reply.send(result.0);
                }
            });
            if let Err(error) = spawned {
                tracing::error!(%error, "could not start a function worker");
            }
        }
        FunctionPool { queue }
    }

    /// Runs `function` of `group` with `request` (the `req` object as JSON). The call waits
    /// at most `wait` for a worker (then it is dropped unrun); a full queue refuses it at once.
    pub async fn call(
        &self,
        group: i32,
        function: Arc<FunctionCode>,
        request: String,
        wait: Duration,
    ) -> Result<FunctionResponse, CallError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job { function, request, deadline: Instant::now() + wait, reply };
        if self.queue.push(group, job).is_err() {
            return Err(CallError::QueueFull);
        }
        answer
            .await
            .map_err(|_| CallError::Failed("the function worker stopped".to_owned()))?
            .map_err(CallError::Failed)
    }
}

/// Why a function call gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError {
    /// As many calls wait as the queue holds.
    QueueFull,
    /// The function failed (the message says how).
    Failed(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(source: &str) -> Arc<FunctionCode> {
        Arc::new(FunctionCode::new(source, Duration::from_millis(300)))
    }

    /// A call of group 0 that may wait 5 s, with the failure as text.
    async fn run(
        pool: &FunctionPool,
        function: Arc<FunctionCode>,
        request: String,
    ) -> Result<FunctionResponse, String> {
        call(pool, 0, function, request, Duration::from_secs(5)).await
    }

    async fn call(
        pool: &FunctionPool,
        group: i32,
        function: Arc<FunctionCode>,
        request: String,
        wait: Duration,
    ) -> Result<FunctionResponse, String> {
        pool.call(group, function, request, wait).await.map_err(|e| match e {
            CallError::QueueFull => "queue full".to_owned(),
            CallError::Failed(message) => message,
        })
    }

    #[test]
    fn syntax_errors_name_the_line_and_column() {
        assert_eq!(check("export default function handler(req) { return {}; }"), Ok(()));
        let error = check("export default function handler(req) {\n  let x = ;\n}").expect_err("syntax");
        assert!(error.starts_with("line 2, column"), "{error}");
        assert!(check("export const x = 1;").expect_err("no default").contains("export default"));
        assert!(check("while (true) {}\nexport default () => ({})").expect_err("loop").contains("interrupted"));
    }

    #[tokio::test]
    async fn handlers_run_and_every_failure_is_a_clean_error() {
        let pool = FunctionPool::new(1, 64);
        let echo = code("export default async function handler(req) { return {status: 201, headers: {'x-n': 1}, body: {params: req.params}}; }");
        let ok = run(&pool, echo.clone(), r#"{"params":{"a":"1"}}"#.into()).await.expect("ok");
        assert_eq!(ok.status, 201);
        assert_eq!(ok.body, Bytes::from(r#"{"params":{"a":"1"}}"#));
        assert!(ok.headers.contains(&("x-n".into(), "1".into())));

        let thrown = run(&pool, code("export default () => { throw new Error('boom'); }"), "{}".into()).await;
        assert!(thrown.expect_err("throws").contains("boom"));
        let endless = run(&pool, code("export default () => { while (true) {} }"), "{}".into()).await;
        assert!(endless.expect_err("loops").contains("CPU-time limit of 300 ms"));
        let bomb = code("export default () => { const a = []; while (true) a.push('x'.repeat(1 << 20)); }");
        assert!(run(&pool, bomb, "{}".into()).await.expect_err("bomb").contains("limit"));
        let shape = run(&pool, code("export default () => 42"), "{}".into()).await;
        assert!(shape.expect_err("shape").contains("returned int"));
        let status = run(&pool, code("export default () => ({status: 42})"), "{}".into()).await;
        assert!(status.expect_err("status").contains("100 to 599"));
        // The worker recovered from every failure above.
        assert_eq!(run(&pool, echo, r#"{"params":{}}"#.into()).await.expect("recovered").status, 201);
    }

    #[tokio::test]
    async fn a_function_cannot_observe_or_change_what_another_runs() {
        // One worker, so both functions run on the same engine.
        let pool = FunctionPool::new(1, 64);
        let spy = code(
            "globalThis.seen = globalThis.seen || [];\n\
             try { const upper = String.prototype.toUpperCase;\n\
               String.prototype.toUpperCase = function () { globalThis.seen.push(String(this)); return upper.call(this); };\n\
             } catch (e) {}\n\
             export default () => ({body: {seen: globalThis.seen, patched: String.prototype.toUpperCase.name}});",
        );
        let victim = code("export default (req) => ({body: req.headers['x-secret'].toUpperCase()})");
        run(&pool, spy.clone(), "{}".into()).await.expect("the spy loads");
        let answer = run(&pool, victim, r#"{"headers":{"x-secret":"s3cret"}}"#.into()).await.expect("victim");
        assert_eq!(answer.body, Bytes::from("S3CRET"));
        let seen = run(&pool, spy, "{}".into()).await.expect("the spy answers");
        let body = String::from_utf8(seen.body.to_vec()).expect("text");
        assert!(!body.contains("s3cret"), "{body}");
        assert!(body.contains(r#""patched":"toUpperCase""#), "the built-in could not be replaced: {body}");
    }

    #[tokio::test]
    async fn concurrent_calls_all_answer() {
        let pool = FunctionPool::new(2, 64);
        let double = code("export default (req) => ({body: String(req.json.n * 2)})");
        let calls: Vec<_> = (0..50)
            .map(|n| {
                let (pool, double) = (pool.clone(), double.clone());
                tokio::spawn(async move {
                    run(&pool, double, serde_json::json!({"body": format!(r#"{{"n":{n}}}"#)}).to_string()).await
                })
            })
            .collect();
        for (n, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.expect("task").expect("answer").body, Bytes::from((n * 2).to_string()));
        }
    }

    #[tokio::test]
    async fn the_queue_is_bounded_waits_are_bounded_and_groups_take_turns() {
        // One worker busy for about 150 ms per call.
        let busy = Arc::new(FunctionCode::new(
            "export default () => { const end = Date.now() + 150; while (Date.now() < end) {} return {body: 'done'}; }",
            Duration::from_secs(2),
        ));
        let pool = FunctionPool::new(1, 4);
        let started = Instant::now();
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut calls = Vec::new();
        // Group 1 floods four calls, then group 2 asks once.
        for (n, group) in [(1, 1), (2, 1), (3, 1), (4, 1), (5, 2)] {
            let (pool, busy, order) = (pool.clone(), busy.clone(), order.clone());
            calls.push(tokio::spawn(async move {
                let answer = call(&pool, group, busy, "{}".into(), Duration::from_secs(5)).await;
                order.lock().expect("order").push(n);
                answer
            }));
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The queue holds four waiting calls: a sixth is refused at once.
        let refused = call(&pool, 3, busy.clone(), "{}".into(), Duration::from_secs(5)).await;
        assert_eq!(refused.expect_err("full"), "queue full");
        for call in calls {
            assert_eq!(call.await.expect("task").expect("answer").body, Bytes::from("done"));
        }
        let order = order.lock().expect("order").clone();
        let second_group = order.iter().position(|n| *n == 5).expect("group 2 answered");
        assert!(second_group <= 2, "group 2 waited behind group 1's backlog: {order:?}");
        assert!(started.elapsed() < Duration::from_secs(3));

        // A call that may wait 50 ms behind a 150 ms one is dropped unrun.
        let pool = FunctionPool::new(1, 4);
        let first = {
            let (pool, busy) = (pool.clone(), busy.clone());
            tokio::spawn(async move { call(&pool, 1, busy, "{}".into(), Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let late = call(&pool, 2, busy, "{}".into(), Duration::from_millis(50)).await;
        assert!(late.expect_err("expired").contains("past its timeout"));
        assert!(first.await.expect("task").is_ok());
    }

    #[tokio::test]
    async fn req_json_is_parsed_only_when_read() {
        let pool = FunctionPool::new(1, 4);
        let reads = code("export default (req) => ({body: {n: req.json && req.json.n, again: req.json === req.json}})");
        let answer = run(&pool, reads, r#"{"body":"{\"n\":7}"}"#.into()).await.expect("answer");
        assert_eq!(answer.body, Bytes::from(r#"{"n":7,"again":true}"#));
        let ignores = code("export default (req) => ({body: String(req.body.length)})");
        let large = format!("[{}0]", "0,".repeat(1 << 20));
        let request = serde_json::json!({ "body": large }).to_string();
        assert_eq!(run(&pool, ignores, request).await.expect("answer").body, Bytes::from((large.len()).to_string()));
        let bad = code("export default (req) => ({body: String(req.json)})");
        assert_eq!(run(&pool, bad, r#"{"body":"not json"}"#.into()).await.expect("answer").body, Bytes::from("null"));
    }
}
