//! [`Client`] and its builder: the typed calls of the API.

use crate::call::{AttemptEvent, Request, SendEvent, Success};
use crate::config::{resolve, Credentials};
use crate::pacer::Pacer;
use crate::params::{BatchRequest, ProductParams, SearchParams};
use crate::retry::RetryPolicy;
use crate::types::{Account, Batch, BatchList, Reply, Trace};
use crate::Error;
use asa_model::{Product, SearchBody};
use reqwest::Method;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

/// The hook told about every attempt (see [`AttemptEvent`]).
pub type Observer = Arc<dyn Fn(&AttemptEvent<'_>) + Send + Sync>;

/// The hook told when an attempt is sent (see [`SendEvent`]).
pub type SendHook = Arc<dyn Fn(&SendEvent<'_>) + Send + Sync>;

/// Default time for one attempt: above the server's 45 s upstream budget.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// An asa API client. Cheap to clone; clones share the connection pool, the pacer and
/// the in-flight limit.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) base: url::Url,
    pub(crate) api_key: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) policy: RetryPolicy,
    pub(crate) observer: Option<Observer>,
    pub(crate) on_send: Option<SendHook>,
    pub(crate) pacer: Option<Pacer>,
    pub(crate) in_flight: Option<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base.as_str())
            .field("has_key", &self.inner.api_key.is_some())
            .field("policy", &self.inner.policy)
            .finish()
    }
}

/// Builds a [`Client`]. Unset values come from `ASA_BASE_URL` / `ASA_API_KEY`, then
/// `~/.asa/credentials`, then the defaults.
#[derive(Default)]
pub struct ClientBuilder {
    base_url: Option<String>,
    api_key: Option<String>,
    timeout: Option<Option<Duration>>,
    policy: RetryPolicy,
    observer: Option<Observer>,
    on_send: Option<SendHook>,
    rps: Option<f64>,
    max_in_flight: Option<usize>,
    http: Option<reqwest::Client>,
    ignore_environment: bool,
}

impl ClientBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
    /// Time for one attempt (default [`DEFAULT_TIMEOUT`]); `None` for no limit.
    pub fn timeout(mut self, t: Option<Duration>) -> Self {
        self.timeout = Some(t);
        self
    }
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }
    /// Overall budget of each call, attempts and waits together.
    pub fn deadline(mut self, d: Duration) -> Self {
        self.policy.deadline = Some(d);
        self
    }
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.policy.max_attempts = n.max(1);
        self
    }
    pub fn no_retries(mut self) -> Self {
        self.policy = RetryPolicy::off();
        self
    }
    pub fn observer(mut self, f: impl Fn(&AttemptEvent<'_>) + Send + Sync + 'static) -> Self {
        self.observer = Some(Arc::new(f));
        self
    }
    /// Told when each attempt is sent, after the in-flight limit and the pace let it go
    /// (runs on the calling task, like the observer).
    pub fn on_send(mut self, f: impl Fn(&SendEvent<'_>) + Send + Sync + 'static) -> Self {
        self.on_send = Some(Arc::new(f));
        self
    }
    /// Paces every attempt of every call to at most `rps` per second, and holds them all
    /// when the server answers 429/503 with `Retry-After`.
    pub fn rate_limit(mut self, rps: f64) -> Self {
        self.rps = Some(rps);
        self
    }
    /// At most `n` attempts in flight at once (waits do not hold a slot).
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n.max(1));
        self
    }
    /// A preconfigured reqwest client (proxies, TLS roots, pool settings).
    pub fn http_client(mut self, c: reqwest::Client) -> Self {
        self.http = Some(c);
        self
    }
    /// Use only the values given to the builder: no environment, no credentials file.
    pub fn ignore_environment(mut self) -> Self {
        self.ignore_environment = true;
        self
    }

    pub fn build(self) -> Result<Client, Error> {
        let use_env = !self.ignore_environment;
        let creds = match Credentials::default_path().filter(|_| use_env) {
            Some(p) => Credentials::load(&p).map_err(|e| Error::Config(e.to_string()))?,
            None => Credentials::default(),
        };
        let env = |k: &str| std::env::var(k).ok().filter(|_| use_env);
        let r = resolve(self.base_url, self.api_key, env, &creds);
        let mut base = url::Url::parse(&r.base_url)
            .map_err(|e| Error::Config(format!("base URL {:?}: {e}", r.base_url)))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base URL {:?}: only http and https are supported",
                r.base_url
            )));
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let http = match self.http {
            Some(h) => h,
            None => reqwest::Client::builder()
                .user_agent(concat!("asa-client/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| Error::Config(format!("HTTP client: {e}")))?,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                api_key: r.api_key,
                timeout: self.timeout.unwrap_or(Some(DEFAULT_TIMEOUT)),
                policy: self.policy,
                observer: self.observer,
                on_send: self.on_send,
                pacer: self.rps.map(Pacer::new),
                in_flight: self.max_in_flight.map(tokio::sync::Semaphore::new),
            }),
        })
    }
}

impl Inner {
    pub(crate) fn url(&self, path: &str) -> Result<url::Url, Error> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::Config(format!("URL for {path}: {e}")))
    }
}

/// A path segment, percent-encoded (an id typed by a user must not change the route).
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Client {
    /// A client from the environment and the credentials file.
    pub fn new() -> Result<Client, Error> {
        ClientBuilder::new().build()
    }

    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    pub fn policy(&self) -> &RetryPolicy {
        &self.inner.policy
    }

    /// One product page, extracted.
    pub async fn product(&self, params: impl Into<ProductParams>) -> Result<Reply<Product>, Error> {
        let p = params.into();
        self.get(
            "amazon.product",
            "api/v1/amazon/product".into(),
            p.query_pairs(),
        )
        .await
    }

    /// A keyword search over one or more result pages.
    pub async fn search(
        &self,
        params: impl Into<SearchParams>,
    ) -> Result<Reply<SearchBody>, Error> {
        let p = params.into();
        self.get(
            "amazon.search",
            "api/v1/amazon/search".into(),
            p.query_pairs(),
        )
        .await
    }

    /// Creates an asynchronous batch; the answer holds the webhook secret (shown once).
    pub async fn create_batch(&self, batch: BatchRequest) -> Result<Reply<Batch>, Error> {
        let key = batch
            .idempotency_key
            .clone()
            .unwrap_or_else(|| format!("asa-client-{:032x}", rand::random::<u128>()));
        let body =
            serde_json::to_value(&batch).map_err(|e| Error::Config(format!("batch body: {e}")))?;
        let s = self
            .inner
            .execute(Request {
                endpoint: "amazon.batch",
                method: Method::POST,
                path: "api/v1/amazon/batch".into(),
                query: vec![],
                body: Some(body),
                idempotency_key: Some(key),
            })
            .await?;
        typed(s)
    }

    /// A batch's status and results.
    pub async fn get_batch(&self, id: &str) -> Result<Reply<Batch>, Error> {
        self.get(
            "amazon.batch",
            format!("api/v1/amazon/batch/{}", segment(id)),
            vec![],
        )
        .await
    }

    /// The account's recent batches, newest first.
    pub async fn list_batches(&self, limit: Option<u32>) -> Result<Reply<BatchList>, Error> {
        let q = limit.map(|l| vec![("limit".to_string(), l.to_string())]);
        self.get(
            "amazon.batch",
            "api/v1/amazon/batch".into(),
            q.unwrap_or_default(),
        )
        .await
    }

    /// Plan, limits, credits and usage of the key's account.
    pub async fn account(&self) -> Result<Reply<Account>, Error> {
        self.get("account", "api/v1/account".into(), vec![]).await
    }

    /// The stored trace of one of the account's requests.
    pub async fn trace(&self, request_id: &str) -> Result<Reply<Trace>, Error> {
        self.get(
            "requests",
            format!("api/v1/requests/{}", segment(request_id)),
            vec![],
        )
        .await
    }

    /// Any GET under the base URL, as raw JSON, with the same retry policy.
    pub async fn get_json(
        &self,
        path: &str,
        query: Vec<(String, String)>,
    ) -> Result<Reply<serde_json::Value>, Error> {
        self.get("raw", path.trim_start_matches('/').to_string(), query)
            .await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &str,
        path: String,
        query: Vec<(String, String)>,
    ) -> Result<Reply<T>, Error> {
        let s = self
            .inner
            .execute(Request {
                endpoint,
                method: Method::GET,
                path,
                query,
                body: None,
                idempotency_key: None,
            })
            .await?;
        typed(s)
    }
}

fn typed<T: DeserializeOwned>(s: Success) -> Result<Reply<T>, Error> {
    match T::deserialize(&s.raw) {
        Ok(data) => Ok(Reply {
            data,
            raw: s.raw,
            meta: s.meta,
            attempts: s.attempts,
        }),
        Err(source) => Err(Error::Decode {
            status: s.meta.status,
            request_id: s.meta.request_id,
            source,
            attempts: s.attempts,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_change_the_route() {
        assert_eq!(segment("req_0123456789ab"), "req_0123456789ab");
        assert_eq!(segment("../account?x"), "..%2Faccount%3Fx");
        let c = Client::builder()
            .ignore_environment()
            .base_url("http://127.0.0.1:9/prefix")
            .build()
            .unwrap();
        assert_eq!(
            c.inner.url("api/v1/account").unwrap().as_str(),
            "http://127.0.0.1:9/prefix/api/v1/account"
        );
        assert!(Client::builder()
            .ignore_environment()
            .base_url("ftp://127.0.0.1")
            .build()
            .is_err());
    }
}
