//! The web dashboard: server-rendered pages (no build step, one small script) for account
//! holders under `/dashboard` on the API listener, and for the operator under `/operator`
//! on the admin listener only.
//!
//! # Layout
//! - [`session`]: the session cookie, the signed-in extractors, CSRF.
//! - [`login`]: signing in with an API key (or the admin token) and out.
//! - [`overview`] (with [`chart`]), [`keys`], [`requests`], [`batches`], [`playground`]:
//!   the account's pages.
//! - [`operator`]: the operator's page.
//! - [`page`]: the shell, headers and helpers every page shares.
//!
//! It reads and changes state only through the store and the request pipeline (the playground);
//! it holds no rule of its own about keys, credits or limits.

pub(crate) mod batches;
pub(crate) mod chart;
pub(crate) mod keys;
pub(crate) mod login;
pub(crate) mod operator;
pub(crate) mod overview;
pub(crate) mod page;
pub(crate) mod playground;
pub(crate) mod requests;
pub(crate) mod session;

use crate::state::AppState;
use axum::routing::{get, post};
use axum::Router;

async fn css() -> axum::response::Response {
    page::asset(page::CSS, "text/css; charset=utf-8")
}

async fn js() -> axum::response::Response {
    page::asset(page::JS, "text/javascript; charset=utf-8")
}

/// The account holders' pages, mounted on the API listener.
pub fn account_routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(overview::show))
        .route(
            "/dashboard/login",
            get(login::account_form).post(login::account_sign_in),
        )
        .route("/dashboard/logout", post(login::account_sign_out))
        .route("/dashboard/keys", get(keys::list).post(keys::create))
        .route("/dashboard/keys/{id}/rotate", post(keys::rotate))
        .route("/dashboard/keys/{id}/revoke", post(keys::revoke))
        .route("/dashboard/requests", get(requests::list))
        .route("/dashboard/requests/{id}", get(requests::show))
        .route("/dashboard/batches", get(batches::list))
        .route("/dashboard/batches/{id}", get(batches::show))
        .route(
            "/dashboard/playground",
            get(playground::show).post(playground::submit),
        )
        .route("/dashboard/assets/app.css", get(css))
        .route("/dashboard/assets/app.js", get(js))
}

/// The operator's pages, mounted only on the admin listener.
pub fn operator_routes() -> Router<AppState> {
    Router::new()
        .route("/operator", get(operator::show))
        .route(
            "/operator/login",
            get(login::operator_form).post(login::operator_sign_in),
        )
        .route("/operator/logout", post(login::operator_sign_out))
        .route("/operator/requests/{id}", get(operator::trace))
        .route("/operator/assets/app.css", get(css))
        .route("/operator/assets/app.js", get(js))
}
