//! The record of what the simulator was asked and what it answered, per exit: tests use
//! it to see which exit (proxy) a fetch took and which fault it met.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// One request as the simulator saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    /// Order of arrival at this simulator instance.
    pub seq: u64,
    /// Id of the listener (exit) the request came in on.
    pub exit: String,
    pub method: String,
    /// The request-target as sent: absolute-form when the client used us as a proxy.
    pub url: String,
    /// True for an absolute-form (HTTP proxy) request.
    pub proxied: bool,
    pub host: Option<String>,
    pub marketplace: Option<String>,
    pub language: Option<String>,
    pub asin: Option<String>,
    pub query: Option<String>,
    pub page: Option<u32>,
    /// The fault applied (`captcha`, `error_503`, `reset`, ...), if any.
    pub fault: Option<String>,
    /// Where the body came from: `generated`, `saved`, or `block`.
    pub source: Option<String>,
    /// HTTP status sent; `None` when the connection was reset.
    pub status: Option<u16>,
    /// Milliseconds since the Unix epoch when the request arrived.
    pub at_ms: u64,
    /// Milliseconds from arrival to the answer (delays included).
    pub elapsed_ms: u64,
    /// The client's JA3 / JA4 TLS fingerprints, for requests that came in over TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja3: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    /// The client's HTTP/2 fingerprint (Akamai format), for HTTP/2 requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http2: Option<String>,
    /// The protocol agreed by ALPN on a TLS connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpn: Option<String>,
    /// The bot manager's session id of the request (old or newly set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Why the bot manager challenged the request (`not_a_browser`, `session_ip_changed`,
    /// `session_fingerprint_changed`, `baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<String>,
}

#[derive(Debug)]
pub struct RequestLog {
    capacity: usize,
    seq: AtomicU64,
    records: Mutex<VecDeque<RequestRecord>>,
}

impl RequestLog {
    pub fn new(capacity: usize) -> RequestLog {
        RequestLog {
            capacity: capacity.max(1),
            seq: AtomicU64::new(0),
            records: Mutex::new(VecDeque::new()),
        }
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    pub fn push(&self, record: RequestRecord) {
        let mut r = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if r.len() == self.capacity {
            r.pop_front();
        }
        r.push_back(record);
    }

    pub fn snapshot(&self) -> Vec<RequestRecord> {
        let r = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let mut v: Vec<_> = r.iter().cloned().collect();
        v.sort_by_key(|x| x.seq);
        v
    }

    pub fn clear(&self) {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
