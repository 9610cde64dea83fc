//! What a bot manager sees of a client before any header: its TLS ClientHello (JA3,
//! JA4) and its HTTP/2 connection preface (Akamai fingerprint).
//!
//! - [`client_hello`]: the ClientHello parsed from raw record bytes.
//! - [`ja`]: JA3 and JA4.
//! - [`http2`]: the Akamai HTTP/2 fingerprint.
//! - [`wire`]: stream wrappers that replay the peeked hello to the TLS library and record
//!   the first decrypted bytes of the connection.

pub mod client_hello;
pub mod http2;
pub mod ja;
pub mod wire;

use serde::Serialize;
use std::sync::OnceLock;

/// The fingerprints of one client connection.
#[derive(Debug, Default, Serialize)]
pub struct ClientFingerprint {
    pub ja3: String,
    /// The JA3 string before hashing.
    pub ja3_text: String,
    pub ja4: String,
    /// The SNI host name, if sent.
    pub server_name: Option<String>,
    /// The protocol agreed by ALPN (`h2`, `http/1.1`), if any.
    pub alpn: Option<String>,
    /// The Akamai HTTP/2 fingerprint; set once the first HEADERS frame has been read,
    /// never for HTTP/1.1 connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2: Option<String>,
}

impl ClientFingerprint {
    pub fn of(hello: &client_hello::ClientHello) -> ClientFingerprint {
        ClientFingerprint {
            ja3: ja::ja3(hello),
            ja3_text: ja::ja3_text(hello),
            ja4: ja::ja4(hello),
            server_name: hello.server_name.clone(),
            alpn: None,
            http2: None,
        }
    }
}

/// A connection's fingerprint, filled in as the connection goes: TLS first, HTTP/2 once
/// the preface and first HEADERS have been read.
#[derive(Debug, Default)]
pub struct ConnectionPrint {
    pub tls: ClientFingerprint,
    pub http2: OnceLock<String>,
}
