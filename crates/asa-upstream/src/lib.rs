//! asa-upstream: fetches Amazon pages the way a browser would, through exit proxies in
//! the requested country, and records every attempt.
//!
//! It owns URL building per marketplace (language included), browser-grade headers and a
//! cookie jar per attempt, per-country proxy pools with one HTTP client per endpoint and a
//! circuit breaker, the per-attempt timeout, the overall deadline, retries through fresh
//! exits with full-jitter backoff, the body-size cap, and the mapping of how the attempts
//! ended to `upstream_timeout`, `blocked_by_amazon` or `target_unreachable`.
//!
//! It must not know about API keys, credits or plans, nor any HTTP-server concern
//! (envelopes, headers of our own responses): the caller checks those before fetching and
//! maps [`Fetched`] to its answer. What a page *means* is the caller's [`Judge`]'s call.
//! Proxy credentials never leave the HTTP client they were given to: attempts, health,
//! logs, errors and `Debug` output name proxies by id.
//!
//! # Layout
//! - [`config`]: [`UpstreamConfig`] (defaults: 45 s budget, 4 attempts, 8 MiB cap) and
//!   [`UpstreamError`].
//! - [`target`]: [`FetchRequest`], [`FetchTarget`], storefront URLs, the locale cookie and
//!   Accept-Language.
//! - `browser`: the pool of desktop Chrome/Firefox header sets, one picked per attempt.
//! - [`proxy`]: pools, exits (one HTTP client each) and [`ProxyHealth`].
//! - `breaker`: the circuit breaker of one exit.
//! - `exchange`: one attempt's HTTP exchange (redirects, cookies, the capped body).
//! - [`attempt`]: the [`Attempt`] record and its [`Outcome`].
//! - [`judge`]: [`Judge`], [`Verdict`], [`Fetched`], [`Delivered`], [`FetchError`].
//! - `fetch`: [`Upstream`] and its fetch loop.

pub mod attempt;
mod breaker;
mod browser;
pub mod config;
mod exchange;
mod fetch;
pub mod judge;
pub mod proxy;
pub mod target;

pub use attempt::{Attempt, Outcome};
pub use config::{UpstreamConfig, UpstreamError};
pub use fetch::Upstream;
pub use judge::{Delivered, FetchError, Fetched, Judge, Verdict};
pub use proxy::{ProxyHealth, ProxyState, DEFAULT_POOL, DIRECT};
pub use target::{FetchRequest, FetchTarget};
