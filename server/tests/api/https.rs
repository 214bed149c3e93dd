//! HTTPS for callers through the real gateway: certificates per custom domain chosen by SNI
//! (seen from the client's side of the handshake), the default certificate for other names,
//! a certificate replaced under keep-alive traffic, refusals of bad uploads, HTTP/2 by ALPN,
//! and the API's protocol (`https` only refuses plain HTTP; `X-Forwarded-Proto` tells the
//! backend what the caller used).

use crate::helpers::{spawn_app, spawn_app_on, spawn_echo_backend, RestClient, TestApp, ADMIN_PASSWORD};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest::Method;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// A CA and certificates it issues.
struct Authority {
    key: rcgen::KeyPair,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    pem: String,
}

impl Authority {
    fn new() -> Authority {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "Gantry Test CA");
        let cert = params.self_signed(&key).expect("ca");
        let pem = cert.pem();
        let issuer_key = rcgen::KeyPair::from_pem(&key.serialize_pem()).expect("same key");
        Authority { key, issuer: rcgen::Issuer::new(params, issuer_key), pem }
    }

    /// A leaf for `names` valid from yesterday for `days` days: (chain PEM, key PEM, leaf DER).
    fn issue(&self, names: &[&str], days: i64) -> (String, String, Vec<u8>) {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
        params.distinguished_name.push(rcgen::DnType::CommonName, names[0]);
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(days);
        let cert = params.signed_by(&key, &self.issuer).expect("signed");
        let _ = &self.key;
        (format!("{}{}", cert.pem(), self.pem), key.serialize_pem(), cert.der().to_vec())
    }
}

/// Accepts any server certificate: the tests compare what was presented themselves.
#[derive(Debug)]
struct Presented(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for Presented {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A TLS connection to `address` naming `sni`, offering `alpn`; with `ca`, the server
/// certificate is verified against it, else anything is accepted.
pub(crate) async fn connect(address: SocketAddr, sni: &str, alpn: &[&[u8]], ca: Option<&str>) -> TlsStream<TcpStream> {
    let builder =
        rustls::ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions().expect("v");
    let mut config = match ca {
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in rustls_pemfile::certs(&mut pem.as_bytes()) {
                roots.add(cert.expect("pem")).expect("root");
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => {
            builder.dangerous().with_custom_certificate_verifier(Arc::new(Presented(provider()))).with_no_client_auth()
        }
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(address).await.expect("tcp");
    let name = ServerName::try_from(sni.to_owned()).expect("sni");
    tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.expect("handshake")
}

fn leaf(stream: &TlsStream<TcpStream>) -> Vec<u8> {
    stream.get_ref().1.peer_certificates().expect("a certificate")[0].to_vec()
}

fn pem_der(pem: &str) -> Vec<u8> {
    rustls_pemfile::certs(&mut pem.as_bytes()).next().expect("a certificate").expect("pem").to_vec()
}

/// An HTTP/1.1 connection over `tls`.
async fn http1(tls: TlsStream<TcpStream>) -> hyper::client::conn::http1::SendRequest<Empty<Bytes>> {
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.expect("h1");
    tokio::spawn(connection);
    sender
}

async fn get(
    sender: &mut hyper::client::conn::http1::SendRequest<Empty<Bytes>>,
    host: &str,
    path: &str,
) -> (u16, String) {
    let request = http::Request::get(path)
        .header("host", host)
        .header("x-ca-stage", "TEST")
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("response");
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// A group `shop` with the custom domains `hosts`, and `GET /hello` (mock) live in Test.
async fn shop(rest: &RestClient, hosts: &[&str]) {
    rest.create_group("shop").await;
    for host in hosts {
        let (status, body) = rest.post("/groups/shop/domains", json!({"host": host})).await;
        assert_eq!(status, 201, "{body}");
    }
    rest.create_api(
        "shop",
        json!({"name": "Hello", "request": {"method": "GET", "path": "/hello"},
               "backend": {"mock": {"status": 200, "body": "hello over tls"}}}),
    )
    .await;
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "mock"})).await;
}

async fn put_certificate(rest: &RestClient, host: &str, cert: &str, key: &str) -> (u16, serde_json::Value) {
    rest.put(&format!("/groups/shop/domains/{host}/certificate"), json!({"cert_pem": cert, "key_pem": key})).await
}

fn default_certificate(app: &TestApp) -> Vec<u8> {
    pem_der(&std::fs::read_to_string(app.data_dir.join("tls/default.crt")).expect("the default certificate file"))
}

#[tokio::test]
async fn sni_picks_each_domains_certificate_and_the_default_for_other_names() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    shop(&rest, &["a.example.test", "b.example.test"]).await;
    let ca = Authority::new();
    let (a_pem, a_key, a_der) = ca.issue(&["a.example.test"], 90);
    let (b_pem, b_key, b_der) = ca.issue(&["b.example.test", "*.b.example.test"], 10);
    let (status, shown) = put_certificate(&rest, "a.example.test", &a_pem, &a_key).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["sans"], json!(["a.example.test"]));
    assert!(shown["subject"].as_str().expect("subject").contains("a.example.test"), "{shown}");
    assert!(shown["issuer"].as_str().expect("issuer").contains("Gantry Test CA"), "{shown}");
    assert!(shown["not_before"].is_string() && shown["not_after"].is_string(), "{shown}");
    assert_eq!(shown["expiring"], json!(false));
    let (status, shown) = put_certificate(&rest, "b.example.test", &b_pem, &b_key).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["expiring"], json!(true), "10 days left is within the 30-day warning");
    // The metric tells the same, per host, and the default certificate's too.
    app.login_as_admin().await;
    let metrics = app.get("/metrics").await.text().await.expect("metrics");
    assert!(metrics.contains("gantry_certificate_expiry_days{host=\"b.example.test\"} 9"), "{metrics}");
    assert!(metrics.contains("gantry_certificate_expiry_days{host=\"a.example.test\"} 89"), "{metrics}");
    assert!(metrics.contains("gantry_certificate_expiry_days{host=\"*\"}"), "{metrics}");
    // GET shows the same facts, and never the key.
    let (status, got) = rest.get("/groups/shop/domains/a.example.test/certificate").await;
    assert_eq!(status, 200);
    assert_eq!(got["sans"], json!(["a.example.test"]));
    assert!(!got.to_string().contains("PRIVATE KEY"));
    let (_, listed) = rest.get("/groups/shop/domains").await;
    assert!(!listed.to_string().contains("PRIVATE KEY"));
    assert_eq!(listed[0]["certificate"]["sans"], json!(["a.example.test"]), "{listed}");

    // Each name gets its own; anything else, and no SNI at all, the default.
    let tls = app.gateway_tls;
    assert_eq!(leaf(&connect(tls, "a.example.test", &[], None).await), a_der);
    assert_eq!(leaf(&connect(tls, "B.Example.Test", &[], None).await), b_der);
    assert_eq!(leaf(&connect(tls, "shop.localhost", &[], None).await), default_certificate(&app));
    assert_eq!(leaf(&connect(tls, "c.example.test", &[], None).await), default_certificate(&app));
    // A client that checks the chain against the CA is satisfied, and the API answers.
    let mut sender = http1(connect(tls, "a.example.test", &[b"http/1.1"], Some(&ca.pem)).await).await;
    assert_eq!(get(&mut sender, "a.example.test", "/hello").await, (200, "hello over tls".to_owned()));

    // Removed: the host is back on the default certificate.
    let (status, _) = rest.delete("/groups/shop/domains/b.example.test/certificate").await;
    assert_eq!(status, 204);
    assert_eq!(leaf(&connect(tls, "b.example.test", &[], None).await), default_certificate(&app));
    let (status, _) = rest.get("/groups/shop/domains/b.example.test/certificate").await;
    assert_eq!(status, 404);

    // The sealed key opens after a restart on the same data dir (the key file is reused).
    let data_dir = app.data_dir.clone();
    app.stop_keeping_data().await;
    let again = spawn_app_on(&data_dir, ADMIN_PASSWORD).await;
    assert_eq!(leaf(&connect(again.gateway_tls, "a.example.test", &[], None).await), a_der);
    again.stop().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[tokio::test]
async fn bad_uploads_are_refused_at_their_field() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    shop(&rest, &["a.example.test"]).await;
    let ca = Authority::new();
    let (pem, _, _) = ca.issue(&["a.example.test"], 90);
    let (_, other_key, _) = ca.issue(&["a.example.test"], 90);
    let (wrong_pem, wrong_key, _) = ca.issue(&["www.example.org"], 90);
    let (expired_pem, expired_key) = {
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params = rcgen::CertificateParams::new(vec!["a.example.test".to_owned()]).expect("params");
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        (params.self_signed(&key).expect("cert").pem(), key.serialize_pem())
    };
    let field = |body: &serde_json::Value| -> (String, String) {
        let first = &body["errors"][0];
        (first["field"].as_str().unwrap_or("").to_owned(), first["message"].as_str().unwrap_or("").to_owned())
    };
    let (status, body) = put_certificate(&rest, "a.example.test", &pem, &other_key).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(field(&body), ("key_pem".into(), "the private key does not match the certificate".into()));
    // No part of the key comes back in the refusal.
    let key_line = other_key.lines().nth(1).expect("a base64 line");
    assert!(!body.to_string().contains(key_line), "{body}");
    let (status, body) = put_certificate(&rest, "a.example.test", &expired_pem, &expired_key).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(field(&body).0, "cert_pem");
    assert!(field(&body).1.contains("expired on 2021-01-01"), "{body}");
    let (status, body) = put_certificate(&rest, "a.example.test", &wrong_pem, &wrong_key).await;
    assert_eq!(status, 422, "{body}");
    assert!(field(&body).1.contains("does not cover `a.example.test`"), "{body}");
    let (status, body) = put_certificate(&rest, "a.example.test", "junk", "junk").await;
    assert_eq!(status, 422, "{body}");
    // Missing fields, an unknown domain, and no key in the error text either.
    let (status, _) = rest.put("/groups/shop/domains/a.example.test/certificate", json!({"cert_pem": pem})).await;
    assert_eq!(status, 422);
    let (status, _) = put_certificate(&rest, "nope.example.test", &pem, &other_key).await;
    assert_eq!(status, 404);
    // Nothing was stored: the host still gets the default certificate.
    let (status, _) = rest.get("/groups/shop/domains/a.example.test/certificate").await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_certificate_replaced_under_keep_alive_traffic_fails_no_request() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    shop(&rest, &["a.example.test"]).await;
    let ca = Authority::new();
    let (old_pem, old_key, old_der) = ca.issue(&["a.example.test"], 90);
    let (new_pem, new_key, new_der) = ca.issue(&["a.example.test"], 180);
    assert_eq!(put_certificate(&rest, "a.example.test", &old_pem, &old_key).await.0, 200);

    let tls = app.gateway_tls;
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            // Half keep one connection; half open a new one per request.
            let mut kept = None;
            while !stop.load(Ordering::Relaxed) {
                let sender = match (&mut kept, worker % 2) {
                    (Some(sender), 0) => sender,
                    _ => kept.insert(http1(connect(tls, "a.example.test", &[], None).await).await),
                };
                match get(sender, "a.example.test", "/hello").await {
                    (200, _) => ok.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    let held = connect(tls, "a.example.test", &[], None).await;
    assert_eq!(leaf(&held), old_der);
    let mut held = http1(held).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(put_certificate(&rest, "a.example.test", &new_pem, &new_key).await.0, 200);
    // The next handshake sees the new certificate at once.
    assert_eq!(leaf(&connect(tls, "a.example.test", &[], None).await), new_der);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.expect("worker");
    }
    // The connection opened on the old certificate still works.
    assert_eq!(get(&mut held, "a.example.test", "/hello").await.0, 200);
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(ok.load(Ordering::Relaxed) > 20, "only {} requests ran", ok.load(Ordering::Relaxed));
    app.stop().await;
}

#[tokio::test]
async fn http2_is_negotiated_by_alpn_and_runs_the_same_phases() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    shop(&rest, &[]).await;
    let tls = connect(app.gateway_tls, "shop.localhost", &[b"h2", b"http/1.1"], None).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.expect("h2");
    tokio::spawn(connection);
    for (path, status) in [("/hello", 200), ("/nope", 404)] {
        let request = http::Request::get(format!("https://shop.localhost{path}"))
            .header("x-ca-stage", "TEST")
            .body(Empty::<Bytes>::new())
            .expect("request");
        let response = sender.send_request(request).await.expect("response");
        assert_eq!(response.version(), http::Version::HTTP_2);
        assert_eq!(response.status().as_u16(), status, "{path}");
        assert!(response.headers().contains_key("x-ca-request-id"));
    }
    // A client that offers only HTTP/1.1 gets HTTP/1.1.
    let tls = connect(app.gateway_tls, "shop.localhost", &[b"http/1.1"], None).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    app.stop().await;
}

#[tokio::test]
async fn an_https_only_api_refuses_plain_http_and_backends_learn_the_callers_scheme() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let backend = spawn_echo_backend().await;
    rest.create_group("shop").await;
    for (name, path, protocol) in
        [("Secure", "/secure", "https"), ("Either", "/either", "both"), ("Plain", "/plain", "http")]
    {
        rest.create_api(
            "shop",
            json!({"name": name, "request": {"method": "GET", "path": path, "protocol": protocol}}),
        )
        .await;
    }
    let (status, body) = rest
        .post(
            "/groups/shop/apis",
            json!({"name": "Odd", "request": {"method": "GET", "path": "/odd", "protocol": "ftp"}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("request.protocol"), "{body}");
    let (_, api) = rest.get("/groups/shop/apis").await;
    assert!(api.to_string().contains("\"protocol\":\"https\""), "{api}");
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "http", "address": backend})).await;

    let plain = app.call_gateway(Method::GET, "shop.localhost", "TEST", "/secure").await;
    assert_eq!(plain.status(), 403);
    assert_eq!(plain.headers()["x-ca-error-code"], "HttpsRequired");
    let plain = app.call_gateway(Method::GET, "shop.localhost", "TEST", "/either").await;
    assert_eq!(plain.status(), 200);
    let seen: serde_json::Value = plain.json().await.expect("json");
    assert_eq!(seen["headers"]["x-forwarded-proto"], "http");

    let mut sender = http1(connect(app.gateway_tls, "shop.localhost", &[], None).await).await;
    let (status, body) = get(&mut sender, "shop.localhost", "/secure").await;
    assert_eq!(status, 200, "{body}");
    let seen: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(seen["headers"]["x-forwarded-proto"], "https");
    // An HTTP-only API refuses callers over TLS.
    let (status, _) = get(&mut sender, "shop.localhost", "/plain").await;
    assert_eq!(status, 403);
    // A caller's own X-Forwarded-Proto does not pass for TLS.
    let spoofed = reqwest::Client::new()
        .get(format!("{}/secure", app.gateway))
        .header("host", "shop.localhost")
        .header("x-ca-stage", "TEST")
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .expect("request");
    assert_eq!(spoofed.status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn the_https_listener_drops_plain_http_and_silent_connections_and_keeps_serving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = crate::helpers::spawn_app_with(|s| s.header_timeout_s = 1).await;
    let rest = app.rest().await;
    shop(&rest, &[]).await;
    let wait = std::time::Duration::from_secs(5);
    let mut buf = vec![0u8; 4096];
    // Plain HTTP on the TLS port: no HTTP answer, the connection ends.
    let mut plain = TcpStream::connect(app.gateway_tls).await.expect("tcp");
    plain.write_all(b"GET /hello HTTP/1.1\r\nHost: shop.localhost\r\n\r\n").await.expect("write");
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(wait, plain.read(&mut buf)).await.expect("closed promptly") {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    assert!(!String::from_utf8_lossy(&seen).contains("HTTP/1.1"), "{seen:?}");
    // A connection that never starts its handshake is closed by the head clock.
    let mut silent = TcpStream::connect(app.gateway_tls).await.expect("tcp");
    let read = tokio::time::timeout(wait, silent.read(&mut buf)).await.expect("closed by the handshake timeout");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    // The listener still serves.
    let mut sender = http1(connect(app.gateway_tls, "shop.localhost", &[], None).await).await;
    assert_eq!(get(&mut sender, "shop.localhost", "/hello").await.0, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_and_sdks_call_https_only_apis_on_the_https_listener() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    rest.create_group("shop").await;
    for (name, path, protocol) in [("Secure", "/secure", "https"), ("Either", "/either", "both")] {
        rest.create_api(
            "shop",
            json!({"name": name, "request": {"method": "GET", "path": path, "protocol": protocol},
                   "backend": {"mock": {"status": 200, "body": name}}}),
        )
        .await;
    }
    rest.freeze("shop", "1").await;
    rest.release("shop", "test", "1", json!({"type": "mock"})).await;
    let tls_port = app.gateway_tls.port();
    let (status, docs) = rest.send_text(Method::GET, "/groups/shop/docs/test?format=markdown", None).await;
    assert_eq!(status, 200, "{docs}");
    assert!(docs.contains(&format!("https://shop.localhost:{tls_port}/secure")), "{docs}");
    assert!(!docs.contains(&format!("https://shop.localhost:{tls_port}/either")), "{docs}");

    let (status, python) = rest.send_text(Method::GET, "/groups/shop/sdk/test/python", None).await;
    assert_eq!(status, 200, "{python}");
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("shop_sdk.py"), &python).expect("write");
    let script = format!(
        r#"
import ssl, sys
sys.path.insert(0, {dir:?})
from shop_sdk import Client
client = Client(base_url={plain:?}, https_base_url="https://127.0.0.1:{tls_port}", host="shop.localhost",
                ssl_context=ssl._create_unverified_context())
secure, either = client.secure(), client.either()
print(secure.status, secure.body, either.status, either.body)
"#,
        dir = dir.path().display().to_string(),
        plain = app.gateway,
    );
    let output = std::process::Command::new("python3").arg("-c").arg(script).output().expect("python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "200 Secure 200 Either");
    app.stop().await;
}

/// Reads from `tls` until the peer closes it (or 5 s pass), as text.
async fn read_to_close(tls: &mut TlsStream<TcpStream>) -> String {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        match tokio::time::timeout(std::time::Duration::from_secs(5), tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[tokio::test]
async fn https_callers_get_the_plain_listeners_http1_server_pipelining_and_smuggling_refusals_included() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let rest = app.rest().await;
    shop(&rest, &[]).await;
    // Two requests in one write, the second closing: both answered, in order, then the close.
    let mut tls = connect(app.gateway_tls, "shop.localhost", &[b"http/1.1"], None).await;
    let pipelined = "GET /hello HTTP/1.1\r\nHost: shop.localhost\r\nX-Ca-Stage: TEST\r\n\r\n\
                     GET /nope HTTP/1.1\r\nHost: shop.localhost\r\nX-Ca-Stage: TEST\r\nConnection: close\r\n\r\n";
    tls.write_all(pipelined.as_bytes()).await.expect("write");
    let seen = read_to_close(&mut tls).await;
    let first = seen.find("HTTP/1.1 200").expect("the first answered");
    let second = seen.find("HTTP/1.1 404").expect("the second answered");
    assert!(first < second, "{seen}");
    assert!(seen.contains("hello over tls"), "{seen}");
    // Content-Length beside Transfer-Encoding is refused as nginx refuses it (and as the plain
    // listener does), naming what is wrong; the connection closes.
    let mut tls = connect(app.gateway_tls, "shop.localhost", &[], None).await;
    let smuggled = "POST /hello HTTP/1.1\r\nHost: shop.localhost\r\nContent-Length: 5\r\n\
                    Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: shop.localhost\r\n\r\n";
    tls.write_all(smuggled.as_bytes()).await.expect("write");
    let seen = read_to_close(&mut tls).await;
    assert!(seen.starts_with("HTTP/1.1 400"), "{seen}");
    assert!(seen.contains("both Content-Length and Transfer-Encoding"), "{seen}");
    assert_eq!(seen.matches("HTTP/1.1").count(), 1, "nothing after the refusal: {seen}");
    app.stop().await;
}
