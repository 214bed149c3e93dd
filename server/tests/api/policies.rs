//! Traffic policies through the admin REST API and the real gateway: throttling, IP access
//! control and CORS, bound per API or group and environment, effective without a release.

use crate::helpers::{spawn_app, spawn_app_with, spawn_echo_backend, RestClient, TestApp};
use reqwest::{Method, Response};
use serde_json::{json, Value};

const HOST: &str = "shop.localhost";

/// Group `shop` with `GET /items` (HTTP to an echo backend) and `GET /open` (Mock), both
/// released to Test; returns the REST client and the API ids.
async fn shop(app: &TestApp) -> (RestClient, i32, i32) {
    let backend = spawn_echo_backend().await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    let items = rest.create_api("shop", json!({"name": "Items", "request": {"method": "GET", "path": "/items"}})).await;
    let open = rest
        .create_api("shop", json!({"name": "Open", "request": {"method": "GET", "path": "/open"}, "backend": {"unified": false, "type": "mock"}}))
        .await;
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "http", "address": backend})).await;
    (rest, items.id, open.id)
}

async fn policy(rest: &RestClient, spec: Value) {
    let (status, body) = rest.post("/policies", spec).await;
    assert_eq!(status, 201, "{body}");
}

async fn bind(rest: &RestClient, policy: &str, api: Option<i32>) -> i64 {
    let (status, body) =
        rest.post(&format!("/policies/{policy}/bindings"), json!({"group": "shop", "api": api, "env": "test"})).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

async fn call(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> Response {
    call_with(&reqwest::Client::new(), app, Method::GET, path, headers).await
}

async fn call_with(
    client: &reqwest::Client,
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Response {
    let mut request =
        client.request(method, format!("{}{path}", app.gateway)).header("host", HOST).header("x-ca-stage", "TEST");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("gateway")
}

/// `n` requests for `/items` at once, on one keep-alive client.
async fn burst(app: &TestApp, n: usize) -> Vec<Response> {
    let client = reqwest::Client::new();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let request = client.get(format!("{}/items", app.gateway)).header("host", HOST).header("x-ca-stage", "TEST");
        set.spawn(async move { request.send().await.expect("gateway") });
    }
    set.join_all().await
}

async fn from(app: &TestApp, address: &str) -> Response {
    call(app, "/items", &[("x-forwarded-for", address)]).await
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

#[tokio::test]
async fn a_per_api_limit_lets_exactly_n_of_a_burst_through_and_recovers_in_the_next_window() {
    let app = spawn_app().await;
    let (rest, items, _) = shop(&app).await;
    policy(&rest, json!({"name": "five", "type": "throttling", "config": {"unit": "second", "api_limit": 5, "app_limit": null, "special_apps": []}})).await;
    // Before binding: no limit, no RateLimit headers.
    let before = call(&app, "/items", &[]).await;
    assert_eq!((before.status().as_u16(), header(&before, "ratelimit-limit")), (200, None));
    bind(&rest, "five", Some(items)).await;

    let burst = burst(&app, 15).await;
    let passed = burst.iter().filter(|r| r.status() == 200).count();
    assert_eq!(passed, 5, "exactly the limit passes a burst of three times it");
    let mut reset = 0;
    for response in &burst {
        assert_eq!(header(response, "ratelimit-limit"), Some("5"), "every response of a throttled API says its limit");
        assert!(header(response, "ratelimit-remaining").is_some() && header(response, "ratelimit-reset").is_some());
        if response.status() == 429 {
            assert_eq!(header(response, "x-ca-error-code"), Some("Throttled"));
            assert_eq!(header(response, "ratelimit-remaining"), Some("0"));
            let retry: u64 = header(response, "retry-after").expect("Retry-After").parse().expect("seconds");
            assert!((1..=1).contains(&retry), "{retry}");
            reset = reset.max(retry);
        }
    }
    // The other API of the group is not throttled (bound to one API only).
    let open = call(&app, "/open", &[]).await;
    assert_eq!((open.status().as_u16(), header(&open, "ratelimit-limit")), (200, None));
    // The next window lets the limit through again.
    tokio::time::sleep(std::time::Duration::from_millis(reset * 1000 + 50)).await;
    let again = self::burst(&app, 6).await;
    assert_eq!(again.iter().filter(|r| r.status() == 200).count(), 5);
}

#[tokio::test]
async fn apps_get_their_limit_and_special_apps_their_own() {
    let app = spawn_app().await;
    let (rest, items, _) = shop(&app).await;
    // The API needs an app: the AppCode identifies the caller.
    let mut spec: Value = rest.get(&format!("/groups/shop/apis/{items}")).await.1;
    spec["auth"] = json!("app");
    let (status, body) = rest.put(&format!("/groups/shop/apis/{items}"), spec).await;
    assert_eq!(status, 200, "{body}");
    rest.freeze("shop", "2").await;
    // An HTTP backend: a Mock answers before authentication, so there would be no app to count.
    let backend = spawn_echo_backend().await;
    rest.release("shop", "test", "2", json!({"type": "http", "address": backend})).await;
    let mut codes = Vec::new();
    for name in ["web", "cli"] {
        let (_, created) = rest.post("/apps", json!({"name": name})).await;
        let grant = json!({"group": "shop", "apis": [items], "env": "test"});
        assert_eq!(rest.post(&format!("/apps/{name}/authorizations"), grant).await.0, 201);
        codes.push(format!("APPCODE {}", created["app_code"].as_str().expect("code")));
    }
    policy(&rest, json!({"name": "per-app", "type": "throttling", "config": {"unit": "minute", "app_limit": 1, "special_apps": [{"app": "web", "limit": 3}]}})).await;
    bind(&rest, "per-app", None).await;
    let statuses = |code: String| {
        let app = &app;
        async move {
            let mut out = Vec::new();
            for _ in 0..4 {
                out.push(call(app, "/items", &[("authorization", code.as_str())]).await.status().as_u16());
            }
            out
        }
    };
    assert_eq!(statuses(codes[0].clone()).await, [200, 200, 200, 429], "web: its own limit of 3");
    assert_eq!(statuses(codes[1].clone()).await, [200, 429, 429, 429], "cli: the app limit of 1");
}

#[tokio::test]
async fn ip_allow_and_deny_lists_with_cidrs_and_ipv6_behind_a_trusted_proxy() {
    let app = spawn_app_with(|s| {
        s.trusted_proxies =
            gantry::config::TrustedProxies(vec![domain::policy::IpRange::parse("127.0.0.1").expect("range")]);
    })
    .await;
    let (rest, items, _) = shop(&app).await;
    policy(&rest, json!({"name": "office", "type": "ip_access", "config": {"mode": "allow", "cidrs": ["10.0.0.0/8", "2001:db8::/32"]}})).await;
    let binding = bind(&rest, "office", Some(items)).await;
    let refused = call(&app, "/items", &[]).await;
    assert_eq!(
        (refused.status().as_u16(), header(&refused, "x-ca-error-code")),
        (403, Some("IpDenied")),
        "the proxy itself is not in the list"
    );
    assert_eq!(from(&app, "10.20.30.40").await.status(), 200);
    assert_eq!(from(&app, "2001:db8::5").await.status(), 200, "IPv6 in the range");
    assert_eq!(from(&app, "2001:db9::5").await.status(), 403);
    // The right-most address that is not a trusted proxy counts, not what the caller adds on the left.
    assert_eq!(from(&app, "10.0.0.1, 203.0.113.7").await.status(), 403);
    assert_eq!(from(&app, "203.0.113.7, 10.0.0.1").await.status(), 200);
    assert_eq!(call(&app, "/open", &[]).await.status(), 200, "other APIs are not bound");

    // A deny list on the whole group; the API's own allow list still wins for /items.
    policy(
        &rest,
        json!({"name": "no-docs", "type": "ip_access", "config": {"mode": "deny", "cidrs": ["198.51.100.0/24"]}}),
    )
    .await;
    bind(&rest, "no-docs", None).await;
    assert_eq!(call(&app, "/open", &[("x-forwarded-for", "198.51.100.9")]).await.status(), 403);
    assert_eq!(call(&app, "/open", &[("x-forwarded-for", "198.51.101.9")]).await.status(), 200);
    assert_eq!(from(&app, "10.1.1.1").await.status(), 200);
    assert_eq!(rest.delete(&format!("/policies/office/bindings/{binding}")).await.0, 204);
    assert_eq!(
        call(&app, "/items", &[("x-forwarded-for", "198.51.100.9")]).await.status(),
        403,
        "now the group's deny list"
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarded_for_is_ignored() {
    let app = spawn_app().await;
    let (rest, items, _) = shop(&app).await;
    policy(&rest, json!({"name": "local", "type": "ip_access", "config": {"mode": "deny", "cidrs": ["127.0.0.0/8"]}}))
        .await;
    bind(&rest, "local", Some(items)).await;
    assert_eq!(call(&app, "/items", &[("x-forwarded-for", "10.0.0.1")]).await.status(), 403);
}

#[tokio::test]
async fn cors_preflights_and_requests_for_allowed_and_disallowed_origins() {
    let app = spawn_app().await;
    let (rest, items, _) = shop(&app).await;
    policy(&rest, json!({"name": "web", "type": "cors", "config": {"allow_origins": ["https://app.example.com", "https://*.example.org"], "allow_methods": ["GET"], "allow_headers": ["x-token"], "expose_headers": ["x-ca-request-id"], "allow_credentials": false, "max_age_s": 600}})).await;
    bind(&rest, "web", Some(items)).await;
    let client = reqwest::Client::new();
    let preflight = |origin: &'static str, method: &'static str| {
        let client = client.clone();
        let app = &app;
        async move {
            call_with(
                &client,
                app,
                Method::OPTIONS,
                "/items",
                &[
                    ("origin", origin),
                    ("access-control-request-method", method),
                    ("access-control-request-headers", "X-Token"),
                ],
            )
            .await
        }
    };
    // The API's method is GET, yet the gateway answers the OPTIONS preflight itself.
    let allowed = preflight("https://app.example.com", "GET").await;
    assert_eq!(allowed.status(), 204);
    assert_eq!(header(&allowed, "access-control-allow-origin"), Some("https://app.example.com"));
    assert_eq!(header(&allowed, "access-control-allow-methods"), Some("GET"));
    assert_eq!(header(&allowed, "access-control-allow-headers"), Some("x-token"));
    assert_eq!(header(&allowed, "access-control-max-age"), Some("600"));
    let pattern = preflight("https://shop.example.org", "GET").await;
    assert_eq!(header(&pattern, "access-control-allow-origin"), Some("https://shop.example.org"));
    for (origin, method) in
        [("https://evil.example.com", "GET"), ("https://example.org", "GET"), ("https://app.example.com", "DELETE")]
    {
        let refused = preflight(origin, method).await;
        assert_eq!(refused.status(), 204);
        assert_eq!(header(&refused, "access-control-allow-origin"), None, "{origin} {method}");
    }
    // Actual requests.
    let actual = call(&app, "/items", &[("origin", "https://app.example.com")]).await;
    assert_eq!(actual.status(), 200);
    assert_eq!(header(&actual, "access-control-allow-origin"), Some("https://app.example.com"));
    assert_eq!(header(&actual, "access-control-expose-headers"), Some("x-ca-request-id"));
    let other = call(&app, "/items", &[("origin", "https://evil.example.com")]).await;
    assert_eq!((other.status().as_u16(), header(&other, "access-control-allow-origin")), (200, None));
    // An API without a CORS policy: OPTIONS is just a method it does not have.
    let unbound = call_with(
        &client,
        &app,
        Method::OPTIONS,
        "/open",
        &[("origin", "https://app.example.com"), ("access-control-request-method", "GET")],
    )
    .await;
    assert_eq!(unbound.status(), 405);

    // Credentials: the origin is echoed, never `*`.
    let spec = json!({"name": "web", "type": "cors", "config": {"allow_origins": ["https://app.example.com"], "allow_credentials": true}});
    assert_eq!(rest.put("/policies/web", spec).await.0, 200);
    let with_cookies = call(&app, "/items", &[("origin", "https://app.example.com")]).await;
    assert_eq!(header(&with_cookies, "access-control-allow-origin"), Some("https://app.example.com"));
    assert_eq!(header(&with_cookies, "access-control-allow-credentials"), Some("true"));
}

#[tokio::test]
async fn bad_policies_and_bindings_name_the_field_and_conflicts_are_409() {
    let app = spawn_app().await;
    let (rest, items, _) = shop(&app).await;
    let (status, body) = rest
        .post("/policies", json!({"name": "x", "type": "throttling", "config": {"unit": "week", "api_limit": 0}}))
        .await;
    let fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!((status, fields), (422, vec!["config.unit", "config.api_limit"]));
    let (status, body) = rest.post("/policies", json!({"name": "x", "type": "teleport", "config": {}})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = rest
        .post(
            "/policies",
            json!({"name": "x", "type": "cors", "config": {"allow_origins": ["*"], "allow_credentials": true}}),
        )
        .await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("config.allow_origins")));
    policy(&rest, json!({"name": "a", "type": "throttling", "config": {"unit": "second", "api_limit": 100}})).await;
    policy(&rest, json!({"name": "b", "type": "throttling", "config": {"unit": "second", "api_limit": 200}})).await;
    assert_eq!(
        rest.post("/policies", json!({"name": "a", "type": "cors", "config": {"allow_origins": ["*"]}})).await.0,
        422,
        "names are unique"
    );
    bind(&rest, "a", Some(items)).await;
    let (status, body) = rest.post("/policies/b/bindings", json!({"group": "shop", "api": items, "env": "test"})).await;
    assert_eq!(status, 409, "one throttling policy per API and environment: {body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("`a`")), "{body}");
    for (spec, field) in [
        (json!({"group": "nope", "env": "test"}), "group"),
        (json!({"group": "shop", "api": 9999, "env": "test"}), "api"),
        (json!({"group": "shop", "env": "staging"}), "env"),
    ] {
        let (status, body) = rest.post("/policies/b/bindings", spec).await;
        assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some(field)), "{body}");
    }
    let (status, body) =
        rest.put("/policies/a", json!({"name": "a", "type": "cors", "config": {"allow_origins": ["*"]}})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("type")));
    // Deleting a bound policy takes its bindings with it.
    assert_eq!(rest.delete("/policies/a").await.0, 204);
    assert_eq!(rest.get("/groups/shop/policies").await.1, json!([]));
    let (_, listed) = rest.get("/policies").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binding_and_unbinding_take_effect_under_keep_alive_load_with_nothing_failed() {
    let app = spawn_app().await;
    let (rest, items, _) = shop(&app).await;
    policy(&rest, json!({"name": "roomy", "type": "throttling", "config": {"unit": "second", "api_limit": 1000000}}))
        .await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let gateway = app.gateway.clone();
    let loaders: Vec<_> = (0..4)
        .map(|_| {
            let (stop, gateway) = (stop.clone(), gateway.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let (mut ok, mut failed, mut limited) = (0, 0, 0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    match client
                        .get(format!("{gateway}/items"))
                        .header("host", HOST)
                        .header("x-ca-stage", "TEST")
                        .send()
                        .await
                    {
                        Ok(r) if r.status() == 200 => {
                            ok += 1;
                            limited += usize::from(r.headers().contains_key("ratelimit-limit"));
                        }
                        _ => failed += 1,
                    }
                }
                (ok, failed, limited)
            })
        })
        .collect();
    for _ in 0..10 {
        let id = bind(&rest, "roomy", Some(items)).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(rest.delete(&format!("/policies/roomy/bindings/{id}")).await.0, 204);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (mut ok, mut failed, mut limited) = (0, 0, 0);
    for loader in loaders {
        let (o, f, l) = loader.await.expect("loader");
        (ok, failed, limited) = (ok + o, failed + f, limited + l);
    }
    assert_eq!(failed, 0, "{ok} ok, {failed} failed");
    assert!(limited > 0, "some requests ran while the policy was bound ({ok} ok)");
    let after = call(&app, "/items", &[]).await;
    assert_eq!(header(&after, "ratelimit-limit"), None, "unbound: no policy any more");
}
