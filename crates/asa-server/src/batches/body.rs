//! The JSON of a batch, as the creation answer, `GET /amazon/batch/{id}`, the list and
//! the `batch.completed` webhook all show it.

use asa_store::batch::{Batch, BatchItem, ItemState};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

fn time(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.to_rfc3339_opts(SecondsFormat::Millis, true))
    })
}

/// The batch's status, counts and webhook state; `base` is the server's public base URL.
pub fn summary(b: &Batch, base: &str) -> Value {
    json!({
        "id": b.id,
        "status": b.status.as_str(),
        "endpoint": b.endpoint.as_str(),
        "total_count": b.total_count,
        "processed_count": b.processed_count,
        "success_count": b.success_count,
        "failure_count": b.failure_count,
        "credits_charged": b.credits_charged,
        "created_at": time(Some(b.created_at)),
        "started_at": time(b.started_at),
        "completed_at": time(b.completed_at),
        "poll_url": format!("{base}/api/v1/amazon/batch/{}", b.id),
        "webhook_url": b.webhook_url,
        "webhook_delivery_status": b.webhook_status.map(|s| s.as_str()),
        "webhook_attempts": b.webhook_attempts,
        "webhook_next_attempt_at": time(b.webhook_next_at.filter(|_| b.status.is_finished())),
        "webhook_last_error": b.webhook_last_error,
    })
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
pub fn with_results(b: &Batch, base: &str, items: &[BatchItem]) -> Value {
    let mut body = summary(b, base);
    body["results"] = Value::Array(items.iter().filter_map(result).collect());
    body
}
