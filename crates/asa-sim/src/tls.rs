//! The TLS side of a listener: a self-signed certificate for the storefront hosts, and
//! the first look at each connection. A connection that opens with a TLS record, or
//! with an HTTP `CONNECT` (a client using the exit as its proxy), is fingerprinted from
//! its raw ClientHello before rustls sees it; ALPN then picks HTTP/2 or HTTP/1.1.
//! Anything else is plain HTTP/1.1, as without TLS.

use crate::fingerprint::client_hello::{handshake_message, ClientHello, Need};
use crate::fingerprint::wire::{Recorder, Replay};
use crate::fingerprint::{ClientFingerprint, ConnectionPrint};
use crate::handler::App;
use crate::http::{serve_connection, serve_http1, Conn};
use asa_model::Marketplace;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// Largest hello (or CONNECT head) read before giving up on a connection.
const MAX_HELLO: usize = 64 * 1024;
/// How long a client may take to send its hello.
const HELLO_WAIT: Duration = Duration::from_secs(30);
/// Bytes of a connection's decrypted start kept for the HTTP/2 fingerprint.
const H2_RECORD: usize = 64 * 1024;

/// The simulator's certificate and the rustls acceptor built on it.
pub struct TlsIdentity {
    /// PEM of the self-signed certificate: the one root a client must trust.
    pub cert_pem: String,
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity").finish_non_exhaustive()
    }
}

impl TlsIdentity {
    /// A fresh self-signed certificate for `localhost`, `127.0.0.1` and every storefront
    /// host (`www.amazon.de`, ...), so clients can use the live URLs through the exit.
    pub fn generate() -> Result<TlsIdentity, String> {
        let mut names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
        names.extend(Marketplace::ALL.iter().map(|m| m.host()));
        let certified = rcgen::generate_simple_self_signed(names).map_err(|e| e.to_string())?;
        let cert_der = certified.cert.der().clone();
        let key_der =
            rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key_der)
            .map_err(|e| e.to_string())?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsIdentity {
            cert_pem: certified.cert.pem(),
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }
}

impl Conn for TlsStream<Replay<TcpStream>> {
    fn arm_reset(&self) {
        self.get_ref().0.get_ref().arm_reset();
    }
}

/// What the first bytes of a connection are.
enum Opening {
    Tls(Vec<u8>, ClientHello),
    Connect(String),
    Plain(Vec<u8>),
}

async fn read_opening(stream: &mut TcpStream) -> Option<Opening> {
    let mut buf = Vec::with_capacity(2048);
    loop {
        if buf.first() == Some(&0x16) {
            match handshake_message(&buf) {
                Need::Complete(msg) => {
                    let hello = ClientHello::parse(&msg)?;
                    return Some(Opening::Tls(buf, hello));
                }
                Need::NotTls => return None,
                Need::More => {}
            }
        } else if !buf.is_empty() {
            if !b"CONNECT ".starts_with(&buf[..buf.len().min(8)]) {
                return Some(Opening::Plain(buf));
            }
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                // A client waits for our 200 before its hello: nothing follows the head.
                return Some(Opening::Connect(head));
            }
        }
        if buf.len() > MAX_HELLO {
            return None;
        }
        match tokio::time::timeout(HELLO_WAIT, stream.read_buf(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
    }
}

/// Serves one connection of a TLS-enabled listener.
pub(crate) async fn serve_socket(
    mut stream: TcpStream,
    exit: Arc<str>,
    app: Arc<App>,
    shutdown: watch::Receiver<bool>,
    identity: Arc<TlsIdentity>,
) {
    let _ = stream.set_nodelay(true);
    let mut opening = read_opening(&mut stream).await;
    if let Some(Opening::Connect(head)) = &opening {
        tracing::debug!(exit = %exit, target = head.split(' ').nth(1).unwrap_or(""), "sim CONNECT");
        if stream
            .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        // The tunnel is ours to end: the client now talks TLS to "Amazon" through it.
        opening = read_opening(&mut stream).await;
    }
    match opening {
        Some(Opening::Tls(read, hello)) => {
            serve_tls(stream, read, &hello, exit, app, shutdown, &identity).await
        }
        Some(Opening::Plain(read)) => serve_http1(stream, exit, app, shutdown, None, read).await,
        // A second CONNECT inside a tunnel, a broken hello, or silence.
        Some(Opening::Connect(_)) | None => {}
    }
}

async fn serve_tls(
    stream: TcpStream,
    read: Vec<u8>,
    hello: &ClientHello,
    exit: Arc<str>,
    app: Arc<App>,
    shutdown: watch::Receiver<bool>,
    identity: &TlsIdentity,
) {
    let mut print = ConnectionPrint {
        tls: ClientFingerprint::of(hello),
        ..ConnectionPrint::default()
    };
    let tls = match identity.acceptor.accept(Replay::new(read, stream)).await {
        Ok(tls) => tls,
        Err(e) => {
            tracing::debug!(exit = %exit, ja4 = %print.tls.ja4, error = %e, "sim TLS handshake failed");
            return;
        }
    };
    let alpn = tls.get_ref().1.alpn_protocol().map(|p| p.to_vec());
    print.tls.alpn = alpn
        .as_deref()
        .map(|p| String::from_utf8_lossy(p).into_owned());
    let print = Arc::new(print);
    if alpn.as_deref() == Some(b"h2") {
        let (recorder, recording) = Recorder::new(tls, H2_RECORD);
        crate::h2::serve_h2(recorder, exit, app, shutdown, print, recording).await
    } else {
        serve_http1(tls, exit, app, shutdown, Some(print), Vec::new()).await
    }
}

/// Serves a plain listener's connection (no TLS configured).
pub(crate) async fn serve_plain(
    stream: TcpStream,
    exit: Arc<str>,
    app: Arc<App>,
    shutdown: watch::Receiver<bool>,
) {
    serve_connection(stream, exit, app, shutdown).await
}
