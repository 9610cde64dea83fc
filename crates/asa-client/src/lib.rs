//! asa-client: the Rust SDK of asa. It owns the typed calls of the API (`product`,
//! `search`, `create_batch`, `get_batch`, `list_batches`, `account`, `trace`), the typed
//! errors read from the envelope, the retry policy of docs/API.md, client-side pacing for bulk
//! runs, webhook signature checks, and where a client finds its URL and key.
//!
//! It must not duplicate the error catalog: whether a code is retried and how long to
//! wait come from [`asa_model::ErrorCode::retry`]; this crate only adds jitter and the
//! caller's budget. Parameter rules are the server's: the client carries parameters, it
//! does not re-validate them.
//!
//! ```no_run
//! # async fn demo() -> Result<(), asa_client::Error> {
//! let asa = asa_client::Client::new()?; // ASA_BASE_URL, ASA_API_KEY or ~/.asa/credentials
//! let p = asa.product(asa_client::ProductParams::new("B000LQXC2Q").domain("de")).await?;
//! println!("{:?} ({})", p.data.title, p.request_id());
//! # Ok(()) }
//! ```
//!
//! # Layout
//! - [`client`]: `Client`, `ClientBuilder`, the typed calls.
//! - [`call`]: one call's attempts, decisions, waits, the observer hook and the send hook.
//! - [`retry`]: `RetryPolicy`: the catalog's advice turned into delays and a budget.
//! - [`error`]: `Error`, `ApiError`, `Attempt`, `Stop`.
//! - [`params`], [`types`]: request parameters and response bodies.
//! - [`pacer`]: the shared request rate and the common pause on 429/503.
//! - [`config`]: base URL and key from arguments, environment, `~/.asa/credentials`.
//! - [`webhook`]: `X-ASA-Signature` signing and constant-time verification.
//! - [`blocking`]: a blocking facade.

pub mod blocking;
pub mod call;
pub mod client;
pub mod config;
pub mod error;
pub mod pacer;
pub mod params;
pub mod retry;
pub mod types;
pub mod webhook;

pub use asa_model::{ErrorCode, Product, SearchBody, SortBy};
pub use blocking::BlockingClient;
pub use call::{AttemptEvent, Next, SendEvent};
pub use client::{Client, ClientBuilder, Observer, SendHook};
pub use config::Credentials;
pub use error::{ApiError, Attempt, Error, Stop};
pub use params::{BatchEndpoint, BatchRequest, ProductParams, SearchParams};
pub use retry::{Jitter, RetryPolicy};
pub use types::{Account, Batch, BatchList, BatchResult, BatchStatus, Meta, Reply, Trace};
