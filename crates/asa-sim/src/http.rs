//! A small HTTP/1.1 server over raw sockets. Hand-written rather than hyper so faults can
//! be real at the socket level: a reset without a response, a body shorter than its
//! Content-Length. One task per connection, keep-alive, absolute-form (proxy) targets.

use crate::fingerprint::ConnectionPrint;
use crate::handler::{Action, App, Request, Response, DRIP_PIECES};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

/// A client connection the HTTP/1.1 server can answer on: plain TCP or TLS over TCP.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send {
    /// Makes the coming close a TCP RST.
    fn arm_reset(&self);
}

impl Conn for TcpStream {
    fn arm_reset(&self) {
        // SO_LINGER 0 turns the close into a TCP RST.
        let _ = socket2::SockRef::from(self).set_linger(Some(Duration::ZERO));
    }
}

/// Largest request head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// How long an idle keep-alive connection is kept.
const IDLE: Duration = Duration::from_secs(120);

struct Head {
    request: Request,
    len: usize,
    body_len: usize,
    keep_alive: bool,
}

enum Parse {
    Complete(Head),
    Partial,
    Invalid,
}

fn parse(buf: &[u8]) -> Parse {
    let mut headers = [httparse::EMPTY_HEADER; 96];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let version = req.version.unwrap_or(1);
            let headers: Vec<(String, String)> = req
                .headers
                .iter()
                .map(|h| {
                    (
                        h.name.to_string(),
                        String::from_utf8_lossy(h.value).into_owned(),
                    )
                })
                .collect();
            let request = Request {
                method: req.method.unwrap_or("GET").to_string(),
                target: req.path.unwrap_or("/").to_string(),
                headers,
            };
            let connection = request
                .header("connection")
                .or_else(|| request.header("proxy-connection"))
                .unwrap_or("")
                .to_ascii_lowercase();
            let keep_alive = if version == 0 {
                connection.contains("keep-alive")
            } else {
                !connection.contains("close")
            };
            if request.header("transfer-encoding").is_some() {
                return Parse::Invalid;
            }
            let body_len = match request
                .header("content-length")
                .map(|v| v.trim().parse::<usize>())
            {
                Some(Ok(n)) => n,
                Some(Err(_)) => return Parse::Invalid,
                None => 0,
            };
            Parse::Complete(Head {
                request,
                len,
                body_len,
                keep_alive,
            })
        }
        Ok(httparse::Status::Partial) => Parse::Partial,
        Err(_) => Parse::Invalid,
    }
}

/// Serves one connection until the client closes it, it idles out, or the simulator
/// shuts down between two requests.
pub async fn serve_connection(
    stream: TcpStream,
    exit: Arc<str>,
    app: Arc<App>,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    serve_http1(stream, exit, app, shutdown, None, Vec::new()).await
}

/// Serves HTTP/1.1 on `stream`, starting with the bytes already read in `buf`; `print`
/// is the client's fingerprint when the connection came in over TLS.
pub(crate) async fn serve_http1<S: Conn>(
    mut stream: S,
    exit: Arc<str>,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
    print: Option<Arc<ConnectionPrint>>,
    mut buf: Vec<u8>,
) {
    buf.reserve(4096);
    loop {
        let head = loop {
            match parse(&buf) {
                Parse::Complete(h) => break h,
                Parse::Invalid => {
                    let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                    return;
                }
                Parse::Partial if buf.len() > MAX_HEAD => {
                    let _ = stream.write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                    return;
                }
                Parse::Partial => {}
            }
            if *shutdown.borrow() && buf.is_empty() {
                return;
            }
            tokio::select! {
                read = tokio::time::timeout(IDLE, stream.read_buf(&mut buf)) => match read {
                    Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
                    Ok(Ok(_)) => {}
                },
                _ = shutdown.changed(), if buf.is_empty() => return,
            }
        };
        // Drop the head and any request body; keep what follows (pipelining).
        let mut consumed = head.len;
        let mut body_left = head.body_len;
        let in_buf = (buf.len() - consumed).min(body_left);
        consumed += in_buf;
        body_left -= in_buf;
        buf.drain(..consumed);
        let mut sink = [0u8; 8192];
        while body_left > 0 {
            match stream.read(&mut sink[..body_left.min(8192)]).await {
                Ok(0) | Err(_) => return,
                Ok(n) => body_left -= n,
            }
        }
        let response = app
            .handle_from(&head.request, &exit, print.as_deref())
            .await;
        let keep_alive = head.keep_alive && !*shutdown.borrow();
        if !write_response(&mut stream, response, keep_alive).await || !keep_alive {
            let _ = stream.shutdown().await;
            return;
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes the response; false when the connection must close (fault or write error).
async fn write_response<S: Conn>(stream: &mut S, r: Response, keep_alive: bool) -> bool {
    if r.action == Action::Reset {
        stream.arm_reset();
        return false;
    }
    let declared = match r.action {
        Action::Truncate => r.body.len() + r.body.len().max(4096),
        _ => r.body.len(),
    };
    let mut head = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (k, v) in &r.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {declared}\r\n"));
    if !keep_alive || r.action == Action::Truncate {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).await.is_err() {
        return false;
    }
    if r.head_only {
        return stream.flush().await.is_ok();
    }
    match r.action {
        Action::Truncate => {
            let _ = stream.write_all(&r.body[..r.body.len() / 2]).await;
            let _ = stream.flush().await;
            false
        }
        Action::Drip(over) => {
            let piece = r.body.len().div_ceil(DRIP_PIECES).max(1);
            for chunk in r.body.chunks(piece) {
                tokio::time::sleep(over / DRIP_PIECES as u32).await;
                if stream.write_all(chunk).await.is_err() || stream.flush().await.is_err() {
                    return false;
                }
            }
            true
        }
        _ => stream.write_all(&r.body).await.is_ok() && stream.flush().await.is_ok(),
    }
}
