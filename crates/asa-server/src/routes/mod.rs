//! The router: every route of API.md, the docs, OpenAPI and health; anything else is
//! `404 not_found` in the envelope, whatever the method.

pub(crate) mod account;
pub(crate) mod batch;
pub(crate) mod product;
pub(crate) mod requests;
pub(crate) mod search;

use crate::auth::Caller;
use crate::envelope::ResponseMeta;
use crate::error::ApiError;
use crate::params::RawQuery;
use crate::record::{self, TraceInfo};
use crate::state::AppState;
use crate::{docs, envelope, openapi};
use asa_model::ErrorCode;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

/// The admin listener's router: the operator's pages, behind the same envelope (request
/// ids, panics); anything else is `404 not_found`.
pub fn admin_router(state: AppState) -> Router {
    enveloped(crate::dashboard::operator_routes(), state)
}

/// Anything unrouted is `404 not_found`, and every answer goes through the envelope.
fn enveloped(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            envelope::request_envelope,
        ))
        .with_state(state)
}

pub fn router(state: AppState, extra: Option<Router<AppState>>) -> Router {
    let api = Router::new()
        .route("/amazon/product", get(product::get))
        .route("/amazon/search", get(search::get))
        .route("/amazon/batch", get(batch::list).post(batch::create))
        .route("/amazon/batch/{id}", get(batch::read))
        .route("/account", get(account::show))
        .route("/requests/{request_id}", get(requests::show))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            record::record_trace,
        ));
    let routes = Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::scrape))
        .route("/docs/guides/errors", get(docs::errors))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .merge(extra.unwrap_or_default())
        .merge(match state.config.dashboard.enabled {
            true => crate::dashboard::account_routes(),
            false => Router::new(),
        });
    enveloped(routes, state)
}

/// A caller the dashboard signed in, attached to the playground's in-process requests.
/// Only code in this process can attach an extension, so no HTTP request can carry one.
#[derive(Debug, Clone)]
pub struct SignedIn(pub Caller);

/// What a handler accumulates while it works, so that its answer, success or error,
/// carries the right headers and trace.
#[derive(Default)]
pub struct Ctx {
    pub info: TraceInfo,
    pub meta: ResponseMeta,
}

impl Ctx {
    /// The key step every `/api/v1` route starts with: reads the query, authenticates the
    /// key it or the headers carry, and names the caller in the trace.
    pub async fn authenticate(
        &mut self,
        state: &AppState,
        headers: &axum::http::HeaderMap,
        uri: &axum::http::Uri,
    ) -> Result<(Caller, RawQuery), ApiError> {
        let started = std::time::Instant::now();
        let q = RawQuery::parse(uri.query());
        let caller = crate::auth::authenticate(state, headers, q.api_key.as_deref()).await;
        state.metrics.stage("auth", started);
        let caller = caller?;
        self.name(&caller);
        Ok((caller, q))
    }

    /// [`Ctx::authenticate`], unless the dashboard's playground already signed the caller
    /// in (then its key was checked when the session was).
    pub async fn authenticate_or_signed_in(
        &mut self,
        state: &AppState,
        headers: &axum::http::HeaderMap,
        uri: &axum::http::Uri,
        signed_in: Option<SignedIn>,
    ) -> Result<(Caller, RawQuery), ApiError> {
        match signed_in {
            Some(SignedIn(caller)) => {
                self.name(&caller);
                Ok((caller, RawQuery::parse(uri.query())))
            }
            None => self.authenticate(state, headers, uri).await,
        }
    }

    fn name(&mut self, caller: &Caller) {
        self.info.account_id = Some(caller.account.id.clone());
        self.info.key_prefix = Some(caller.key.short_prefix.clone());
    }

    /// Adds a page fetch's attempts and extractor result to the headers and the trace.
    pub fn observe(&mut self, page: &crate::fetch::Fetched) {
        let n = page.attempts.len() as u32;
        self.meta.attempts = Some(self.meta.attempts.unwrap_or(0) + n);
        if page.source_status.is_some() {
            self.meta.source_status = page.source_status;
        }
        if page.resolved_url.is_some() {
            self.meta.resolved_url = page.resolved_url.clone();
        }
        self.meta.extractor_version = Some(asa_extract::EXTRACTOR_VERSION);
        let attempts = self
            .info
            .attempts
            .get_or_insert_with(|| serde_json::Value::Array(vec![]));
        if let (Some(list), Ok(serde_json::Value::Array(more))) = (
            attempts.as_array_mut(),
            serde_json::to_value(&page.attempts),
        ) {
            list.extend(more);
        }
        match &mut self.info.extractor {
            None => self.info.extractor = Some(page.extractor.clone()),
            Some(serde_json::Value::Array(list)) => list.push(page.extractor.clone()),
            Some(first) => {
                *first = serde_json::Value::Array(vec![first.clone(), page.extractor.clone()])
            }
        }
    }

    pub fn finish(self, result: Result<(StatusCode, serde_json::Value), ApiError>) -> Response {
        let mut res = match result {
            Ok((status, body)) => (status, Json(body)).into_response(),
            Err(e) => e.into_response(),
        };
        res.extensions_mut().insert(self.info);
        res.extensions_mut().insert(self.meta);
        res
    }
}

async fn not_found() -> ApiError {
    ApiError::of(ErrorCode::NotFound)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}
