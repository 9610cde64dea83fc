//! The upstream HTTP engines behind one interface: an exit's client sends one GET with
//! the attempt's headers and cookies and hands back the status, the headers the fetch
//! loop reads, and the body chunk by chunk.
//!
//! - `standard`: reqwest on rustls, pure Rust; its TLS and HTTP fingerprints are a Rust
//!   client's whatever the headers say.
//! - `browser` (cargo feature `browser`): wreq on BoringSSL with wreq-util's browser
//!   emulations, so TLS ClientHello, HTTP/2 settings and header order are the profile's.
//!
//! Both keep one client per proxy endpoint (the browser engine one per endpoint and
//! profile), so a connection pool never mixes exits or fingerprints.

#[cfg(feature = "browser")]
mod browser;
mod standard;

use crate::attempt::Outcome;
use crate::config::{UpstreamConfig, UpstreamError};
use crate::profile::Profile;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use url::Url;

/// A failed exchange: the outcome and a short reason.
pub(crate) type Failure = (Outcome, String);

/// Which HTTP engine fetches from Amazon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Engine {
    /// reqwest + rustls: builds anywhere, looks like a Rust client to a bot manager.
    #[default]
    Standard,
    /// wreq + BoringSSL impersonating the session's browser profile. Needs the
    /// `browser` cargo feature.
    Browser,
}

impl Engine {
    pub fn as_str(self) -> &'static str {
        match self {
            Engine::Standard => "standard",
            Engine::Browser => "browser",
        }
    }

    pub fn parse(s: &str) -> Option<Engine> {
        match s.trim().to_ascii_lowercase().as_str() {
            "standard" => Some(Engine::Standard),
            "browser" => Some(Engine::Browser),
            _ => None,
        }
    }

    /// Whether this build can run the engine.
    pub fn is_built(self) -> bool {
        match self {
            Engine::Standard => true,
            Engine::Browser => cfg!(feature = "browser"),
        }
    }
}

impl std::fmt::Display for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The HTTP client(s) of one exit.
pub(crate) enum ExitClient {
    Standard(reqwest::Client),
    #[cfg(feature = "browser")]
    Browser(browser::Clients),
}

/// One HTTP answer, its body not yet read.
pub(crate) enum Answer {
    Standard(reqwest::Response),
    #[cfg(feature = "browser")]
    Browser(wreq::Response),
}

impl ExitClient {
    /// The client(s) for one exit: `proxy` is `None` for the direct exit.
    pub(crate) fn build(proxy: Option<&Url>, cfg: &UpstreamConfig) -> Result<ExitClient, String> {
        match cfg.engine {
            Engine::Standard => standard::build(proxy, cfg).map(ExitClient::Standard),
            #[cfg(feature = "browser")]
            Engine::Browser => browser::Clients::new(proxy, cfg).map(ExitClient::Browser),
            #[cfg(not(feature = "browser"))]
            Engine::Browser => Err("this build has no browser engine".into()),
        }
    }

    /// Sends `GET url` as `profile` with `headers` and the jar's `cookie`. (Only the
    /// browser engine reads the profile: the standard one's headers already say it all.)
    #[cfg_attr(not(feature = "browser"), allow(unused_variables))]
    pub(crate) async fn get(
        &self,
        profile: &Profile,
        url: &Url,
        headers: &HeaderMap,
        cookie: Option<HeaderValue>,
    ) -> Result<Answer, Failure> {
        match self {
            ExitClient::Standard(c) => standard::get(c, url, headers, cookie)
                .await
                .map(Answer::Standard),
            #[cfg(feature = "browser")]
            ExitClient::Browser(c) => c
                .get(profile, url, headers, cookie)
                .await
                .map(Answer::Browser),
        }
    }
}

impl Answer {
    pub(crate) fn status(&self) -> u16 {
        match self {
            Answer::Standard(r) => r.status().as_u16(),
            #[cfg(feature = "browser")]
            Answer::Browser(r) => r.status().as_u16(),
        }
    }

    /// Both engines speak `http` 1.x, so their header maps are the same type.
    pub(crate) fn headers(&self) -> &HeaderMap {
        match self {
            Answer::Standard(r) => r.headers(),
            #[cfg(feature = "browser")]
            Answer::Browser(r) => r.headers(),
        }
    }

    pub(crate) fn content_length(&self) -> Option<u64> {
        match self {
            Answer::Standard(r) => r.content_length(),
            #[cfg(feature = "browser")]
            Answer::Browser(r) => r.content_length(),
        }
    }

    /// The next decoded chunk of the body; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<Bytes>, Failure> {
        match self {
            Answer::Standard(r) => standard::chunk(r).await,
            #[cfg(feature = "browser")]
            Answer::Browser(r) => browser::chunk(r).await,
        }
    }
}

/// Refuses an engine this build lacks.
pub(crate) fn check_built(engine: Engine) -> Result<(), UpstreamError> {
    if engine.is_built() {
        Ok(())
    } else {
        Err(UpstreamError::Engine(format!(
            "the {engine} engine is not in this build (cargo feature `browser`)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engines_parse_and_say_whether_they_are_built() {
        assert_eq!(Engine::parse(" Browser "), Some(Engine::Browser));
        assert_eq!(Engine::parse("standard"), Some(Engine::Standard));
        assert_eq!(Engine::parse("chrome"), None);
        assert!(Engine::Standard.is_built());
        assert_eq!(Engine::Browser.is_built(), cfg!(feature = "browser"));
        assert_eq!(
            check_built(Engine::Browser).is_ok(),
            cfg!(feature = "browser")
        );
    }
}
