//! WebSocket APIs through the real gateway: an AppCode-authenticated upgrade is piped both
//! ways to a real WebSocket backend (plain and over the HTTPS listener), an unauthenticated
//! upgrade is refused, a plain request to a WebSocket API is refused, and a quiet socket is
//! closed after the API's idle timeout.

use crate::helpers::{spawn_app, RestClient};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A WebSocket backend on port 0 that answers each text message with `echo:` + it, and says
/// which `X-Forwarded-Proto` the upgrade came with as its first message.
async fn spawn_ws_backend() -> String {
    use axum::extract::ws::{Message as AxumMessage, WebSocket, WebSocketUpgrade};
    use axum::http::HeaderMap;
    async fn upgrade(ws: WebSocketUpgrade, headers: HeaderMap) -> axum::response::Response {
        let proto = headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()).unwrap_or("-").to_owned();
        ws.on_upgrade(move |mut socket: WebSocket| async move {
            let _ = socket.send(AxumMessage::Text(format!("proto:{proto}").into())).await;
            while let Some(Ok(message)) = socket.recv().await {
                match message {
                    AxumMessage::Text(text) => {
                        if socket.send(AxumMessage::Text(format!("echo:{text}").into())).await.is_err() {
                            break;
                        }
                    }
                    AxumMessage::Close(_) => break,
                    _ => {}
                }
            }
        })
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route("/chat", axum::routing::get(upgrade));
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

/// Group `live` with the WebSocket API `Chat` (`auth: app`, idle 1 s) live in Test, and
/// an app authorized for it; returns the app's AppCode.
async fn chat(rest: &RestClient) -> String {
    let backend = spawn_ws_backend().await;
    rest.create_group("live").await;
    let spec = json!({"name": "Chat", "auth": "app",
                      "request": {"method": "GET", "path": "/chat", "websocket": true, "websocket_idle_s": 1}});
    let id = rest.create_api("live", spec).await.id;
    rest.freeze("live", "1").await;
    rest.release("live", "test", "1", json!({"type": "http", "address": backend})).await;
    let (status, app) = rest.post("/apps", json!({"name": "chatter"})).await;
    assert_eq!(status, 201, "{app}");
    let grant = json!({"group": "live", "apis": [id], "env": "test"});
    assert_eq!(rest.post("/apps/chatter/authorizations", grant).await.0, 201);
    app["app_code"].as_str().expect("app code").to_owned()
}

fn upgrade_request(url: &str, app_code: Option<&str>) -> http::Request<()> {
    let mut request = url.into_client_request().expect("request");
    let headers = request.headers_mut();
    headers.insert("host", "live.localhost".parse().expect("host"));
    headers.insert("x-ca-stage", "TEST".parse().expect("stage"));
    if let Some(code) = app_code {
        headers.insert("authorization", format!("APPCODE {code}").parse().expect("code"));
    }
    request
}

async fn next_text<S>(socket: &mut S) -> String
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    match tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("a message in time") {
        Some(Ok(Message::Text(text))) => text.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

#[tokio::test]
async fn an_authenticated_upgrade_is_piped_both_ways_and_a_quiet_socket_is_closed() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let code = chat(&rest).await;
    let address = app.gateway.trim_start_matches("http://").to_owned();
    let tcp = tokio::net::TcpStream::connect(&address).await.expect("tcp");
    let (mut socket, response) =
        tokio_tungstenite::client_async(upgrade_request(&format!("ws://{address}/chat"), Some(&code)), tcp)
            .await
            .expect("upgraded");
    assert_eq!(response.status(), 101);
    assert!(response.headers().contains_key("x-ca-request-id"));
    assert_eq!(next_text(&mut socket).await, "proto:http");
    for word in ["one", "two", "three"] {
        socket.send(Message::Text(word.into())).await.expect("send");
        assert_eq!(next_text(&mut socket).await, format!("echo:{word}"));
    }
    // Quiet for longer than the API's 1 s idle timeout: the gateway closes the socket.
    let ended = tokio::time::timeout(Duration::from_secs(5), socket.next()).await.expect("closed in time");
    assert!(matches!(ended, None | Some(Err(_)) | Some(Ok(Message::Close(_)))), "{ended:?}");
    app.stop().await;
}

#[tokio::test]
async fn an_upgrade_over_the_https_listener_works_and_refusals_are_clear() {
    let app = spawn_app().await;
    let rest = app.rest().await;
    let code = chat(&rest).await;

    // Over TLS (any certificate accepted: this checks the pipe, not the chain).
    let tls = crate::https::connect(app.gateway_tls, "live.localhost", &[b"http/1.1"], None).await;
    let (mut socket, _) =
        tokio_tungstenite::client_async(upgrade_request("ws://live.localhost/chat", Some(&code)), tls)
            .await
            .expect("upgraded over TLS");
    assert_eq!(next_text(&mut socket).await, "proto:https");
    socket.send(Message::Text("secure".into())).await.expect("send");
    assert_eq!(next_text(&mut socket).await, "echo:secure");
    drop(socket);

    // No AppCode: refused before the backend sees anything.
    let address = app.gateway.trim_start_matches("http://").to_owned();
    let tcp = tokio::net::TcpStream::connect(&address).await.expect("tcp");
    match tokio_tungstenite::client_async(upgrade_request(&format!("ws://{address}/chat"), None), tcp).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401);
            assert_eq!(response.headers()["x-ca-error-code"], "MissingCredentials");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|(_, r)| r.status())),
    }
    // A plain request to a WebSocket API is refused, naming what is missing.
    let plain = reqwest::Client::new()
        .get(format!("{}/chat", app.gateway))
        .header("host", "live.localhost")
        .header("x-ca-stage", "TEST")
        .header("authorization", format!("APPCODE {code}"))
        .send()
        .await
        .expect("request");
    assert_eq!(plain.status(), 400);
    let body: Value = plain.json().await.expect("json");
    assert!(body["message"].as_str().unwrap_or("").contains("Upgrade: websocket"), "{body}");
    // A WebSocket API must be a GET.
    let (status, body) = rest
        .post(
            "/groups/live/apis",
            json!({"name": "Bad", "request": {"method": "POST", "path": "/bad", "websocket": true}}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("request.method"), "{body}");
    app.stop().await;
}
