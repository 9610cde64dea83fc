//! What operators and their monitors read: `/healthz` (liveness), `/readyz` (readiness)
//! and `/metrics`.

use crate::error::ApiError;
use crate::state::AppState;
use asa_model::ErrorCode;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Duration;

/// How long each dependency may take to answer a readiness probe; probes are usually
/// given a few seconds in all.
const PROBE_BUDGET: Duration = Duration::from_secs(2);
/// What a not-ready node advises: probes come again within seconds.
const NOT_READY_RETRY_AFTER: u64 = 5;

/// The process is up and serving HTTP; says nothing of the database or Redis.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "ops",
    security(()),
    responses((status = 200, description = "Liveness: the process serves HTTP (`{\"status\":\"ok\"}`); it checks no dependency", body = serde_json::Value))
)]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Whether this node can serve: the database answers with this build's migrations all
/// applied (and none it does not know), and Redis answers when limits are shared.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "ops",
    security(()),
    responses((status = 200, description = "Readiness: the database answers and its migrations are current, and Redis answers when configured (`{\"status\":\"ready\",...}`)", body = serde_json::Value))
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems = Vec::new();
    match tokio::time::timeout(PROBE_BUDGET, state.store.schema_status()).await {
        Ok(Ok(status)) if status.is_current() => {}
        // Migration names are not secrets, and they are what the operator must act on.
        Ok(Ok(status)) => problems.push(format!(
            "the database schema is not current ({}); run `asa migrate`",
            status.summary()
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database did not answer");
            problems.push("the database does not answer".into());
        }
        Err(_) => problems.push(format!(
            "the database did not answer within {PROBE_BUDGET:?}"
        )),
    }
    let limits = state.limiter.backend();
    match tokio::time::timeout(PROBE_BUDGET, state.limiter.ping()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the limits backend did not answer");
            problems.push(format!("the {limits} limits backend does not answer"));
        }
        Err(_) => problems.push(format!(
            "the {limits} limits backend did not answer within {PROBE_BUDGET:?}"
        )),
    }
    if problems.is_empty() {
        return Json(serde_json::json!({
            "status": "ready",
            "database": "ok",
            "limits": limits,
        }))
        .into_response();
    }
    // `capacity` is the catalog's 503: this node cannot take work now; retry after the
    // delay, or elsewhere.
    ApiError::new(
        ErrorCode::Capacity,
        format!("This node is not ready: {}.", problems.join("; ")),
    )
    .with_retry_after(NOT_READY_RETRY_AFTER)
    .into_response()
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = crate::metrics::exposition(&state.metrics, &state.traces, &state.upstream);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
