//! The server's configuration: one typed struct, read from defaults, then a TOML file
//! (`ASA_CONFIG` or `--config`), then `ASA_*` environment variables, then flags.
//!
//! Every key reads from an environment variable named `ASA_` plus its path in upper case
//! joined by `_` (`upstream.timeout` is `ASA_UPSTREAM_TIMEOUT`), a map entry's key being a
//! step of the path like a field name: proxy pools are `ASA_PROXIES_<CC>` (lists are
//! comma-separated), plans `ASA_PLANS_<NAME>_<FIELD>`. The rule reads the field names from
//! the types below (`env`), so a new field needs nothing more than its declaration.

mod env;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the API listens on.
    pub listen: String,
    /// `sqlite://asa.db` (default, embedded) or `postgres://...` when several nodes share state.
    pub database_url: String,
    /// Redis for limits shared by several nodes; unset means in-process limits.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several deployments (or test runs) share one Redis.
    pub redis_prefix: String,
    /// PostgreSQL only: the schema holding asa's tables (created if missing); unset: the
    /// connection's default search path.
    pub database_schema: Option<String>,
    /// How long a reservation outlives the upstream budget before the sweeper may release
    /// it as expired (its node died mid-request).
    #[serde(with = "humantime_serde")]
    pub reservation_grace: Duration,
    /// How often expired reservations are released.
    #[serde(with = "humantime_serde")]
    pub reservation_sweep: Duration,
    /// Base of every `docs_url`; defaults to the server's own address.
    pub docs_base_url: Option<String>,
    /// Global ceiling on in-flight upstream work (`503 capacity` beyond it).
    pub capacity: u32,
    /// Days request traces are kept; never below 7.
    pub trace_retention_days: u32,
    pub upstream: UpstreamSection,
    /// Exit proxies per ISO country (or `default`): proxy URLs (http, https, socks5).
    pub proxies: BTreeMap<String, Vec<String>>,
    /// Plans by name.
    pub plans: BTreeMap<String, PlanConfig>,
    pub sandbox: SandboxSection,
    pub batches: BatchSection,
    pub dashboard: DashboardSection,
    pub admin: AdminSection,
    /// Store a trace for every request. Turn off only to measure what tracing costs.
    pub record_traces: bool,
    /// Where pages the extractor could not read are kept for its maintainers.
    pub failures_dir: String,
    /// How many such pages are kept (the newest); 0 keeps none.
    pub failures_keep: usize,
    /// Largest accepted query string, in bytes.
    pub max_query_bytes: usize,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Connections one client IP may hold open at once; past it a new connection is closed
    /// at accept time, before any HTTP is read. 0: no cap.
    pub max_connections_per_ip: u32,
    /// How long a new connection has to deliver its first request's header section before
    /// it is closed. 0: no deadline.
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    /// How long a kept-alive connection (HTTP/1.1 or HTTP/2) may sit with no request in
    /// flight before it is closed. 0: never.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Apply pending database migrations on start. Off, only `asa migrate` changes the
    /// schema (several nodes, one schema change at a time) and `/readyz` answers 503 while
    /// migrations are pending.
    pub migrate: bool,
    /// `text` (default) or `json`: one JSON object per log line.
    pub log_format: LogFormat,
    /// Peers (CIDRs or addresses) trusted to say who the client is: a request from one of
    /// them is logged with the client address of `Forwarded` / `X-Forwarded-For`, and its
    /// connections do not count against `max_connections_per_ip`. Empty: trust no one.
    pub trusted_proxies: Vec<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct UpstreamSection {
    /// `{domain}` is replaced by the marketplace TLD.
    pub url_template: String,
    /// Budget for all attempts of one page together.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub attempt_timeout: Duration,
    pub max_attempts: u32,
    /// Largest page accepted, in bytes (decoded).
    pub body_cap: usize,
    /// Pages downloaded and extracted at once on this node (the others wait, their bodies
    /// unread): bounds the memory of pages however many requests are in flight, and no
    /// more requests go upstream than they drain before their deadlines (the others wait,
    /// or get `503 capacity`). 0: twice the cores.
    pub pages_at_once: usize,
    /// `standard` (reqwest + rustls, always built) or `browser` (browser TLS and HTTP/2
    /// fingerprints; needs a build with the `browser` cargo feature).
    pub engine: asa_upstream::Engine,
    /// Requests one sticky session (exit, cookies, browser profile) serves per
    /// marketplace; 1 is a fresh session per request.
    pub session_requests: u32,
    /// How long a proxy sits out after a session through it met a challenge page.
    #[serde(with = "humantime_serde")]
    pub challenge_cooldown: Duration,
}

/// Asynchronous batches: the node's worker and webhook deliveries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BatchSection {
    /// Batch items this node runs at once: the batches' own budget, taken beside sync
    /// traffic (never more than half of `capacity`); 0 turns this node's worker off.
    pub workers: u32,
    /// How often an idle worker looks for items (a new batch on this node wakes it at once).
    #[serde(with = "humantime_serde")]
    pub poll: Duration,
    /// Accept webhook URLs on loopback, private and link-local addresses, over http too:
    /// for tests and self-hosting. Off, a webhook must be https to a public address.
    pub allow_private_webhooks: bool,
    /// Budget of one webhook delivery.
    #[serde(with = "humantime_serde")]
    pub webhook_timeout: Duration,
}

impl Default for BatchSection {
    fn default() -> Self {
        BatchSection {
            workers: 16,
            poll: Duration::from_millis(500),
            allow_private_webhooks: false,
            webhook_timeout: Duration::from_secs(10),
        }
    }
}

/// The account holders' web dashboard under `/dashboard`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DashboardSection {
    /// Serve the dashboard on the API listener.
    pub enabled: bool,
    /// How long a sign-in lasts.
    #[serde(with = "humantime_serde")]
    pub session_ttl: Duration,
    /// Mark session cookies `Secure` even without `X-Forwarded-Proto: https` (set it when
    /// TLS ends before a proxy that does not send that header).
    pub secure_cookies: bool,
}

impl Default for DashboardSection {
    fn default() -> Self {
        DashboardSection {
            enabled: true,
            session_ttl: Duration::from_secs(12 * 3600),
            secure_cookies: false,
        }
    }
}

/// The operator's pages under `/operator`, on a listener of their own.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSection {
    /// The operator's sign-in secret; empty (the default) serves no admin listener at all.
    pub token: String,
    /// Where the admin listener binds: loopback by default, so only the host reaches it.
    pub listen: String,
}

impl Default for AdminSection {
    fn default() -> Self {
        AdminSection {
            token: String::new(),
            listen: "127.0.0.1:8091".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SandboxSection {
    /// Serve `asa_test_` keys from the built-in simulator.
    pub enabled: bool,
    /// Create a sandbox account and print its key on first start with an empty database.
    pub bootstrap: bool,
}

/// A plan: the limits and exit countries an account gets.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlanConfig {
    pub concurrency: u32,
    pub rps: f64,
    /// Requests allowed at once above the sustained rate.
    pub burst: u32,
    /// `"any"`, `"own"` (the marketplace's own country) or a list of ISO codes.
    pub countries: Countries,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Countries {
    Keyword(CountryKeyword),
    List(Vec<String>),
}

/// A list, or one text: `any`, `own`, or ISO codes separated by commas (`"de,fr"`), the
/// form an environment variable gives.
impl<'de> Deserialize<'de> for Countries {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Countries, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            List(Vec<String>),
        }
        Ok(match Raw::deserialize(d)? {
            Raw::List(list) => Countries::List(list),
            Raw::Text(text) => match text.trim() {
                t if t.eq_ignore_ascii_case("any") => Countries::Keyword(CountryKeyword::Any),
                t if t.eq_ignore_ascii_case("own") => Countries::Keyword(CountryKeyword::Own),
                list => Countries::List(
                    list.split(',')
                        .map(|c| c.trim().to_ascii_uppercase())
                        .filter(|c| !c.is_empty())
                        .collect(),
                ),
            },
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CountryKeyword {
    Any,
    Own,
}

impl Countries {
    /// Whether a fetch for `marketplace_country` may exit in `exit`.
    pub fn allows(&self, exit: &str, marketplace_country: &str) -> bool {
        let supported = asa_model::Marketplace::ALL
            .iter()
            .any(|m| m.country() == exit);
        match self {
            Countries::Keyword(CountryKeyword::Any) => supported,
            Countries::Keyword(CountryKeyword::Own) => exit == marketplace_country,
            Countries::List(list) => list.iter().any(|c| c.eq_ignore_ascii_case(exit)),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://asa.db".into(),
            redis_url: None,
            redis_prefix: "asa".into(),
            database_schema: None,
            reservation_grace: Duration::from_secs(60),
            reservation_sweep: Duration::from_secs(30),
            docs_base_url: None,
            capacity: 1024,
            trace_retention_days: 7,
            upstream: UpstreamSection::default(),
            proxies: BTreeMap::new(),
            plans: default_plans(),
            sandbox: SandboxSection {
                enabled: true,
                bootstrap: true,
            },
            batches: BatchSection::default(),
            dashboard: DashboardSection::default(),
            admin: AdminSection::default(),
            record_traces: true,
            failures_dir: "asa-failures".into(),
            failures_keep: 500,
            max_query_bytes: 8 * 1024,
            max_body_bytes: 2 * 1024 * 1024,
            max_connections_per_ip: 256,
            header_read_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(75),
            migrate: true,
            log_format: LogFormat::Text,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Default for UpstreamSection {
    fn default() -> Self {
        UpstreamSection {
            url_template: "https://www.amazon.{domain}".into(),
            timeout: Duration::from_secs(45),
            attempt_timeout: Duration::from_secs(20),
            max_attempts: 4,
            body_cap: 8 * 1024 * 1024,
            pages_at_once: 0,
            engine: asa_upstream::Engine::Standard,
            session_requests: 1,
            challenge_cooldown: Duration::ZERO,
        }
    }
}

impl Default for SandboxSection {
    fn default() -> Self {
        SandboxSection {
            enabled: true,
            bootstrap: true,
        }
    }
}

/// The plan table of docs/API.md. `custom` is set per account; its defaults are placeholders
/// an operator overrides on the account.
pub fn default_plans() -> BTreeMap<String, PlanConfig> {
    let any = || Countries::Keyword(CountryKeyword::Any);
    BTreeMap::from([
        (
            "free".to_string(),
            PlanConfig {
                concurrency: 10,
                rps: 2.0,
                burst: 10,
                countries: Countries::Keyword(CountryKeyword::Own),
            },
        ),
        (
            "vibe".to_string(),
            PlanConfig {
                concurrency: 30,
                rps: 10.0,
                burst: 40,
                countries: any(),
            },
        ),
        (
            "pro".to_string(),
            PlanConfig {
                concurrency: 50,
                rps: 25.0,
                burst: 60,
                countries: any(),
            },
        ),
        (
            "custom".to_string(),
            PlanConfig {
                concurrency: 100,
                rps: 50.0,
                burst: 100,
                countries: any(),
            },
        ),
    ])
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("environment variable {var}: {message}")]
    Env { var: String, message: String },
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// Variables other parts of asa read (the config file, the client, logs, the corpus
/// tests): not config keys, and not refused as unknown.
const NOT_KEYS: &[&str] = &[
    "ASA_CONFIG",
    "ASA_CORPUS",
    "ASA_API_KEY",
    "ASA_BASE_URL",
    "ASA_LOG",
];

impl Config {
    /// Defaults, then the file (if any), then `ASA_*` variables from `env`.
    pub fn load(
        file: Option<&str>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut tree = toml::Value::try_from(Config::default())
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.into(),
                source,
            })?;
            let file_tree: toml::Value = toml::from_str(&text).map_err(|e| ConfigError::Parse {
                path: path.into(),
                message: e.to_string(),
            })?;
            merge(&mut tree, file_tree);
        }
        let mut env: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("ASA_"))
            .collect();
        env.sort();
        let shape = env::Shape::of::<Config>()
            .map_err(|e| ConfigError::Invalid(format!("tracing the config's fields: {e}")))?;
        for (var, value) in env {
            if NOT_KEYS.contains(&var.as_str()) {
                continue;
            }
            env::apply(&mut tree, &shape, &var["ASA_".len()..], &value)
                .map_err(|message| ConfigError::Env { var, message })?;
        }
        let config: Config = tree
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.message().to_string()))?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.trace_retention_days < 7 {
            return Err(ConfigError::Invalid(format!(
                "trace_retention_days is {}; traces are kept at least 7 days",
                self.trace_retention_days
            )));
        }
        if !self.upstream.url_template.contains("{domain}") {
            return Err(ConfigError::Invalid(
                "upstream.url_template must contain {domain}".into(),
            ));
        }
        if self.capacity == 0 {
            return Err(ConfigError::Invalid("capacity must be at least 1".into()));
        }
        if self.reservation_sweep.is_zero() {
            return Err(ConfigError::Invalid(
                "reservation_sweep must be longer than 0".into(),
            ));
        }
        crate::client_ip::TrustedProxies::parse(&self.trusted_proxies)
            .map_err(|e| ConfigError::Invalid(format!("trusted_proxies: {e}")))?;
        for (name, plan) in &self.plans {
            if plan.rps <= 0.0 || plan.concurrency == 0 {
                return Err(ConfigError::Invalid(format!(
                    "plan {name}: rps and concurrency must be positive"
                )));
            }
            if let Countries::List(list) = &plan.countries {
                if let Some(c) = list
                    .iter()
                    .find(|c| c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()))
                {
                    return Err(ConfigError::Invalid(format!(
                        "plan {name}: countries: {c:?} is not \"any\", \"own\" or an ISO country code"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Opens the store at `database_url` in `database_schema`, told the configured plan
    /// names, migrated unless `migrate` is off: `asa serve`, `asa admin` and `asa migrate`
    /// all open it here, so they see the same tables and the same plans.
    pub async fn open_store(
        &self,
    ) -> Result<std::sync::Arc<dyn asa_store::Store>, asa_store::StoreError> {
        let options = asa_store::StoreOptions {
            schema: self.database_schema.clone(),
            plans: Some(self.plans.keys().cloned().collect()),
            migrate: self.migrate,
            ..Default::default()
        };
        asa_store::open_with(&self.database_url, options).await
    }

    /// The docs base URL: configured, or the server's own address.
    pub fn docs_base(&self, bound: Option<std::net::SocketAddr>) -> String {
        match &self.docs_base_url {
            Some(b) => b.trim_end_matches('/').to_string(),
            None => format!(
                "http://{}",
                bound
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| self.listen.clone())
            ),
        }
    }

    /// TOML of the effective config with proxy credentials and database passwords masked.
    pub fn masked_toml(&self) -> String {
        let mut c = self.clone();
        c.database_url = mask_url(&c.database_url);
        c.redis_url = c.redis_url.as_deref().map(mask_url);
        if !c.admin.token.is_empty() {
            c.admin.token = "***".into();
        }
        for list in c.proxies.values_mut() {
            for p in list.iter_mut() {
                *p = mask_url(p);
            }
        }
        toml::to_string_pretty(&c).unwrap_or_else(|e| format!("# cannot render config: {e}\n"))
    }
}

/// Replaces the password (and a user alone) in a URL with `***`.
pub fn mask_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            } else {
                let _ = u.set_username("***");
            }
            u.to_string()
        }
        _ => raw.to_string(),
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(existing) if existing.is_table() && v.is_table() => merge(existing, v),
                    _ => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, o) => *b = o,
    }
}

/// Durations as human strings ("45s", "500ms") in TOML and env.
mod humantime_serde {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(s.trim()).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = Config::load(None, env(&[])).unwrap();
        assert_eq!(c.upstream.timeout, Duration::from_secs(45));
        assert_eq!(c.plans["free"].concurrency, 10);
        assert_eq!(c.plans["pro"].burst, 60);
        assert!(c.plans["free"].countries.allows("DE", "DE"));
        assert!(!c.plans["free"].countries.allows("US", "DE"));
        assert!(c.plans["vibe"].countries.allows("US", "DE"));
        assert!(!c.plans["vibe"].countries.allows("FI", "DE"));
    }

    #[test]
    fn upstream_engine_and_sessions_from_env() {
        let c = Config::load(
            None,
            env(&[
                ("ASA_UPSTREAM_ENGINE", "browser"),
                ("ASA_UPSTREAM_SESSION_REQUESTS", "8"),
                ("ASA_UPSTREAM_CHALLENGE_COOLDOWN", "90s"),
            ]),
        )
        .unwrap();
        assert_eq!(c.upstream.engine, asa_upstream::Engine::Browser);
        assert_eq!(c.upstream.session_requests, 8);
        assert_eq!(c.upstream.challenge_cooldown, Duration::from_secs(90));
        let d = Config::default().upstream;
        assert_eq!(
            (d.engine, d.session_requests),
            (asa_upstream::Engine::Standard, 1)
        );
    }

    #[test]
    fn env_overrides() {
        let c = Config::load(
            None,
            env(&[
                ("ASA_LISTEN", "0.0.0.0:9000"),
                ("ASA_UPSTREAM_TIMEOUT", "3s"),
                (
                    "ASA_UPSTREAM_URL_TEMPLATE",
                    "http://127.0.0.1:1/amazon.{domain}",
                ),
                ("ASA_CAPACITY", "7"),
                (
                    "ASA_PROXIES_DE",
                    "http://u:p@127.0.0.1:1, http://127.0.0.1:2",
                ),
                ("ASA_PLANS_GOLD_RPS", "5"),
                ("ASA_PLANS_GOLD_CONCURRENCY", "3"),
                ("ASA_PLANS_GOLD_BURST", "6"),
                ("ASA_PLANS_GOLD_COUNTRIES", "de,fr"),
                ("ASA_REDIS_URL", "redis://127.0.0.1:6379"),
                ("ASA_SANDBOX_ENABLED", "false"),
                ("ASA_CORPUS", "ignored"),
                ("ASA_REDIS_PREFIX", "asa_blue"),
                ("ASA_DATABASE_SCHEMA", "asa_blue"),
                ("ASA_RESERVATION_GRACE", "2s"),
                ("ASA_RESERVATION_SWEEP", "500ms"),
            ]),
        )
        .unwrap();
        assert_eq!(c.listen, "0.0.0.0:9000");
        assert_eq!(c.upstream.timeout, Duration::from_secs(3));
        assert_eq!(c.capacity, 7);
        assert_eq!(c.proxies["DE"].len(), 2);
        assert_eq!(c.plans["gold"].rps, 5.0);
        assert!(c.plans["gold"].countries.allows("FR", "DE"));
        assert_eq!(c.redis_url.as_deref(), Some("redis://127.0.0.1:6379"));
        assert!(!c.sandbox.enabled);
        assert!(!c.masked_toml().contains("u:p@"));
        assert_eq!(c.redis_prefix, "asa_blue");
        assert_eq!(c.database_schema.as_deref(), Some("asa_blue"));
        assert_eq!(c.reservation_grace, Duration::from_secs(2));
        assert_eq!(c.reservation_sweep, Duration::from_millis(500));
    }

    #[test]
    fn bad_values_are_named() {
        let e = Config::load(None, env(&[("ASA_CAPACITY", "lots")])).unwrap_err();
        assert!(e.to_string().contains("ASA_CAPACITY"), "{e}");
        let e = Config::load(None, env(&[("ASA_NO_SUCH_KEY", "1")])).unwrap_err();
        assert!(e.to_string().contains("ASA_NO_SUCH_KEY"), "{e}");
        let e = Config::load(None, env(&[("ASA_TRACE_RETENTION_DAYS", "3")])).unwrap_err();
        assert!(e.to_string().contains("at least 7"), "{e}");
    }

    /// Every key of the defaults, plans included, is read from `ASA_` + its path by the
    /// rule alone: a new field gets its variable without a line of mapping.
    #[test]
    fn every_default_key_has_its_variable() {
        fn leaves(prefix: &str, v: &toml::Value, out: &mut Vec<(String, String)>) {
            match v {
                toml::Value::Table(t) => {
                    for (k, v) in t {
                        leaves(&format!("{prefix}_{}", k.to_ascii_uppercase()), v, out);
                    }
                }
                toml::Value::String(s) => out.push((prefix.to_string(), s.clone())),
                toml::Value::Array(_) => {}
                other => out.push((prefix.to_string(), other.to_string())),
            }
        }
        let defaults = toml::Value::try_from(Config::default()).unwrap();
        let mut vars = Vec::new();
        leaves("ASA", &defaults, &mut vars);
        assert!(vars.len() > 40, "{vars:?}");
        assert!(vars.iter().any(|(k, _)| k == "ASA_PLANS_CUSTOM_COUNTRIES"));
        assert!(vars.iter().any(|(k, _)| k == "ASA_UPSTREAM_PAGES_AT_ONCE"));
        let c = Config::load(None, vars.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c,
            Config::default(),
            "each variable set its own key to its default"
        );
    }

    /// Optional keys (absent from the defaults) are found by their field names too.
    #[test]
    fn optional_keys_without_defaults() {
        let c = Config::load(
            None,
            env(&[
                ("ASA_DOCS_BASE_URL", "https://docs.example"),
                ("ASA_DATABASE_SCHEMA", "123"),
            ]),
        )
        .unwrap();
        assert_eq!(c.docs_base_url.as_deref(), Some("https://docs.example"));
        assert_eq!(c.database_schema.as_deref(), Some("123"), "text stays text");
    }

    /// Map entries: a key is a step of the path; it may hold `_`; an existing key is matched
    /// whatever its case; one field of an existing plan changes alone.
    #[test]
    fn map_entries_by_the_same_rule() {
        let c = Config::load(
            None,
            env(&[
                ("ASA_PLANS_MY_TEAM_CONCURRENCY", "2"),
                ("ASA_PLANS_MY_TEAM_RPS", "1.5"),
                ("ASA_PLANS_MY_TEAM_BURST", "4"),
                ("ASA_PLANS_MY_TEAM_COUNTRIES", "own"),
                ("ASA_PLANS_PRO_RPS", "30"),
                ("ASA_PROXIES_DEFAULT", "http://127.0.0.1:3"),
                ("ASA_PROXIES_US", "http://127.0.0.1:4,"),
            ]),
        )
        .unwrap();
        assert_eq!(c.plans["my_team"].burst, 4);
        assert_eq!(c.plans["my_team"].rps, 1.5);
        assert_eq!(
            c.plans["my_team"].countries,
            Countries::Keyword(CountryKeyword::Own)
        );
        assert_eq!((c.plans["pro"].rps, c.plans["pro"].burst), (30.0, 60));
        assert_eq!(c.proxies["US"], vec!["http://127.0.0.1:4".to_string()]);
        assert_eq!(c.proxies["DEFAULT"].len(), 1);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asa.toml");
        std::fs::write(&path, "[proxies]\ndefault = [\"http://127.0.0.1:1\"]\n").unwrap();
        let c = Config::load(
            Some(path.to_str().unwrap()),
            env(&[("ASA_PROXIES_DEFAULT", "http://127.0.0.1:2")]),
        )
        .unwrap();
        assert_eq!(c.proxies.len(), 1, "{:?}", c.proxies);
        assert_eq!(c.proxies["default"], vec!["http://127.0.0.1:2".to_string()]);
    }

    /// Names the rule cannot place are refused with the variable named.
    #[test]
    fn unknown_variables_are_refused() {
        for (var, why) in [
            ("ASA_UPSTREAM_NOPE", "not a config key"),
            ("ASA_UPSTREAM", "names a section"),
            ("ASA_PLANS_GOLD", "not a config key"),
            ("ASA_PLANS_GOLD_SPEED", "not a config key"),
            ("ASA_PLANS", "names a section"),
            ("ASA_LISTENER", "not a config key"),
            ("ASA_", "not a config key"),
        ] {
            let e = Config::load(None, env(&[(var, "1")])).unwrap_err();
            assert!(
                matches!(&e, ConfigError::Env { var: v, .. } if v == var),
                "{e}"
            );
            assert!(e.to_string().contains(why), "{var}: {e}");
        }
        let e = Config::load(None, env(&[("ASA_PLANS_PRO_COUNTRIES", "de,france")])).unwrap_err();
        assert!(e.to_string().contains("FRANCE"), "{e}");
        let e = Config::load(None, env(&[("ASA_PLANS_PRO_BURST", "many")])).unwrap_err();
        assert!(e.to_string().contains("ASA_PLANS_PRO_BURST"), "{e}");
    }

    /// The shape the rule walks is the types' own: sections, maps and their values.
    #[test]
    fn the_traced_shape_is_the_config_types() {
        use env::Shape;
        let Shape::Struct(fields) = Shape::of::<Config>().unwrap() else {
            panic!("the config is a struct")
        };
        let field = |name: &str| fields.iter().find(|(f, _)| *f == name).unwrap().1.clone();
        assert_eq!(
            field("proxies"),
            Shape::Map(Box::new(Shape::Seq(Box::new(Shape::Text))))
        );
        assert_eq!(
            field("plans"),
            Shape::Map(Box::new(Shape::Struct(vec![
                ("concurrency", Shape::Int),
                ("rps", Shape::Float),
                ("burst", Shape::Int),
                ("countries", Shape::Text),
            ])))
        );
        assert_eq!(field("redis_url"), Shape::Option(Box::new(Shape::Text)));
        assert_eq!(field("capacity"), Shape::Int);
        assert!(
            matches!(field("upstream"), Shape::Struct(f) if f.iter().any(|(n, s)| *n == "timeout" && *s == Shape::Text))
        );
    }

    #[test]
    fn file_then_env() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("asa.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:7000\"\ncapacity = 5\n[upstream]\ntimeout = \"10s\"\n[plans.team]\nconcurrency = 4\nrps = 1.5\nburst = 3\ncountries = \"own\"\n",
        )
        .unwrap();
        let c = Config::load(Some(path.to_str().unwrap()), env(&[("ASA_CAPACITY", "9")])).unwrap();
        assert_eq!(c.listen, "127.0.0.1:7000");
        assert_eq!(c.capacity, 9);
        assert_eq!(c.upstream.timeout, Duration::from_secs(10));
        assert_eq!(c.upstream.max_attempts, 4);
        assert_eq!(c.plans["team"].burst, 3);
        assert!(c.plans.contains_key("free"));
    }
}
