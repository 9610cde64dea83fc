//! Small real servers on 127.0.0.1 standing in for Amazon and for exit proxies, and the
//! helpers the tests share.

use asa_model::{Asin, Marketplace, SortBy};
use asa_upstream::{FetchRequest, FetchTarget, Judge, Outcome, UpstreamConfig, Verdict};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// The marker a test page carries to be read as a challenge by [`TextJudge`].
pub const CAPTCHA: &str = "<title>Robot Check</title> captcha-page";
pub const AMAZON_503: &str = "<title>Sorry! Something went wrong!</title> amazon-503-page";

/// Reads test pages by marker: a challenge or an Amazon error page is retried, anything
/// else is accepted as its text.
pub struct TextJudge;

impl Judge for TextJudge {
    type Output = String;
    fn judge(&self, _status: u16, _final_url: &str, body: &[u8]) -> Verdict<String> {
        let text = String::from_utf8_lossy(body).into_owned();
        if text.contains("captcha-page") {
            Verdict::Retry {
                outcome: Outcome::Captcha,
                value: text,
            }
        } else if text.contains("amazon-503-page") {
            Verdict::Retry {
                outcome: Outcome::Amazon503,
                value: text,
            }
        } else {
            Verdict::Accept(text)
        }
    }
}

pub fn judge() -> Arc<TextJudge> {
    Arc::new(TextJudge)
}

/// Serves `router` on a fresh port.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_on(listener, router)
}

pub fn serve_on(listener: TcpListener, router: Router) -> SocketAddr {
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}

/// A port bound but not listening: every connection to it is refused, and no other test
/// can take it. `listen()` on the socket later brings it to life.
pub fn refusing_socket() -> (TcpSocket, SocketAddr) {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = socket.local_addr().unwrap();
    (socket, addr)
}

/// Serves each connection with `handle`, speaking raw TCP (for resets and cut bodies).
pub async fn raw<F, Fut>(handle: F) -> SocketAddr
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(handle(stream));
        }
    });
    addr
}

/// Reads a request head (up to the blank line) from a raw connection.
pub async fn read_head(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

pub async fn write_all(stream: &mut TcpStream, bytes: &[u8]) {
    let _ = stream.write_all(bytes).await;
    let _ = stream.flush().await;
}

/// One request a test proxy forwarded.
#[derive(Debug, Clone)]
pub struct Seen {
    pub proxy: String,
    pub uri: String,
    pub proxy_authorization: Option<String>,
}

pub type Log = Arc<Mutex<Vec<Seen>>>;

#[derive(Clone)]
struct ProxyState {
    name: String,
    log: Log,
    require_auth: Option<String>,
    client: reqwest::Client,
}

/// A plain HTTP forward proxy named `name` that logs what it forwards into `log`. With
/// `require_auth` (a whole `Proxy-Authorization` value), anything else gets a 407.
pub fn proxy_on(
    listener: TcpListener,
    name: &str,
    log: &Log,
    require_auth: Option<&str>,
) -> SocketAddr {
    let state = ProxyState {
        name: name.to_string(),
        log: log.clone(),
        require_auth: require_auth.map(str::to_string),
        // Hands bodies through as they came: no decoding, no redirect following.
        client: reqwest::Client::builder()
            .no_proxy()
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
    };
    serve_on(listener, Router::new().fallback(forward).with_state(state))
}

pub async fn proxy(name: &str, log: &Log) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    proxy_on(listener, name, log, None)
}

async fn forward(State(st): State<ProxyState>, req: Request) -> Response {
    let uri = req.uri().to_string();
    let auth = req
        .headers()
        .get("proxy-authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    st.log.lock().unwrap().push(Seen {
        proxy: st.name.clone(),
        uri: uri.clone(),
        proxy_authorization: auth.clone(),
    });
    if st.require_auth.is_some() && auth != st.require_auth {
        return StatusCode::PROXY_AUTHENTICATION_REQUIRED.into_response();
    }
    let mut out = st.client.request(req.method().clone(), &uri);
    for (name, value) in req.headers() {
        if !matches!(
            name.as_str(),
            "host" | "proxy-authorization" | "proxy-connection" | "connection"
        ) {
            out = out.header(name, value);
        }
    }
    let Ok(answer) = out.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = answer.status();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !matches!(name.as_str(), "transfer-encoding" | "connection") {
            headers.append(name.clone(), value.clone());
        }
    }
    let body = answer.bytes().await.unwrap_or_default();
    (status, headers, Body::from(body)).into_response()
}

/// Who saw what, in order.
pub fn seen_by(log: &Log) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .map(|s| s.proxy.clone())
        .collect()
}

/// A config for tests: the storefront at `origin`, short backoff, generous timeouts.
pub fn config(origin: SocketAddr) -> UpstreamConfig {
    UpstreamConfig {
        url_template: format!("http://{origin}/amazon.{{domain}}"),
        overall_timeout: Duration::from_secs(20),
        attempt_timeout: Duration::from_secs(10),
        backoff_base: Duration::from_millis(5),
        backoff_cap: Duration::from_millis(20),
        ..UpstreamConfig::default()
    }
}

pub fn pools(entries: &[(&str, Vec<String>)]) -> HashMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub fn product(marketplace: Marketplace, asin: &str) -> FetchRequest {
    FetchRequest {
        request_id: "req_0123456789ab".into(),
        marketplace,
        target: FetchTarget::Product {
            asin: Asin::parse(asin).unwrap(),
        },
        language: String::new(),
        country: String::new(),
    }
}

pub fn search(marketplace: Marketplace, query: &str, page: u32, sort: SortBy) -> FetchRequest {
    FetchRequest {
        target: FetchTarget::Search {
            query: query.into(),
            page,
            sort,
        },
        ..product(marketplace, "B000000001")
    }
}

/// A SOCKS5 proxy named `name` (RFC 1928, with RFC 1929 username/password when `auth` is
/// given) that logs each CONNECT target and the username it was given.
pub async fn socks5(name: &str, log: &Log, auth: Option<(&str, &str)>) -> SocketAddr {
    let name = name.to_string();
    let log = log.clone();
    let auth = auth.map(|(u, p)| (u.to_string(), p.to_string()));
    raw(move |stream| socks5_session(stream, name.clone(), log.clone(), auth.clone())).await
}

async fn socks5_session(mut s: TcpStream, name: String, log: Log, auth: Option<(String, String)>) {
    let mut head = [0u8; 2];
    if s.read_exact(&mut head).await.is_err() || head[0] != 5 {
        return;
    }
    let mut methods = vec![0u8; head[1] as usize];
    if s.read_exact(&mut methods).await.is_err() {
        return;
    }
    let method = if auth.is_some() { 2 } else { 0 };
    if !methods.contains(&method) {
        write_all(&mut s, &[5, 0xff]).await;
        return;
    }
    write_all(&mut s, &[5, method]).await;
    let mut user = None;
    if let Some((want_user, want_pass)) = &auth {
        let mut ver_len = [0u8; 2];
        let _ = s.read_exact(&mut ver_len).await;
        let mut u = vec![0u8; ver_len[1] as usize];
        let _ = s.read_exact(&mut u).await;
        let mut plen = [0u8; 1];
        let _ = s.read_exact(&mut plen).await;
        let mut p = vec![0u8; plen[0] as usize];
        let _ = s.read_exact(&mut p).await;
        let ok = u == want_user.as_bytes() && p == want_pass.as_bytes();
        write_all(&mut s, &[1, if ok { 0 } else { 1 }]).await;
        if !ok {
            return;
        }
        user = Some(String::from_utf8_lossy(&u).into_owned());
    }
    let mut req = [0u8; 4];
    if s.read_exact(&mut req).await.is_err() || req[1] != 1 {
        return;
    }
    let host = match req[3] {
        1 => {
            let mut ip = [0u8; 4];
            let _ = s.read_exact(&mut ip).await;
            std::net::Ipv4Addr::from(ip).to_string()
        }
        3 => {
            let mut len = [0u8; 1];
            let _ = s.read_exact(&mut len).await;
            let mut host = vec![0u8; len[0] as usize];
            let _ = s.read_exact(&mut host).await;
            String::from_utf8_lossy(&host).into_owned()
        }
        _ => return,
    };
    let mut port = [0u8; 2];
    let _ = s.read_exact(&mut port).await;
    let target = format!("{host}:{}", u16::from_be_bytes(port));
    log.lock().unwrap().push(Seen {
        proxy: name,
        uri: target.clone(),
        proxy_authorization: user,
    });
    let Ok(mut upstream) = TcpStream::connect(&target).await else {
        write_all(&mut s, &[5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).await;
        return;
    };
    write_all(&mut s, &[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await;
    let _ = tokio::io::copy_bidirectional(&mut s, &mut upstream).await;
}

/// An HTTP proxy for HTTPS targets: it logs each `CONNECT` and, when `allow`, opens the
/// tunnel; otherwise it answers 403.
pub async fn tunnel_proxy(name: &str, log: &Log, allow: bool) -> SocketAddr {
    let name = name.to_string();
    let log = log.clone();
    raw(move |mut s| {
        let (name, log) = (name.clone(), log.clone());
        async move {
            let head = read_head(&mut s).await;
            let mut words = head.split_whitespace();
            let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
            log.lock().unwrap().push(Seen {
                proxy: name,
                uri: format!("{method} {target}"),
                proxy_authorization: None,
            });
            if !allow || method != "CONNECT" {
                write_all(
                    &mut s,
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
                return;
            }
            let Ok(mut upstream) = TcpStream::connect(target).await else {
                write_all(
                    &mut s,
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n",
                )
                .await;
                return;
            };
            write_all(&mut s, b"HTTP/1.1 200 Connection established\r\n\r\n").await;
            let _ = tokio::io::copy_bidirectional(&mut s, &mut upstream).await;
        }
    })
    .await
}
