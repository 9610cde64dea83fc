//! asa-upstream: fetches Amazon pages the way a browser would, through exit proxies in
//! the requested country, and records every attempt.
//!
//! It owns URL building per marketplace (language included), the HTTP engines (the
//! standard reqwest/rustls one, and with the `browser` cargo feature a wreq/BoringSSL one
//! that presents a browser's TLS and HTTP/2 fingerprints), browser profiles rotated per
//! marketplace, sticky sessions (one exit, cookie jar and profile for up to
//! `session_requests` pages, dropped on a challenge, their exit cooled down), per-country
//! proxy pools with one HTTP client per endpoint and a circuit breaker, the per-attempt
//! timeout, the overall deadline, retries through fresh exits with full-jitter backoff,
//! the body-size cap, admission by drain rate (no more requests upstream than the page
//! slots can drain before their deadlines), and the mapping of how the attempts ended to
//! `upstream_timeout`, `blocked_by_amazon`, `target_unreachable` or `capacity`.
//!
//! The default build stays pure Rust (no cmake, no clang): everything of the browser
//! engine is behind the `browser` feature.
//!
//! It must not know about API keys, credits or plans, nor any HTTP-server concern
//! (envelopes, headers of our own responses): the caller checks those before fetching and
//! maps [`Fetched`] to its answer. What a page *means* is the caller's [`Judge`]'s call.
//! Proxy credentials never leave the HTTP client they were given to: attempts, health,
//! logs, errors and `Debug` output name proxies by id.
//!
//! ```no_run
//! use asa_model::{Asin, Marketplace};
//! use asa_upstream::{FetchRequest, FetchTarget, Judge, Outcome, Upstream, UpstreamConfig, Verdict};
//! use std::sync::Arc;
//!
//! struct Pages;
//! impl Judge for Pages {
//!     type Output = usize;
//!     fn judge(&self, _status: u16, _url: &str, body: &[u8]) -> Verdict<usize> {
//!         if body.windows(11).any(|w| w == b"Robot Check") {
//!             Verdict::Retry { outcome: Outcome::Captcha, value: body.len() }
//!         } else {
//!             Verdict::Accept(body.len())
//!         }
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let upstream = Upstream::new(UpstreamConfig::default())?;
//! let req = FetchRequest {
//!     request_id: "req_0123456789ab".into(),
//!     marketplace: Marketplace::De,
//!     target: FetchTarget::Product { asin: Asin::parse("B0DEMO0001")? },
//!     language: "de_DE".into(),
//!     country: "DE".into(),
//! };
//! let fetched = upstream.fetch(&req, Arc::new(Pages)).await;
//! match fetched.result {
//!     Ok(page) => println!("{} bytes from {}", page.value, page.final_url),
//!     Err(e) => println!("{} after {} attempts", e.code().as_str(), fetched.attempts.len()),
//! }
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`config`]: [`UpstreamConfig`] (defaults: 45 s budget, 4 attempts, 8 MiB cap) and
//!   [`UpstreamError`].
//! - [`target`]: [`FetchRequest`], [`FetchTarget`], storefront URLs, the locale cookie and
//!   Accept-Language.
//! - `engine`: [`Engine`] and the one interface both engines answer (`standard`, and
//!   `browser` behind the feature).
//! - `profile`: desktop browser profiles (header sets for the standard engine, wreq-util
//!   emulations with their published JA4 / HTTP/2 fingerprints for the browser engine),
//!   and the per-marketplace rotation that hands them to new sessions.
//! - `session`: sticky sessions and their idle lists per marketplace and route.
//! - [`proxy`]: pools, exits (one HTTP client each) and [`ProxyHealth`].
//! - `breaker`: the circuit breaker of one exit.
//! - `exchange`: one attempt's HTTP exchange (redirects, cookies, the capped body).
//! - `intake`: admission by drain rate (how many requests go upstream at once, which
//!   wait, which are shed as `capacity`) and the page slots.
//! - [`attempt`]: the [`Attempt`] record and its [`Outcome`].
//! - [`judge`]: [`Judge`], [`Verdict`], [`Fetched`], [`Delivered`], [`FetchError`].
//! - `fetch`: [`Upstream`] and its fetch loop.

pub mod attempt;
mod breaker;
pub mod config;
mod engine;
mod exchange;
mod fetch;
mod intake;
pub mod judge;
mod profile;
pub mod proxy;
mod session;
pub mod target;

pub use attempt::{Attempt, Outcome};
pub use config::{UpstreamConfig, UpstreamError};
pub use engine::Engine;
pub use fetch::Upstream;
pub use judge::{Delivered, FetchError, Fetched, Judge, Verdict};
pub use proxy::{ProxyHealth, ProxyState, DEFAULT_POOL, DIRECT};
pub use target::{FetchRequest, FetchTarget};
