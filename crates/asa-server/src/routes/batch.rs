//! `/api/v1/amazon/batch`: create a batch (201, the webhook secret shown once, idempotent
//! with `Idempotency-Key`), read one with its results (paged), list the account's recent
//! ones. Items run in the background (see `crate::batches::worker`).

use super::{authenticate, finish};
use crate::batches::body::{self, BatchBody, BatchList};
use crate::batches::{create, target};
use crate::error::ApiError;
use crate::pipeline::Ctx;
use crate::state::AppState;
use asa_model::{ErrorCode, RequestId};
use asa_store::batch::NewBatch;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::Extension;
use rand::distributions::{Alphanumeric, DistString};

/// What creating a batch can answer: it checks every item like its sync call, up to the
/// region.
pub const CREATE_CODES: &[ErrorCode] = &[
    ErrorCode::InvalidParams,
    ErrorCode::Unauthorized,
    ErrorCode::Revoked,
    ErrorCode::NotFound,
    ErrorCode::InsufficientCredits,
    ErrorCode::ForbiddenRegion,
    ErrorCode::NotImplemented,
    ErrorCode::InternalError,
];

/// Longest accepted `Idempotency-Key`.
const MAX_IDEMPOTENCY_KEY: usize = 255;
/// Results per page of `GET /amazon/batch/{id}`: all of a full batch by default.
const MAX_RESULTS: u32 = create::MAX_ITEMS as u32;

fn to_json(body: &impl serde::Serialize) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(ApiError::internal)
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let rule = format!("must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters");
    let s = v
        .to_str()
        .map_err(|_| ApiError::param("Idempotency-Key", &rule))?
        .trim();
    if s.is_empty() || s.len() > MAX_IDEMPOTENCY_KEY || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::param("Idempotency-Key", rule));
    }
    Ok(Some(s.to_string()))
}

#[utoipa::path(
    post,
    path = "/amazon/batch",
    operation_id = "create_batch",
    tag = "amazon",
    request_body(content = serde_json::Value, content_type = "application/json", description = "`endpoint` (amazon.product or amazon.search), 1..=1000 `items` each holding that endpoint's parameters, and an optional `webhook_url`"),
    params(("Idempotency-Key" = Option<String>, Header, pattern = "^[!-~]{1,255}$", description = "Makes a repeated POST return the first batch instead of creating a second")),
    responses((status = 201, description = "The batch, queued; `webhook_signature_secret` is shown only here. A repeat with the same Idempotency-Key answers the first batch again.", body = BatchBody))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(id): Extension<RequestId>,
    headers: HeaderMap,
    uri: Uri,
    body: Body,
) -> Response {
    let mut ctx = Ctx::default();
    let mut replayed = false;
    let result = async {
        let (caller, _) = authenticate(&mut ctx, &state, &headers, &uri).await?;
        let limit = state.config.max_body_bytes;
        let bytes = axum::body::to_bytes(body, limit)
            .await
            .map_err(|_| ApiError::param("body", format!("must be at most {limit} bytes")))?;
        let allow_private = state.config.batches.allow_private_webhooks;
        let creation = create::parse(&caller, &bytes, allow_private)?;
        let idempotency_key = idempotency_key(&headers)?;
        if let Some(url) = &creation.webhook_url {
            target::resolve(url, allow_private)
                .await
                .map_err(|rule| ApiError::param("webhook_url", rule))?;
        }
        if !caller.is_sandbox()
            && caller.account.auto_topup.is_none()
            && caller.account.balance < crate::COST_PER_PAGE
        {
            return Err(ApiError::new(
                ErrorCode::InsufficientCredits,
                format!(
                    "Your balance is {} credits and each item costs {}; top up or turn on auto-top-up.",
                    caller.account.balance,
                    crate::COST_PER_PAGE
                ),
            ));
        }
        let secret = format!("whsec_{}", Alphanumeric.sample_string(&mut rand::thread_rng(), 32));
        let (batch, created) = state
            .store
            .create_batch(NewBatch {
                account_id: caller.account.id.clone(),
                key_id: caller.key.id.clone(),
                endpoint: creation.endpoint,
                items: creation.items,
                webhook_url: creation.webhook_url,
                webhook_secret: secret,
                idempotency_key,
                request_id: id.clone(),
            })
            .await
            .map_err(|e| ApiError::internal(format!("creating a batch: {e}")))?;
        if created {
            state.batch_wake.notify_one();
        }
        replayed = !created;
        let body = BatchBody {
            webhook_signature_secret: Some(batch.webhook_secret.clone()),
            request_id: Some(id.to_string()),
            ..body::summary(&batch, &state.docs_base)
        };
        Ok((StatusCode::CREATED, to_json(&body)?))
    }
    .await;
    let mut res = finish(ctx, result);
    if replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}

#[utoipa::path(
    get,
    path = "/amazon/batch/{id}",
    operation_id = "get_batch",
    tag = "amazon",
    params(
        ("id" = String, Path, description = "A batch id of the caller's account (bat_ + 16 hex)"),
        ("results_offset" = Option<u32>, Query, description = "First item index of the results page (default 0)"),
        ("results_limit" = Option<u32>, Query, minimum = 1, maximum = 1000, description = "Items per results page, 1..=1000 (default 1000)"),
    ),
    responses((status = 200, description = "The batch with its processed items' results", body = BatchBody))
)]
pub async fn read(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    Path(batch_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        let (caller, q) = authenticate(&mut ctx, &state, &headers, &uri).await?;
        let offset = q.integer("results_offset", 0, u32::MAX, 0)?;
        let limit = q.integer("results_limit", 1, MAX_RESULTS, MAX_RESULTS)?;
        // Another account's batch is answered exactly like a missing one.
        let not_found = || {
            ApiError::new(
                ErrorCode::NotFound,
                "No batch with this id on your account.",
            )
        };
        let batch = state
            .store
            .batch(&batch_id, Some(&caller.account.id))
            .await
            .map_err(|e| ApiError::internal(format!("reading a batch: {e}")))?
            .ok_or_else(not_found)?;
        let items = state
            .store
            .batch_items(&batch.id, offset, limit)
            .await
            .map_err(|e| ApiError::internal(format!("reading batch results: {e}")))?;
        let next = u64::from(offset) + items.len() as u64;
        let body = BatchBody {
            // Below the total count, so it fits.
            results_next_offset: (next < u64::from(batch.total_count)).then_some(next as u32),
            request_id: Some(rid.to_string()),
            ..body::with_results(&batch, &state.docs_base, &items)
        };
        Ok((StatusCode::OK, to_json(&body)?))
    }
    .await;
    finish(ctx, result)
}

#[utoipa::path(
    get,
    path = "/amazon/batch",
    operation_id = "list_batches",
    tag = "amazon",
    params(("limit" = Option<u32>, Query, minimum = 1, maximum = 100, description = "How many of the most recent batches, 1..=100 (default 20)")),
    responses((status = 200, description = "The account's most recent batches, newest first, without their results", body = BatchList))
)]
pub async fn list(
    State(state): State<AppState>,
    Extension(rid): Extension<RequestId>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let mut ctx = Ctx::default();
    let result = async {
        let (caller, q) = authenticate(&mut ctx, &state, &headers, &uri).await?;
        let limit = q.integer("limit", 1, 100, 20)?;
        let batches = state
            .store
            .batches(&caller.account.id, limit)
            .await
            .map_err(|e| ApiError::internal(format!("listing batches: {e}")))?;
        let list = BatchList {
            batches: batches
                .iter()
                .map(|b| body::summary(b, &state.docs_base))
                .collect(),
            request_id: rid.to_string(),
        };
        Ok((StatusCode::OK, to_json(&list)?))
    }
    .await;
    finish(ctx, result)
}
