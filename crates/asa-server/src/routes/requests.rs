//! `GET /api/v1/requests/{request_id}`: the stored trace of one of the account's own
//! requests. Another account's id answers exactly like a missing one.

use super::{authenticate, finish};
use crate::error::ApiError;
use crate::pipeline::Ctx;
use crate::state::AppState;
use asa_model::{ErrorCode, RequestId};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

#[utoipa::path(
    get,
    path = "/requests/{request_id}",
    operation_id = "get_request_trace",
    tag = "account",
    params(("request_id" = String, Path, description = "A request id of the caller's account (req_ + 12 hex)")),
    responses((status = 200, description = "The stored trace, with every upstream attempt", body = serde_json::Value))
)]
pub async fn show(
    State(state): State<AppState>,
    Path(request_id): Path<RequestId>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        let (caller, _) = authenticate(&mut ctx, &state, &headers, &uri).await?;
        // A trace is readable right after its response: write what is queued first.
        state.traces.flush().await;
        let trace = state
            .store
            .trace(&request_id, Some(&caller.account.id))
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    format!(
                        "No request {request_id} in this account's traces (they are kept {} days).",
                        state.config.trace_retention_days
                    ),
                )
            })?;
        let body = serde_json::to_value(&trace).map_err(ApiError::internal)?;
        Ok((StatusCode::OK, body))
    }
    .await;
    finish(ctx, result)
}
