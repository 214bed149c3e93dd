//! Apps, authorizations and signed requests through the real gateway. Requests are signed by
//! `tests/support/xca_sign.py`, a second implementation of DESIGN.md's scheme written
//! independently of the gateway's verifier.

use crate::helpers::{spawn_app, spawn_echo_backend, RestClient, TestApp};
use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Stdio};

const HOST: &str = "petstore.localhost";

/// What the Python signer adds to a request.
struct Signed {
    headers: Vec<(String, String)>,
    string_to_sign: String,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

fn nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Signs with the independent Python implementation.
fn python_sign(request: Value) -> Signed {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/xca_sign.py");
    let mut child =
        Command::new("python3").arg(script).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python3 runs");
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("write");
    let output = child.wait_with_output().expect("python3 finishes");
    assert!(output.status.success(), "signer failed");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("signer prints JSON");
    let headers = answer["headers"]
        .as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("text").to_owned()))
        .collect();
    Signed { headers, string_to_sign: answer["string_to_sign"].as_str().expect("text").to_owned() }
}

/// A request to sign and send.
#[derive(Clone)]
struct Call {
    method: &'static str,
    path: &'static str,
    query: Vec<(&'static str, &'static str)>,
    headers: Vec<(&'static str, &'static str)>,
    body: String,
    secret: String,
    key: String,
    timestamp: i64,
    nonce: String,
    algorithm: &'static str,
}

impl Call {
    fn get(path: &'static str, app: &Value) -> Call {
        Call {
            method: "GET",
            path,
            query: vec![],
            headers: vec![("accept", "application/json")],
            body: String::new(),
            secret: app["app_secret"].as_str().expect("secret").to_owned(),
            key: app["app_key"].as_str().expect("key").to_owned(),
            timestamp: now_ms(),
            nonce: nonce(),
            algorithm: "HmacSHA256",
        }
    }

    fn sign(&self) -> Signed {
        python_sign(json!({
            "method": self.method, "path": self.path, "query": self.query,
            "headers": self.headers.iter().cloned().collect::<std::collections::HashMap<_, _>>(),
            "body": self.body, "key": self.key, "secret": self.secret, "timestamp": self.timestamp,
            "nonce": self.nonce, "algorithm": self.algorithm,
        }))
    }

    /// Sends `self` with `signed`'s headers, optionally changing the request after signing.
    async fn send_as(&self, app: &TestApp, signed: &Signed) -> reqwest::Response {
        let url = reqwest::Url::parse_with_params(&format!("{}{}", app.gateway, self.path), &self.query).expect("url");
        let mut request = reqwest::Client::new()
            .request(self.method.parse().expect("method"), url)
            .header("host", HOST)
            .header("x-ca-stage", "TEST")
            .body(self.body.clone());
        for (name, value) in &signed.headers {
            request = request.header(name, value);
        }
        request.send().await.expect("gateway request")
    }

    async fn send(&self, app: &TestApp) -> reqwest::Response {
        self.send_as(app, &self.sign()).await
    }
}

/// A signed GET of `path` to petstore's Test stage as `web`, with a fresh nonce.
pub(crate) async fn signed_get(app: &TestApp, web: &Value, path: &'static str) -> reqwest::Response {
    Call::get(path, web).send(app).await
}

fn code(response: &reqwest::Response) -> String {
    response.headers().get("x-ca-error-code").map(|v| v.to_str().expect("ascii").to_owned()).unwrap_or_default()
}

/// A group with three `auth = app` APIs (a GET with a query, a form POST, a JSON POST)
/// released to Test against the echo backend, and app `web` authorized for all three there.
pub(crate) async fn signed_petstore(app: &TestApp) -> (RestClient, Value, Vec<i64>) {
    let backend = spawn_echo_backend().await;
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    let mut ids = Vec::new();
    for (name, method, path) in [("Pets", "GET", "/pets"), ("Form", "POST", "/form"), ("Json", "POST", "/json")] {
        let spec = json!({"name": name, "auth": "app", "request": {"method": method, "path": path}});
        ids.push(i64::from(rest.create_api("petstore", spec).await.id));
    }
    rest.freeze("petstore", "1").await;
    rest.release("petstore", "test", "1", json!({"type": "http", "address": backend})).await;
    let (status, web) = rest.post("/apps", json!({"name": "web"})).await;
    assert_eq!(status, 201, "{web}");
    let grant = json!({"group": "petstore", "apis": ids, "env": "test"});
    let (status, body) = rest.post("/apps/web/authorizations", grant).await;
    assert_eq!(status, 201, "{body}");
    (rest, web, ids)
}

#[tokio::test]
async fn signed_requests_are_accepted_and_every_tampering_is_refused_with_its_code() {
    let app = spawn_app().await;
    let (_rest, web, _) = signed_petstore(&app).await;

    let mut call = Call::get("/pets", &web);
    call.query = vec![("b", "2"), ("a", ""), ("c", "x y")];
    call.headers.push(("x-ca-custom", "one"));
    let response = call.send(&app).await;
    assert_eq!(response.status(), 200, "{:?}", response.headers());
    let echoed: Value = response.json().await.expect("json");
    assert!(echoed["headers"].get("x-ca-signature").is_none(), "the signature does not reach the backend");
    assert_eq!(echoed["headers"]["x-ca-custom"], "one");

    let mut sha1 = Call::get("/pets", &web);
    sha1.algorithm = "HmacSHA1";
    assert_eq!(sha1.send(&app).await.status(), 200);

    // Wrong secret: 401, and the server's StringToSign (newlines as `#`) equals the client's.
    let mut wrong = Call::get("/pets", &web);
    wrong.secret = "not-the-secret".into();
    let signed = wrong.sign();
    let response = wrong.send_as(&app, &signed).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidSignature".into()));
    let message = response.headers()["x-ca-error-message"].to_str().expect("ascii").to_owned();
    assert!(message.contains(&signed.string_to_sign.replace('\n', "#")), "{message}");
    assert!(!message.contains(&web["app_secret"].as_str().expect("secret")[..8]), "never the secret");

    // Tampered query.
    let mut tampered = Call::get("/pets", &web);
    tampered.query = vec![("a", "1")];
    let signed = tampered.sign();
    tampered.query = vec![("a", "2")];
    let response = tampered.send_as(&app, &signed).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidSignature".into()));

    // Tampered signed header.
    let mut header = Call::get("/pets", &web);
    header.headers.push(("x-ca-custom", "one"));
    let mut signed = header.sign();
    for (name, value) in signed.headers.iter_mut() {
        if name == "x-ca-custom" {
            *value = "two".into();
        }
    }
    let response = header.send_as(&app, &signed).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidSignature".into()));

    // Stale timestamp.
    let mut stale = Call::get("/pets", &web);
    stale.timestamp = now_ms() - 16 * 60 * 1000;
    let response = stale.send(&app).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidTimestamp".into()));

    // Replayed nonce.
    let once = Call::get("/pets", &web);
    let signed = once.sign();
    assert_eq!(once.send_as(&app, &signed).await.status(), 200);
    let replay = once.send_as(&app, &signed).await;
    assert_eq!((replay.status().as_u16(), code(&replay)), (401, "InvalidNonce".into()));

    // Unknown key, no credentials.
    let mut unknown = Call::get("/pets", &web);
    unknown.key = "nobody".into();
    let response = unknown.send(&app).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidAppKey".into()));
    let response = app.call_gateway(reqwest::Method::GET, HOST, "TEST", "/pets").await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "MissingCredentials".into()));
}

#[tokio::test]
async fn form_fields_are_signed_and_json_bodies_are_covered_by_content_md5() {
    let app = spawn_app().await;
    let (_rest, web, _) = signed_petstore(&app).await;

    let mut form = Call::get("/form", &web);
    form.method = "POST";
    form.headers.push(("content-type", "application/x-www-form-urlencoded"));
    form.body = "name=rex&tag=".into();
    let response = form.send(&app).await;
    assert_eq!(response.status(), 200, "{:?}", response.headers());
    let echoed: Value = response.json().await.expect("json");
    assert_eq!(echoed["body"], "name=rex&tag=", "the body reaches the backend untouched");
    let signed = form.sign();
    form.body = "name=max&tag=".into();
    let response = form.send_as(&app, &signed).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidSignature".into()));

    let mut body = Call::get("/json", &web);
    body.method = "POST";
    body.headers.push(("content-type", "application/json"));
    body.body = r#"{"name":"rex"}"#.into();
    let response = body.send(&app).await;
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.expect("json");
    assert_eq!(echoed["body"], r#"{"name":"rex"}"#);
    let signed = body.sign();
    body.body = r#"{"name":"max"}"#.into();
    let response = body.send_as(&app, &signed).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidContentMD5".into()));
}

#[tokio::test]
async fn only_enabled_apps_authorized_in_time_may_call_and_appcodes_work_too() {
    let app = spawn_app().await;
    let (rest, web, ids) = signed_petstore(&app).await;

    // AppCode.
    let code_of = |v: &Value| v["app_code"].as_str().expect("code").to_owned();
    let with_code = |code: String| {
        reqwest::Client::new()
            .get(format!("{}/pets", app.gateway))
            .header("host", HOST)
            .header("x-ca-stage", "TEST")
            .header("authorization", format!("APPCODE {code}"))
            .send()
    };
    let response = with_code(code_of(&web)).await.expect("send");
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.expect("json");
    assert!(echoed["headers"].get("authorization").is_none(), "the AppCode does not reach the backend");
    let response = with_code("wrong".into()).await.expect("send");
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidAppCode".into()));

    // AppCode in the query string (Alibaba's "Header & Query"), the default: it counts, and
    // the backend never sees it, while the caller's other parameters go on.
    let in_query = |code: &str| {
        reqwest::Client::new()
            .get(format!("{}/pets?AppCode={code}&tag=red", app.gateway))
            .header("host", HOST)
            .header("x-ca-stage", "TEST")
            .send()
    };
    let response = in_query(&code_of(&web)).await.expect("send");
    assert_eq!(response.status(), 200);
    let echoed: Value = response.json().await.expect("json");
    assert_eq!(echoed["query"], "tag=red", "the AppCode does not reach the backend: {echoed}");
    let response = in_query("wrong").await.expect("send");
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidAppCode".into()));
    // An API that takes the header only: the query parameter is no credential.
    let (_, pets) = rest.get(&format!("/groups/petstore/apis/{}", ids[0])).await;
    let mut header_only = pets.clone();
    header_only["appcode"] = json!("header");
    let (status, saved) = rest.put(&format!("/groups/petstore/apis/{}", ids[0]), header_only).await;
    assert_eq!((status, saved["appcode"].as_str()), (200, Some("header")), "{saved}");
    rest.freeze("petstore", "2").await;
    rest.release("petstore", "test", "2", json!({"type": "http", "address": spawn_echo_backend().await})).await;
    let response = in_query(&code_of(&web)).await.expect("send");
    assert_eq!((response.status().as_u16(), code(&response)), (401, "MissingCredentials".into()));
    assert_eq!(with_code(code_of(&web)).await.expect("send").status(), 200, "the header still works");
    // A careless value is refused by name.
    let mut careless = pets.clone();
    careless["appcode"] = json!("query");
    let (status, refused) = rest.put(&format!("/groups/petstore/apis/{}", ids[0]), careless).await;
    assert!(status == 400 || status == 422, "{status} {refused}");
    assert!(refused.to_string().contains("appcode"), "{refused}");

    // An app without an authorization for this API.
    let (_, other) = rest.post("/apps", json!({"name": "other"})).await;
    let response = Call::get("/pets", &other).send(&app).await;
    assert_eq!((response.status().as_u16(), code(&response)), (403, "Unauthorized".into()));

    // An authorization with an expiry lets the app in until then (when it stops is tested
    // with an injected clock in gateway::phases::auth, and the instant reaching the gateway
    // in control::apps).
    let expires = chrono::Utc::now() + chrono::Duration::hours(1);
    let grant = json!({"group": "petstore", "apis": [ids[0]], "env": "test", "expires_at": expires.to_rfc3339()});
    assert_eq!(rest.post("/apps/other/authorizations", grant).await.0, 201);
    assert_eq!(Call::get("/pets", &other).send(&app).await.status(), 200);
    let (_, listed) = rest.get("/apps/other/authorizations").await;
    assert_eq!(listed[0]["expired"], false, "{listed}");

    // A disabled app.
    let (status, _) = rest.send(reqwest::Method::PATCH, "/apps/web", Some(json!({"enabled": false}))).await;
    assert_eq!(status, 200);
    let response = Call::get("/pets", &web).send(&app).await;
    assert_eq!((response.status().as_u16(), code(&response)), (403, "AppDisabled".into()));
    rest.send(reqwest::Method::PATCH, "/apps/web", Some(json!({"enabled": true}))).await;

    // Reset secret: the old one fails at once, the new one works.
    let (status, reset) = rest.post("/apps/web/reset-secret", json!({})).await;
    assert_eq!(status, 200);
    let response = Call::get("/pets", &web).send(&app).await;
    assert_eq!((response.status().as_u16(), code(&response)), (401, "InvalidSignature".into()));
    assert_eq!(Call::get("/pets", &reset).send(&app).await.status(), 200);
    let (_, shown) = rest.get("/apps/web").await;
    assert!(shown.get("app_secret").is_none(), "the secret is shown only when asked for");
    let (_, revealed) = rest.get("/apps/web?reveal=true").await;
    assert_eq!(revealed["app_secret"], reset["app_secret"]);

    // Revoke.
    let (_, grants) = rest.get("/apps/web/authorizations").await;
    assert_eq!(grants.as_array().expect("list").len(), 3);
    let (_, by_api) = rest.get(&format!("/groups/petstore/apis/{}/authorizations", ids[0])).await;
    assert_eq!(by_api.as_array().expect("list").len(), 2, "{by_api}");
    let pets = grants.as_array().expect("list").iter().find(|g| g["api_name"] == "Pets").expect("Pets");
    assert_eq!(rest.delete(&format!("/apps/web/authorizations/{}", pets["id"])).await.0, 204);
    let response = Call::get("/pets", &reset).send(&app).await;
    assert_eq!((response.status().as_u16(), code(&response)), (403, "Unauthorized".into()));
}

#[tokio::test]
async fn mock_backends_skip_app_authentication_and_bad_input_names_the_field() {
    let app = spawn_app().await;
    let (rest, _web, _) = signed_petstore(&app).await;
    let release = json!({"version": "1", "backend": {"type": "mock"}});
    assert_eq!(rest.put("/groups/petstore/deployments/prod", release).await.0, 200);
    let response = app.call_gateway(reqwest::Method::GET, HOST, "RELEASE", "/pets").await;
    assert_eq!(response.status(), 200, "mock answers without credentials");

    let (status, body) = rest.post("/apps", json!({"name": "bad name"})).await;
    assert_eq!((status, body["errors"][0]["field"].as_str()), (422, Some("name")));
    let grant = json!({"group": "petstore", "apis": [], "env": "qa"});
    let (status, body) = rest.post("/apps/web/authorizations", grant).await;
    assert_eq!(status, 422);
    let fields: Vec<&str> =
        body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields, ["apis", "env"]);
    assert_eq!(rest.get("/apps/nobody").await.0, 404);
}

/// `POST /groups/{g}/apis/{id}/authorizations`: several apps in one transaction; one
/// unknown app and none is authorized; each authorized app calls with its AppCode at once.
#[tokio::test]
async fn apps_are_authorized_from_the_api_all_or_none() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("petstore").await;
    // A real backend: a Mock answers before authentication.
    let echo = spawn_echo_backend().await;
    let api = rest
        .create_api(
            "petstore",
            json!({"name": "Secure", "auth": "app", "request": {"method": "GET", "path": "/secure"},
                "backend": {"unified": false, "type": "http", "http": {"address": echo, "path": "/secure"}}}),
        )
        .await;
    rest.freeze("petstore", "1").await;
    rest.release("petstore", "test", "1", json!({"type": "mock"})).await;
    let mut codes = Vec::new();
    for name in ["web", "mobile"] {
        assert_eq!(rest.post("/apps", json!({"name": name})).await.0, 201);
        let (_, view) = rest.get(&format!("/apps/{name}?reveal=true")).await;
        codes.push(view["app_code"].as_str().expect("code").to_owned());
    }
    let call = |code: String| {
        let gateway = app.gateway.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{gateway}/secure"))
                .header("host", HOST)
                .header("x-ca-stage", "TEST")
                .header("authorization", format!("APPCODE {code}"))
                .send()
                .await
                .expect("gateway")
                .status()
                .as_u16()
        }
    };
    let path = format!("/groups/petstore/apis/{}/authorizations", api.id);
    // All or none: a ghost among them refuses the lot, naming the field.
    let (status, answer) = rest.post(&path, json!({"apps": ["web", "ghost"], "env": "test"})).await;
    assert_eq!((status, answer["errors"][0]["field"].clone()), (422, json!("apps")), "{answer}");
    assert_eq!(call(codes[0].clone()).await, 403, "web was not authorized by the refused call");
    for bad in [
        json!({"apps": [], "env": "test"}),
        json!({"apps": ["web"], "env": "staging"}),
        json!({"apps": ["web"], "env": "test", "expires_at": "soon"}),
    ] {
        let (status, answer) = rest.post(&path, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {answer}");
    }
    let (status, granted) = rest.post(&path, json!({"apps": ["web", "mobile"], "env": "test"})).await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted.as_array().expect("list").len(), 2, "{granted}");
    assert_eq!(call(codes[0].clone()).await, 200);
    assert_eq!(call(codes[1].clone()).await, 200);
    // Granting again replaces the expiry, not a second row; another group's API is a 404.
    let (status, granted) =
        rest.post(&path, json!({"apps": ["web"], "env": "test", "expires_at": "2031-01-01T00:00:00Z"})).await;
    assert_eq!((status, granted.as_array().map(Vec::len)), (200, Some(2)), "{granted}");
    assert_eq!(
        rest.post("/groups/petstore/apis/987654/authorizations", json!({"apps": ["web"], "env": "test"})).await.0,
        404
    );
    // A viewer is refused before the body is read.
    assert_eq!(
        rest.post("/users", json!({"username": "val", "password": "long enough password", "role": "viewer"})).await.0,
        201
    );
    let viewer = RestClient::new(&app.console, &app.control.create_token("v", "val").await.expect("token"));
    assert_eq!(viewer.post(&path, json!({"apps": ["web"], "env": "test"})).await.0, 403);
}
