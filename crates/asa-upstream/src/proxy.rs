//! Exit proxies: per-country pools parsed from config, one HTTP client per endpoint, the
//! choice of an exit per attempt, and a circuit breaker that benches an endpoint after
//! repeated transport failures and lets one probe through once its cooldown is over.
//!
//! Credentials live only inside the endpoint's client; everything that leaves this module
//! (ids, addresses, health, error text) is free of them.

pub(crate) use crate::breaker::ExitResult;
pub use crate::breaker::ProxyState;
use crate::breaker::{Breaker, Change};
use crate::config::{UpstreamConfig, UpstreamError};
use crate::engine::ExitClient;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;
use url::Url;

/// The pool key for proxies used when a country has no pool of its own.
pub const DEFAULT_POOL: &str = "default";
/// The proxy id recorded when an attempt went out without a proxy.
pub const DIRECT: &str = "direct";

/// One way out to Amazon: a proxy endpoint, or the direct connection.
pub(crate) struct Exit {
    /// `de-1`, `default-2`, a name given as the URL's `#fragment`, or `direct`.
    pub id: String,
    /// The pool it belongs to: an upper-case ISO country, `default`, or `direct`.
    pub pool: String,
    /// `scheme://host:port`, no userinfo.
    pub address: String,
    /// Username and password as written and percent-decoded, scrubbed from error text.
    secrets: Vec<String>,
    pub client: ExitClient,
    breaker: Breaker,
    attempts: AtomicU64,
    failures: AtomicU64,
}

impl Exit {
    fn new(
        id: String,
        pool: String,
        proxy: Option<Url>,
        cfg: &UpstreamConfig,
    ) -> Result<Exit, UpstreamError> {
        let mut secrets = Vec::new();
        let address = match &proxy {
            Some(u) => {
                for s in [u.username(), u.password().unwrap_or("")] {
                    if !s.is_empty() {
                        secrets.push(s.to_string());
                        let decoded = percent_encoding::percent_decode_str(s)
                            .decode_utf8_lossy()
                            .into_owned();
                        if !decoded.is_empty() && decoded != s {
                            secrets.push(decoded);
                        }
                    }
                }
                redacted(u)
            }
            None => DIRECT.to_string(),
        };
        let client = ExitClient::build(proxy.as_ref(), cfg).map_err(|e| UpstreamError::Client {
            id: id.clone(),
            reason: scrub(&e, &secrets),
        })?;
        Ok(Exit {
            id,
            pool,
            address,
            secrets,
            client,
            breaker: Breaker::default(),
            attempts: AtomicU64::new(0),
            failures: AtomicU64::new(0),
        })
    }

    /// Removes this exit's credentials from a message.
    pub(crate) fn scrub(&self, message: &str) -> String {
        scrub(message, &self.secrets)
    }

    /// Takes the exit for one attempt if its breaker lets it through.
    pub(crate) fn try_acquire(&self, now: Instant) -> bool {
        self.breaker.try_acquire(now)
    }

    /// Gives back an attempt that ended without a result.
    pub(crate) fn release(&self) {
        self.breaker.release();
    }

    pub(crate) fn record(&self, result: ExitResult, cfg: &UpstreamConfig) {
        self.attempts.fetch_add(1, Ordering::Relaxed);
        if result == ExitResult::Failed {
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        if self.id == DIRECT {
            // Never benched, so its breaker has nothing to learn; skipping it keeps every
            // direct request off one shared lock.
            return;
        }
        match self
            .breaker
            .record(result, cfg.bench_after, cfg.bench_for, true)
        {
            Change::Benched => tracing::warn!(
                proxy_id = %self.id,
                cooldown_ms = cfg.bench_for.as_millis() as u64,
                "proxy benched"
            ),
            Change::Restored => {
                tracing::info!(proxy_id = %self.id, "proxy restored after its cooldown")
            }
            Change::None => {}
        }
    }

    /// Sits the exit out for `cfg.challenge_cooldown` after a challenge through it (the
    /// direct exit has nothing to switch to and is never cooled down).
    pub(crate) fn cool_down(&self, cfg: &UpstreamConfig) {
        if self.id == DIRECT || cfg.challenge_cooldown.is_zero() {
            return;
        }
        if self
            .breaker
            .cool_down(Instant::now(), cfg.challenge_cooldown)
        {
            tracing::warn!(
                proxy_id = %self.id,
                cooldown_ms = cfg.challenge_cooldown.as_millis() as u64,
                "proxy cooled down after a challenge"
            );
        }
    }

    fn health(&self, now: Instant) -> ProxyHealth {
        let (state, consecutive_failures, benched_for_ms) = self.breaker.snapshot(now);
        ProxyHealth {
            id: self.id.clone(),
            pool: self.pool.clone(),
            address: self.address.clone(),
            state,
            consecutive_failures,
            benched_for_ms,
            attempts: self.attempts.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }
}

/// The health of one exit, for metrics and the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProxyHealth {
    pub id: String,
    pub pool: String,
    /// `scheme://host:port`, never credentials.
    pub address: String,
    pub state: ProxyState,
    pub consecutive_failures: u32,
    /// While benched: how long until it is tried again.
    pub benched_for_ms: Option<u64>,
    pub attempts: u64,
    pub failures: u64,
}

/// One pool of exits, chosen from round robin.
pub(crate) struct Pool {
    pub exits: Vec<Exit>,
    cursor: AtomicUsize,
}

/// Why no exit could be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NoExit {
    pub benched: usize,
}

impl Pool {
    fn new(exits: Vec<Exit>) -> Pool {
        Pool {
            exits,
            cursor: AtomicUsize::new(0),
        }
    }

    /// Takes the next exit in round-robin order that this request has not tried and the
    /// breaker lets through.
    pub(crate) fn pick(&self, tried: &[usize]) -> Result<usize, NoExit> {
        let n = self.exits.len();
        let start = self.cursor.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let mut benched = 0;
        for i in 0..n {
            let idx = (start + i) % n;
            if tried.contains(&idx) {
                continue;
            }
            if self.exits[idx].try_acquire(now) {
                return Ok(idx);
            }
            benched += 1;
        }
        Err(NoExit { benched })
    }
}

/// All exits: a pool per country, an optional default pool, and the direct exit.
pub(crate) struct Exits {
    pools: HashMap<String, Pool>,
    pub direct: Exit,
}

/// Where a request's attempts go out.
pub(crate) enum Route<'a> {
    /// A pool; `exit_country` is what the attempt records (unknown for the default pool).
    Pool {
        pool: &'a Pool,
        exit_country: Option<String>,
    },
    Direct,
}

impl Exits {
    pub(crate) fn from_config(cfg: &UpstreamConfig) -> Result<Exits, UpstreamError> {
        let mut pools = HashMap::new();
        for (key, urls) in &cfg.proxies {
            let key = pool_key(key)?;
            let mut exits = Vec::with_capacity(urls.len());
            for (i, raw) in urls.iter().enumerate() {
                let (id, url) = parse_proxy(&key, i, raw)?;
                if exits.iter().any(|e: &Exit| e.id == id) {
                    return Err(UpstreamError::Proxy {
                        id,
                        reason: "duplicate proxy id".into(),
                    });
                }
                exits.push(Exit::new(id, key.clone(), Some(url), cfg)?);
            }
            if !exits.is_empty() && pools.insert(key.clone(), Pool::new(exits)).is_some() {
                return Err(UpstreamError::Proxy {
                    id: key,
                    reason: "pool configured twice".into(),
                });
            }
        }
        let direct = Exit::new(DIRECT.into(), DIRECT.into(), None, cfg)?;
        Ok(Exits { pools, direct })
    }

    /// The country's own pool, else the default pool, else direct.
    pub(crate) fn route(&self, country: &str) -> Route<'_> {
        if let Some(pool) = self.pools.get(country) {
            return Route::Pool {
                pool,
                exit_country: Some(country.to_string()),
            };
        }
        match self.pools.get(DEFAULT_POOL) {
            Some(pool) => Route::Pool {
                pool,
                exit_country: None,
            },
            None => Route::Direct,
        }
    }

    pub(crate) fn health(&self) -> Vec<ProxyHealth> {
        let now = Instant::now();
        let mut out: Vec<ProxyHealth> = self
            .pools
            .values()
            .flat_map(|p| p.exits.iter().map(|e| e.health(now)))
            .collect();
        out.sort_by(|a, b| (&a.pool, &a.id).cmp(&(&b.pool, &b.id)));
        out
    }

    pub(crate) fn describe(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .pools
            .values()
            .flat_map(|p| p.exits.iter().map(|e| (e.id.clone(), e.address.clone())))
            .collect();
        out.sort();
        out
    }
}

fn pool_key(key: &str) -> Result<String, UpstreamError> {
    let k = key.trim();
    if k.eq_ignore_ascii_case(DEFAULT_POOL) {
        return Ok(DEFAULT_POOL.to_string());
    }
    asa_model::Country::parse(k)
        .map(|c| c.as_str().to_string())
        .ok_or_else(|| UpstreamError::Proxy {
            id: k.to_string(),
            reason: "a pool key is an ISO 3166-1 alpha-2 country or \"default\"".into(),
        })
}

/// Parses one proxy URL of a pool into its id and the URL handed to the client.
fn parse_proxy(pool: &str, index: usize, raw: &str) -> Result<(String, Url), UpstreamError> {
    let fallback_id = format!("{}-{}", pool.to_ascii_lowercase(), index + 1);
    let mut url = Url::parse(raw.trim()).map_err(|e| UpstreamError::Proxy {
        id: fallback_id.clone(),
        // The parse error never echoes the input, so no credentials can leak here.
        reason: format!("not a URL: {e}"),
    })?;
    let id = match url.fragment() {
        Some(f) if !f.is_empty() => f.to_string(),
        _ => fallback_id,
    };
    url.set_fragment(None);
    let bad = |reason: &str| UpstreamError::Proxy {
        id: id.clone(),
        reason: reason.to_string(),
    };
    if !matches!(url.scheme(), "http" | "https" | "socks5" | "socks5h") {
        return Err(bad("scheme must be http, https, socks5 or socks5h"));
    }
    if url.host_str().unwrap_or("").is_empty() {
        return Err(bad("no host"));
    }
    if url.path() != "/" && !url.path().is_empty() {
        return Err(bad("a proxy URL has no path"));
    }
    Ok((id, url))
}

/// `scheme://host:port` of a proxy URL: never its userinfo, path or query.
pub(crate) fn redacted(url: &Url) -> String {
    let port = url.port_or_known_default().or(match url.scheme() {
        "socks5" | "socks5h" => Some(1080),
        _ => None,
    });
    let host = url.host_str().unwrap_or("");
    match port {
        Some(p) => format!("{}://{host}:{p}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

pub(crate) fn scrub(message: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(message.to_string(), |m, s| m.replace(s.as_str(), "***"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg(proxies: &[(&str, &[&str])]) -> UpstreamConfig {
        UpstreamConfig {
            proxies: proxies
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            bench_after: 2,
            bench_for: Duration::from_millis(50),
            ..UpstreamConfig::default()
        }
    }

    #[test]
    fn ids_addresses_and_routes() {
        let c = cfg(&[
            (
                "de",
                &[
                    "http://user7:p%40ss@10.0.0.1:3128",
                    "socks5://10.0.0.2#fra-b",
                ],
            ),
            ("default", &["https://10.0.0.3"]),
        ]);
        let exits = Exits::from_config(&c).unwrap();
        let ids = exits.describe();
        assert_eq!(
            ids,
            vec![
                ("de-1".to_string(), "http://10.0.0.1:3128".to_string()),
                ("default-1".to_string(), "https://10.0.0.3:443".to_string()),
                ("fra-b".to_string(), "socks5://10.0.0.2:1080".to_string()),
            ]
        );
        assert!(
            matches!(exits.route("DE"), Route::Pool { exit_country: Some(c), .. } if c == "DE")
        );
        assert!(matches!(
            exits.route("FR"),
            Route::Pool {
                exit_country: None,
                ..
            }
        ));
        let de = match exits.route("DE") {
            Route::Pool { pool, .. } => pool,
            Route::Direct => unreachable!("DE has a pool"),
        };
        let e = &de.exits[0];
        assert_eq!(
            e.scrub("auth user7:p@ss (p%40ss) failed for user7"),
            "auth ***:*** (***) failed for ***"
        );
    }

    #[test]
    fn no_pool_means_direct() {
        let exits = Exits::from_config(&cfg(&[("US", &[])])).unwrap();
        assert!(matches!(exits.route("US"), Route::Direct));
        assert!(exits.health().is_empty());
    }

    #[test]
    fn bad_config_is_refused_without_echoing_credentials() {
        for (key, url) in [
            ("DE", "ftp://user:hunter2@10.0.0.1:21"),
            ("DEU", "http://user:hunter2@10.0.0.1:80"),
            ("DE", "http://user:hunter2@10.0.0.1:80/path"),
            ("DE", "user:hunter2@10.0.0.1 80"),
        ] {
            let err = Exits::from_config(&cfg(&[(key, &[url])]))
                .err()
                .expect("refused");
            let text = format!("{err} {err:?}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn benched_exits_are_skipped_and_counted() {
        let c = cfg(&[("DE", &["http://10.0.0.1:1", "http://10.0.0.2:1"])]);
        let exits = Exits::from_config(&c).unwrap();
        let Route::Pool { pool, .. } = exits.route("DE") else {
            unreachable!("DE has a pool")
        };
        let e = &pool.exits[0];
        e.record(ExitResult::Failed, &c);
        e.record(ExitResult::Failed, &c);
        let h = e.health(Instant::now());
        assert_eq!(
            (h.state, h.attempts, h.failures),
            (ProxyState::Benched, 2, 2)
        );
        // Only the other exit can be taken now, and only once per request.
        assert_eq!(pool.pick(&[]), Ok(1));
        assert_eq!(pool.pick(&[1]), Err(NoExit { benched: 1 }));
    }

    #[test]
    fn the_direct_exit_is_never_benched() {
        let c = cfg(&[]);
        let exits = Exits::from_config(&c).unwrap();
        for _ in 0..5 {
            exits.direct.record(ExitResult::Failed, &c);
        }
        assert!(exits.direct.try_acquire(Instant::now()));
    }

    #[test]
    fn round_robin_spreads_first_attempts() {
        let c = cfg(&[(
            "DE",
            &[
                "http://10.0.0.1:1",
                "http://10.0.0.2:1",
                "http://10.0.0.3:1",
            ],
        )]);
        let exits = Exits::from_config(&c).unwrap();
        let Route::Pool { pool, .. } = exits.route("DE") else {
            unreachable!("DE has a pool")
        };
        let firsts: Vec<usize> = (0..3).map(|_| pool.pick(&[]).unwrap()).collect();
        assert_eq!(firsts, vec![0, 1, 2]);
        assert_eq!(pool.pick(&[0, 1]), Ok(2));
    }
}
