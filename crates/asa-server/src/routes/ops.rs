//! What operators and their monitors read: `/healthz` and `/metrics`.

use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;

pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = crate::metrics::exposition(&state.metrics, &state.traces, &state.upstream);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
