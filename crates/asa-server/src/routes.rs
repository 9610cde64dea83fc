//! The router: every route of API.md, the docs, OpenAPI and health; anything else is
//! `404 not_found` in the envelope, whatever the method.

use crate::error::ApiError;
use crate::state::AppState;
use crate::{docs, envelope, openapi};
use asa_model::ErrorCode;
use axum::routing::get;
use axum::{Json, Router};

pub fn router(state: AppState, extra: Option<Router<AppState>>) -> Router {
    let api = Router::new()
        .route("/amazon/product", get(product))
        .route("/amazon/search", get(search));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(healthz))
        .route("/docs/guides/errors", get(docs::errors))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .merge(extra.unwrap_or_default())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            envelope::request_envelope,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::of(ErrorCode::NotFound)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn product() -> ApiError {
    ApiError::internal("not wired")
}

async fn search() -> ApiError {
    ApiError::internal("not wired")
}
