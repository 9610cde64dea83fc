//! The record of one upstream attempt, as stored in a request's trace, and the reading
//! of transport errors into outcomes.

use serde::{Deserialize, Serialize};
use std::error::Error as StdError;

/// One try at the page through one exit. Never holds credentials: the proxy is named by
/// its id and error texts are scrubbed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// 1-based.
    pub n: u32,
    /// The exit country, when the exit came from that country's pool; `None` for the
    /// default pool and for direct connections.
    pub exit_country: Option<String>,
    /// The proxy id (`de-1`), or `direct`.
    pub proxy_id: Option<String>,
    /// The URL asked for.
    pub url: String,
    /// Where the redirects ended, when they were followed.
    pub final_url: Option<String>,
    /// The last HTTP status received, if any.
    pub status: Option<u16>,
    /// Decoded body bytes received.
    pub bytes: u64,
    pub latency_ms: u64,
    pub outcome: Outcome,
    /// A short reason for a failure; never credentials.
    pub error: Option<String>,
    /// The HTTP engine (`standard`, `browser`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    /// The browser profile the attempt presented (`chrome_137_windows`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// The sticky session it went out in and its request number there (`s12#3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The JA4 TLS fingerprint presented, when the engine presents the profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    /// The HTTP/2 fingerprint (Akamai format) presented, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2: Option<String>,
}

/// What an attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A page the caller accepted.
    Ok,
    /// A challenge page (robot check, "continue shopping", bot-manager interstitial).
    Captcha,
    /// Amazon's 503 "something went wrong" page, or a bare 503.
    #[serde(rename = "amazon_503")]
    Amazon503,
    /// Amazon's 404 page, accepted as the final answer.
    NotFound,
    /// Redirects that did not end in a page (a loop, too many, or no `Location`).
    Redirect,
    ConnectError,
    TlsError,
    /// The proxy refused the tunnel or asked for credentials it did not accept.
    ProxyError,
    /// The attempt's timeout or the overall deadline ran out.
    Timeout,
    /// The decoded body grew past the cap.
    TooLarge,
    /// The connection was reset or closed before a response came.
    Reset,
    /// An error status the page did not explain (5xx, 403, 429, ...).
    BadStatus,
    /// The connection closed before the whole body came.
    Truncated,
    /// The answer came, but waited here for a page slot (or its judging ran) past the
    /// request's budget: local capacity, not the exit's doing.
    Capacity,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Captcha => "captcha",
            Outcome::Amazon503 => "amazon_503",
            Outcome::NotFound => "not_found",
            Outcome::Redirect => "redirect",
            Outcome::ConnectError => "connect_error",
            Outcome::TlsError => "tls_error",
            Outcome::ProxyError => "proxy_error",
            Outcome::Timeout => "timeout",
            Outcome::TooLarge => "too_large",
            Outcome::Reset => "reset",
            Outcome::BadStatus => "bad_status",
            Outcome::Truncated => "truncated",
            Outcome::Capacity => "capacity",
        }
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads a failure to get a response (connect, TLS, proxy, reset) into an outcome.
pub(crate) fn classify_send(err: &reqwest::Error) -> Outcome {
    classify_failure(err.is_timeout(), err.is_connect(), err)
}

/// Reads any engine's failure to get a response into an outcome, from whether it timed
/// out or failed to connect and from its chain of sources.
pub(crate) fn classify_failure(
    timeout: bool,
    connect: bool,
    err: &(dyn StdError + 'static),
) -> Outcome {
    if timeout {
        return Outcome::Timeout;
    }
    // Only the sources: the top-level message carries the URL, which may say anything.
    let text = err
        .source()
        .map(chain)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mentions = |words: &[&str]| words.iter().any(|w| text.contains(w));
    // rustls reports a failed handshake as an `InvalidData` I/O error.
    let tls = io_kinds(err).contains(&std::io::ErrorKind::InvalidData)
        || mentions(&["tls", "certificate", "handshake"]);
    if connect && mentions(&["tunnel", "socks", "proxy"]) {
        Outcome::ProxyError
    } else if tls {
        Outcome::TlsError
    } else if connect {
        Outcome::ConnectError
    } else {
        // Closed, reset, or something that is not HTTP: no answer either way.
        Outcome::Reset
    }
}

/// The kinds of the I/O errors in the chain, including those wrapped inside an I/O
/// error (whose `source()` skips the wrapped error itself).
fn io_kinds(err: &(dyn StdError + 'static)) -> Vec<std::io::ErrorKind> {
    let mut kinds = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let mut io = e.downcast_ref::<std::io::Error>();
        while let Some(i) = io {
            kinds.push(i.kind());
            io = i
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>());
        }
        cur = e.source();
    }
    kinds
}

/// Reads a failure while streaming the body into an outcome.
pub(crate) fn classify_body(err: &reqwest::Error) -> Outcome {
    if err.is_timeout() {
        Outcome::Timeout
    } else {
        Outcome::Truncated
    }
}

/// The error and its sources as one short line, without the request URL.
pub(crate) fn describe(err: reqwest::Error) -> String {
    describe_error(&err.without_url())
}

/// An error (already stripped of its URL) and its sources as one short line.
pub(crate) fn describe_error(err: &(dyn StdError + 'static)) -> String {
    const MAX: usize = 200;
    let mut text = chain(err);
    if text.len() > MAX {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push('…');
    }
    text
}

fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        let s = e.to_string();
        // Wrappers often repeat their source's text.
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_serialize_as_their_trace_names() {
        for o in [
            Outcome::Ok,
            Outcome::Captcha,
            Outcome::Amazon503,
            Outcome::NotFound,
            Outcome::Redirect,
            Outcome::ConnectError,
            Outcome::TlsError,
            Outcome::ProxyError,
            Outcome::Timeout,
            Outcome::TooLarge,
            Outcome::Reset,
            Outcome::BadStatus,
            Outcome::Truncated,
            Outcome::Capacity,
        ] {
            let json = serde_json::to_string(&o).unwrap();
            assert_eq!(json, format!("\"{}\"", o.as_str()));
            assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), o);
        }
    }

    #[test]
    fn an_attempt_serializes_flat() {
        let a = Attempt {
            n: 1,
            exit_country: Some("DE".into()),
            proxy_id: Some("de-1".into()),
            url: "https://www.amazon.de/dp/B000000001?th=1&psc=1".into(),
            final_url: None,
            status: Some(200),
            bytes: 1234,
            latency_ms: 87,
            outcome: Outcome::Ok,
            error: None,
            engine: None,
            profile: None,
            session: None,
            ja4: None,
            http2: None,
        };
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["outcome"], "ok");
        assert_eq!(v["proxy_id"], "de-1");
        assert_eq!(v["status"], 200);
        // Traces written before these fields existed read the same, and stay the same.
        for absent in ["engine", "profile", "session", "ja4", "http2"] {
            assert!(v.get(absent).is_none(), "{absent}");
        }
        assert_eq!(serde_json::from_value::<Attempt>(v).unwrap(), a);
        let with = Attempt {
            profile: Some("chrome_137_windows".into()),
            ja4: Some("t13d1516h2_8daaf6152771_d8a2da3f94cd".into()),
            ..a
        };
        let v = serde_json::to_value(&with).unwrap();
        assert_eq!(v["profile"], "chrome_137_windows");
    }

    #[tokio::test]
    async fn a_refused_connection_reads_as_connect_error_without_the_url() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let err = client
            .get(format!("http://{addr}/secret-path"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(classify_send(&err), Outcome::ConnectError);
        let text = describe(err);
        assert!(!text.contains("secret-path"), "{text}");
        assert!(text.to_ascii_lowercase().contains("connect"), "{text}");
    }
}
