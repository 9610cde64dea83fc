//! Upstream configuration and the errors of building an [`Upstream`](crate::Upstream).

use crate::engine::Engine;
use std::collections::HashMap;
use std::time::Duration;

/// How asa reaches Amazon. `Default` is the production setting: the live storefronts,
/// a 45 s budget for all attempts together, 4 attempts, an 8 MiB body cap, no proxies.
#[derive(Clone)]
pub struct UpstreamConfig {
    /// Storefront base with a `{domain}` placeholder: `https://www.amazon.{domain}` live,
    /// `http://127.0.0.1:PORT/amazon.{domain}` against a simulator.
    pub url_template: String,
    /// Budget for all attempts together, backoff included. Absolute: no attempt outlives it.
    pub overall_timeout: Duration,
    /// Budget for one attempt: connect, redirects and the whole body.
    pub attempt_timeout: Duration,
    pub max_attempts: u32,
    /// Largest decoded body accepted, enforced while streaming it.
    pub body_cap: usize,
    /// Pages downloaded and judged at once, over all requests: an answer waits for a slot
    /// (its body unread, held back by TCP flow control) before its body is read, and keeps
    /// it until its judge is done. This bounds the memory of page bodies to about
    /// `pages_at_once x page size` however many requests are in flight, and keeps the
    /// blocking pool to the work the cores can do. No more requests go upstream than
    /// the slots drain before their deadlines (admission by drain rate, measured as pages
    /// go through); the others wait holding no connection, or are refused as `capacity`.
    /// 0: twice the available cores.
    pub pages_at_once: usize,
    /// Proxy URLs (`http://`, `https://`, `socks5://`, `socks5h://`, optional userinfo,
    /// optional `#id`) per upper-case ISO country, or under `"default"` for countries
    /// without a pool of their own. No pool and no default: attempts go out directly.
    pub proxies: HashMap<String, Vec<String>>,
    /// Consecutive transport failures (connect, TLS, proxy, reset, timeout) that bench a
    /// proxy.
    pub bench_after: u32,
    /// How long a benched proxy sits out before one probe attempt may use it again.
    pub bench_for: Duration,
    /// Full-jitter backoff between attempts: a random wait in
    /// `[0, min(backoff_cap, backoff_base * 2^(n-1))]` before attempt `n + 1`.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Redirects followed within one attempt.
    pub max_redirects: u32,
    /// The HTTP engine: `Standard` (reqwest + rustls) or `Browser` (wreq + BoringSSL,
    /// cargo feature `browser`).
    pub engine: Engine,
    /// Requests a sticky session (one exit, one cookie jar, one browser profile) serves
    /// per marketplace before it is retired. 1: a fresh session per request.
    pub session_requests: u32,
    /// How long an exit sits out after a session through it met a challenge page.
    /// Zero: it is only skipped for the rest of that request.
    pub challenge_cooldown: Duration,
    /// PEM certificates trusted in addition to the public roots (a test simulator's
    /// self-signed certificate). Never a way to turn verification off.
    pub extra_root_certs: Vec<String>,
}

impl Default for UpstreamConfig {
    fn default() -> Self {
        UpstreamConfig {
            url_template: "https://www.amazon.{domain}".to_string(),
            overall_timeout: Duration::from_secs(45),
            attempt_timeout: Duration::from_secs(15),
            max_attempts: 4,
            body_cap: 8 * 1024 * 1024,
            pages_at_once: 0,
            proxies: HashMap::new(),
            bench_after: 3,
            bench_for: Duration::from_secs(60),
            backoff_base: Duration::from_millis(200),
            backoff_cap: Duration::from_secs(2),
            max_redirects: 5,
            engine: Engine::Standard,
            session_requests: 1,
            challenge_cooldown: Duration::ZERO,
            extra_root_certs: Vec::new(),
        }
    }
}

/// Only proxy ids and counts: the proxy URLs may carry credentials.
impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut pools: Vec<(&String, usize)> =
            self.proxies.iter().map(|(k, v)| (k, v.len())).collect();
        pools.sort();
        f.debug_struct("UpstreamConfig")
            .field("url_template", &self.url_template)
            .field("overall_timeout", &self.overall_timeout)
            .field("attempt_timeout", &self.attempt_timeout)
            .field("max_attempts", &self.max_attempts)
            .field("body_cap", &self.body_cap)
            .field("pages_at_once", &self.pages_at_once)
            .field("proxy_pools", &pools)
            .field("bench_after", &self.bench_after)
            .field("bench_for", &self.bench_for)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_cap", &self.backoff_cap)
            .field("max_redirects", &self.max_redirects)
            .field("engine", &self.engine)
            .field("session_requests", &self.session_requests)
            .field("challenge_cooldown", &self.challenge_cooldown)
            .field("extra_root_certs", &self.extra_root_certs.len())
            .finish()
    }
}

/// A configuration that cannot work. Messages name proxies by id, never by URL.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    #[error("url_template: {0}")]
    Template(String),
    #[error("proxy {id}: {reason}")]
    Proxy { id: String, reason: String },
    #[error("HTTP client for {id}: {reason}")]
    Client { id: String, reason: String },
    #[error("{0}")]
    Limits(&'static str),
    #[error("engine: {0}")]
    Engine(String),
}

impl UpstreamConfig {
    /// [`pages_at_once`](Self::pages_at_once) with 0 resolved to twice the cores.
    pub fn page_slots(&self) -> usize {
        match self.pages_at_once {
            0 => 2 * std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), UpstreamError> {
        let sample = self.url_template.replace("{domain}", "com");
        let url = url::Url::parse(&sample).map_err(|e| UpstreamError::Template(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(UpstreamError::Template(
                "scheme must be http or https".into(),
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(UpstreamError::Template(
                "a storefront base has no query or fragment".into(),
            ));
        }
        if self.max_attempts == 0 {
            return Err(UpstreamError::Limits("max_attempts must be at least 1"));
        }
        if self.overall_timeout.is_zero() || self.attempt_timeout.is_zero() {
            return Err(UpstreamError::Limits("timeouts must be positive"));
        }
        if self.body_cap == 0 {
            return Err(UpstreamError::Limits("body_cap must be positive"));
        }
        if self.session_requests == 0 {
            return Err(UpstreamError::Limits("session_requests must be at least 1"));
        }
        crate::engine::check_built(self.engine)
    }

    /// The wait before attempt `n + 1` (`n` >= 1): full jitter over a capped exponential.
    pub(crate) fn backoff(&self, n: u32) -> Duration {
        use rand::Rng;
        let exp = self
            .backoff_base
            .saturating_mul(1u32 << (n.saturating_sub(1)).min(16));
        let ceiling = exp.min(self.backoff_cap);
        if ceiling.is_zero() {
            return Duration::ZERO;
        }
        rand::thread_rng().gen_range(Duration::ZERO..=ceiling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_production_setting() {
        let c = UpstreamConfig::default();
        assert_eq!(c.overall_timeout, Duration::from_secs(45));
        assert_eq!(c.max_attempts, 4);
        assert_eq!(c.body_cap, 8 << 20);
        c.validate().unwrap();
    }

    #[test]
    fn bad_templates_and_limits_are_refused() {
        for t in [
            "www.amazon.{domain}",
            "ftp://x.{domain}",
            "http://x.{domain}/?a=1",
        ] {
            let c = UpstreamConfig {
                url_template: t.into(),
                ..Default::default()
            };
            assert!(
                matches!(c.validate(), Err(UpstreamError::Template(_))),
                "{t}"
            );
        }
        let c = UpstreamConfig {
            max_attempts: 0,
            ..Default::default()
        };
        assert!(matches!(c.validate(), Err(UpstreamError::Limits(_))));
    }

    #[test]
    fn backoff_is_full_jitter_under_a_capped_exponential() {
        let c = UpstreamConfig {
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_millis(300),
            ..Default::default()
        };
        let ceilings = [100, 200, 300, 300, 300];
        for (i, ceiling) in ceilings.into_iter().enumerate() {
            let n = i as u32 + 1;
            let waits: Vec<Duration> = (0..200).map(|_| c.backoff(n)).collect();
            assert!(waits.iter().all(|w| *w <= Duration::from_millis(ceiling)));
            // 200 uniform draws all in the lower half would be a broken jitter.
            assert!(waits
                .iter()
                .any(|w| *w > Duration::from_millis(ceiling / 2)));
        }
        assert!(c.backoff(100) <= Duration::from_millis(300));
    }

    #[test]
    fn debug_shows_pools_not_urls() {
        let mut c = UpstreamConfig::default();
        c.proxies.insert(
            "DE".into(),
            vec!["http://alice:s3cret@10.0.0.1:3128".into()],
        );
        let text = format!("{c:?}");
        assert!(text.contains("\"DE\", 1"), "{text}");
        assert!(
            !text.contains("s3cret") && !text.contains("alice"),
            "{text}"
        );
    }
}
