//! asa-server: the HTTP API. It wires the request pipeline of ARCHITECTURE.md
//! (request id ─▶ route ─▶ key ─▶ params ─▶ region ─▶ rate/capacity ─▶ credits ─▶ upstream
//! ─▶ extract ─▶ settle ─▶ trace) out of the library crates, renders the error envelope,
//! and serves the docs page, the OpenAPI document and health checks.
//!
//! # Layout
//! - [`config`]: the typed configuration (file, `ASA_*` environment, flags).
//! - [`app`]: `Application::build` (binds, port 0 in tests) and graceful shutdown.
//! - [`client_ip`]: the client's address, from the peer or its trusted proxies.
//! - [`envelope`]: the outermost middleware: request ids, panics, envelope, headers.
//! - [`error`]: `ApiError` and the wire `Envelope`.
//! - [`params`]: query parameters parsed into typed requests.
//! - [`pipeline`]: one billable call, from caller and parameters to body and cost; every
//!   transport (the routes, the batch worker, the playground) runs calls through it.
//! - [`routes`]: the API listener's routes, each declared once with its OpenAPI description.
//! - [`batches`]: batch creation checks, the node's batch worker and webhook deliveries.
//! - [`docs`], [`openapi`]: the error table page and `/openapi.json`.
//! - [`dashboard`]: the account holders' web pages and the operator's (admin listener).
//! - [`dev`]: a simulator and a server started together on port 0 (`asa dev`, harnesses).
//! - [`dev_runtime`]: whether a test's other runtime (python3, node, ...) runs; skipped
//!   with a reason where it does not, a failure under CI.
//!
//! It must not hold business rules that belong to the library crates (billing, limits,
//! extraction, fetching): it calls them.

pub mod app;
pub mod auth;
pub mod batches;
pub mod client_ip;
pub mod config;
pub mod conn_limit;
pub mod dashboard;
pub mod dev;
pub mod dev_runtime;
pub mod docs;
pub mod envelope;
pub mod error;
pub mod failures;
#[cfg(test)]
mod layering;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod pipeline;
pub mod record;
pub mod routes;
pub mod state;
pub mod traces;

/// Credits one product page or one search result page costs.
pub const COST_PER_PAGE: asa_model::Credits = asa_model::Credits(5);

pub use app::Application;
pub use config::Config;
pub use error::{ApiError, Envelope};
