//! The API listener's routes, each declared once: its handler carries its path and OpenAPI
//! description (`#[utoipa::path]`), and its registration below adds it to the router and
//! to `/openapi.json` together, with what the document says of it beyond the attribute
//! ([`Described`]). Anything unrouted is `404 not_found` in the envelope.
//!
//! Handlers are thin: authenticate, parse, call the pipeline or the store, and hand the
//! result to [`finish`]. Adding an endpoint is its parameters, its pipeline function, one
//! registration here and its SDK methods.

mod account;
mod amazon;
mod batch;
mod ops;
mod requests;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::openapi::{self, Described, ParamRules};
use crate::params::RawQuery;
use crate::pipeline::{Answer, Ctx};
use crate::state::AppState;
use crate::{docs, envelope, record};
use asa_model::ErrorCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

/// The API listener's router: `/api/v1`, the probes (`/healthz`, `/readyz`), the viewer
/// (`/docs/api`), the docs and `/openapi.json`,
/// with `extra` (the dashboard's pages, test routes) behind the same envelope.
pub fn router(state: AppState, extra: Router<AppState>) -> Router {
    // Only `/api/v1` is routed so far: every API request, and nothing else, leaves a trace.
    let (routes, document) = api()
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            record::record_trace,
        ))
        .merge(probes())
        .split_for_parts();
    let document = Arc::new(document);
    let routes = routes
        .route("/docs/guides/errors", get(docs::errors))
        .merge(docs::api_viewer())
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { Json(document) }
            }),
        )
        .merge(extra);
    envelope::wrap(routes, state)
}

/// The admin listener's router: the operator's pages and `/metrics`, which says how busy
/// the node is and what Amazon answers, so it is kept off the public listener.
pub fn admin_router(state: AppState) -> Router {
    let routes = crate::dashboard::operator_routes().route("/metrics", get(ops::metrics));
    envelope::wrap(routes, state)
}

/// The codes any authenticated route can answer with.
const COMMON: &[ErrorCode] = &[
    ErrorCode::InvalidParams,
    ErrorCode::Unauthorized,
    ErrorCode::Revoked,
    ErrorCode::NotFound,
    ErrorCode::RateLimited,
    ErrorCode::InternalError,
];

/// Every `/api/v1` route, with its description.
fn api() -> OpenApiRouter<AppState> {
    let fetching = |rules| Described {
        fetches: true,
        ..Described::new(&ErrorCode::ALL, rules)
    };
    let v1 = OpenApiRouter::new()
        .routes(described(
            routes!(amazon::product),
            fetching(ParamRules::Product),
        ))
        .routes(described(
            routes!(amazon::search),
            fetching(ParamRules::Search),
        ))
        .routes(described(
            routes!(batch::create),
            Described {
                body: Some(openapi::batch_create_schema),
                ..Described::new(batch::CREATE_CODES, ParamRules::Plain)
            },
        ))
        .routes(described(
            routes!(batch::read),
            Described::new(COMMON, ParamRules::BatchRead),
        ))
        .routes(described(
            routes!(batch::list),
            Described::new(COMMON, ParamRules::BatchList),
        ))
        .routes(described(
            routes!(account::show),
            Described::new(COMMON, ParamRules::Plain),
        ))
        .routes(described(
            routes!(requests::show),
            Described {
                links_to_trace: false,
                ..Described::new(COMMON, ParamRules::Trace)
            },
        ));
    OpenApiRouter::with_openapi(openapi::base()).nest("/api/v1", v1)
}

/// The probes of load balancers and orchestrators: untraced, unauthenticated.
fn probes() -> OpenApiRouter<AppState> {
    let probe = |errors| Described {
        links_to_trace: false,
        ..Described::new(errors, ParamRules::Plain)
    };
    OpenApiRouter::new()
        .routes(described(routes!(ops::healthz), probe(&[])))
        .routes(described(
            routes!(ops::readyz),
            probe(&[ErrorCode::Capacity]),
        ))
}

/// A route's registration with what the document says of it beyond its attribute.
fn described(
    (schemas, mut paths, method_router): UtoipaMethodRouter<AppState>,
    how: Described,
) -> UtoipaMethodRouter<AppState> {
    openapi::describe(&mut paths, &how);
    (schemas, paths, method_router)
}

/// The key step every `/api/v1` route starts with: reads the query, authenticates the key
/// it or the headers carry, and names the caller in the trace.
pub(crate) async fn authenticate(
    ctx: &mut Ctx,
    state: &AppState,
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
) -> Result<(Caller, RawQuery), ApiError> {
    let started = std::time::Instant::now();
    let q = RawQuery::parse(uri.query());
    let caller = crate::auth::authenticate(state, headers, q.api_key.as_deref()).await;
    state.metrics.stage("auth", started);
    let caller = caller?;
    ctx.name(&caller);
    Ok((caller, q))
}

/// The response of a handler: its answer, with what the envelope and the trace need.
pub(crate) fn finish(ctx: Ctx, answer: Answer) -> Response {
    let mut res = match answer {
        Ok((status, body)) => (status, Json(body)).into_response(),
        Err(e) => e.into_response(),
    };
    res.extensions_mut().insert(ctx.info);
    res.extensions_mut().insert(ctx.meta);
    res
}
