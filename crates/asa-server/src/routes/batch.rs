//! `/api/v1/amazon/batch`: the routes exist and check the key and the body like every
//! other; asynchronous batches themselves are not built yet, and the answer says so
//! (`501 not_implemented`) rather than pretending.

use super::Ctx;
use crate::error::ApiError;
use crate::state::AppState;
use asa_model::ErrorCode;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

fn not_yet() -> ApiError {
    ApiError::new(
        ErrorCode::NotImplemented,
        "Asynchronous batches are not available on this server yet; call /api/v1/amazon/product or /search per item.",
    )
}

pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        ctx.authenticate(&state, &headers, &uri).await?;
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::param("body", format!("must be at most {limit} bytes")))?;
        serde_json::from_slice::<serde_json::Value>(&bytes)
            .map_err(|e| ApiError::param("body", format!("must be a JSON object: {e}")))?;
        Err(not_yet())
    }
    .await;
    ctx.finish(result)
}

pub async fn read(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        ctx.authenticate(&state, &headers, &uri).await?;
        Err(not_yet())
    }
    .await;
    ctx.finish(result)
}
