//! The JSON of a batch, as the creation answer, `GET /amazon/batch/{id}`, the list and
//! the `batch.completed` webhook all show it. These types are what is written, and what
//! the OpenAPI document describes.

use asa_store::batch::{Batch, BatchItem, ItemState};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};

/// A batch: its progress, its webhook's state and, when read by id, its results.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchBody {
    pub id: String,
    /// `pending`, `running`, `complete` (every item processed, at least one delivered) or
    /// `failed` (every item processed, none delivered).
    pub status: String,
    pub endpoint: String,
    pub total_count: u32,
    pub processed_count: u32,
    pub success_count: u32,
    pub failure_count: u32,
    /// Credits charged for the items delivered (each billed like its sync call).
    #[schema(value_type = i64)]
    pub credits_charged: asa_model::Credits,
    pub created_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub poll_url: String,
    pub webhook_url: Option<String>,
    /// `pending`, `delivered` or `failed`; null without a webhook.
    pub webhook_delivery_status: Option<String>,
    pub webhook_attempts: u32,
    pub webhook_next_attempt_at: Option<String>,
    pub webhook_last_error: Option<String>,
    /// `whsec_...`: only in the creation answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_signature_secret: Option<String>,
    /// Processed items `{index, input, status: ok|error, http_status, data, error,
    /// duration_ms, credits_charged, request_id}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<serde_json::Value>>,
    /// Present when more items follow: pass it as `results_offset`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_next_offset: Option<u32>,
    /// The request that read it (absent on the items of a list, present on the list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// `GET /api/v1/amazon/batch` answers `{"batches": [...]}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchList {
    pub batches: Vec<BatchBody>,
    pub request_id: String,
}

fn time(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// The batch's status, counts and webhook state; `base` is the server's public base URL.
pub fn summary(b: &Batch, base: &str) -> BatchBody {
    BatchBody {
        id: b.id.clone(),
        status: b.status.as_str().to_string(),
        endpoint: b.endpoint.as_str().to_string(),
        total_count: b.total_count,
        processed_count: b.processed_count,
        success_count: b.success_count,
        failure_count: b.failure_count,
        credits_charged: b.credits_charged,
        created_at: b.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        started_at: time(b.started_at),
        completed_at: time(b.completed_at),
        poll_url: format!("{base}/api/v1/amazon/batch/{}", b.id),
        webhook_url: b.webhook_url.clone(),
        webhook_delivery_status: b.webhook_status.map(|s| s.as_str().to_string()),
        webhook_attempts: b.webhook_attempts,
        webhook_next_attempt_at: time(b.webhook_next_at.filter(|_| b.status.is_finished())),
        webhook_last_error: b.webhook_last_error.clone(),
        webhook_signature_secret: None,
        results: None,
        results_next_offset: None,
        request_id: None,
    }
}

/// One processed item; `None` for an item still queued or running.
pub fn result(item: &BatchItem) -> Option<Value> {
    let status = match item.state {
        ItemState::Ok => "ok",
        ItemState::Error => "error",
        ItemState::Queued | ItemState::Running => return None,
    };
    Some(json!({
        "index": item.index,
        "input": item.input,
        "status": status,
        "http_status": item.http_status,
        "data": item.data,
        "error": item.error,
        "duration_ms": item.duration_ms,
        "credits_charged": item.credits_charged,
        "request_id": item.request_id,
    }))
}

/// The summary with the processed items of `items` under `results`.
pub fn with_results(b: &Batch, base: &str, items: &[BatchItem]) -> BatchBody {
    BatchBody {
        results: Some(items.iter().filter_map(result).collect()),
        ..summary(b, base)
    }
}
