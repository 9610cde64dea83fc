//! Asynchronous batches: the batch, its items as a durable queue, and the webhook that
//! reports its completion.
//!
//! An item is *claimed* by one worker under a lease; the worker settles it with
//! [`crate::Store::complete_batch_item`], which writes the result and charges the item's
//! reservations in one transaction, and only while the lease is still the worker's. So a
//! worker that dies mid-item leaves it to be claimed again once the lease runs out, and an
//! item is never charged twice: a charge commits with the result that ends the item.

use crate::types::Reservation;
use asa_model::{AccountId, Credits, KeyId, RequestId};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Which sync endpoint a batch's items call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEndpoint {
    Product,
    Search,
}

impl BatchEndpoint {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchEndpoint::Product => "amazon.product",
            BatchEndpoint::Search => "amazon.search",
        }
    }

    pub fn parse(s: &str) -> Option<BatchEndpoint> {
        match s {
            "amazon.product" => Some(BatchEndpoint::Product),
            "amazon.search" => Some(BatchEndpoint::Search),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchStatus {
    Pending,
    Running,
    /// Every item processed, at least one delivered.
    Complete,
    /// Every item processed, none delivered.
    Failed,
}

impl BatchStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchStatus::Pending => "pending",
            BatchStatus::Running => "running",
            BatchStatus::Complete => "complete",
            BatchStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<BatchStatus> {
        match s {
            "pending" => Some(BatchStatus::Pending),
            "running" => Some(BatchStatus::Running),
            "complete" => Some(BatchStatus::Complete),
            "failed" => Some(BatchStatus::Failed),
            _ => None,
        }
    }

    pub fn is_finished(self) -> bool {
        matches!(self, BatchStatus::Complete | BatchStatus::Failed)
    }
}

/// Where the `batch.completed` webhook stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookStatus {
    /// Not delivered yet (the batch runs, or a delivery is due or scheduled).
    Pending,
    Delivered,
    /// Every delivery of the schedule failed.
    Failed,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Pending => "pending",
            WebhookStatus::Delivered => "delivered",
            WebhookStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<WebhookStatus> {
        match s {
            "pending" => Some(WebhookStatus::Pending),
            "delivered" => Some(WebhookStatus::Delivered),
            "failed" => Some(WebhookStatus::Failed),
            _ => None,
        }
    }
}

/// A batch to create. The items were validated by the caller.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub account_id: AccountId,
    pub key_id: KeyId,
    pub endpoint: BatchEndpoint,
    /// Each item's parameters, as the caller sent them (a JSON object each).
    pub items: Vec<serde_json::Value>,
    pub webhook_url: Option<String>,
    pub webhook_secret: String,
    /// A repeated creation with the same key returns the first batch.
    pub idempotency_key: Option<String>,
    /// The request that created it.
    pub request_id: RequestId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub id: String,
    pub account_id: AccountId,
    pub key_id: KeyId,
    pub endpoint: BatchEndpoint,
    pub status: BatchStatus,
    pub total_count: u32,
    pub processed_count: u32,
    pub success_count: u32,
    pub failure_count: u32,
    pub credits_charged: Credits,
    pub webhook_url: Option<String>,
    /// The signing secret; the server shows it to the user once, at creation.
    pub webhook_secret: String,
    pub idempotency_key: Option<String>,
    pub request_id: RequestId,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// `None` when the batch has no webhook.
    pub webhook_status: Option<WebhookStatus>,
    pub webhook_attempts: u32,
    pub webhook_next_at: Option<DateTime<Utc>>,
    pub webhook_last_error: Option<String>,
    pub webhook_delivered_at: Option<DateTime<Utc>>,
}

/// How an item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    Queued,
    Running,
    Ok,
    Error,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Queued => "queued",
            ItemState::Running => "running",
            ItemState::Ok => "ok",
            ItemState::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<ItemState> {
        match s {
            "queued" => Some(ItemState::Queued),
            "running" => Some(ItemState::Running),
            "ok" => Some(ItemState::Ok),
            "error" => Some(ItemState::Error),
            _ => None,
        }
    }
}

/// One item and, once processed, its result.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchItem {
    pub batch_id: String,
    pub index: u32,
    pub input: serde_json::Value,
    pub state: ItemState,
    /// The request id of the run that produced the result (its trace's id).
    pub request_id: Option<RequestId>,
    pub http_status: Option<u16>,
    pub data: Option<serde_json::Value>,
    /// The error envelope of a failed item.
    pub error: Option<serde_json::Value>,
    pub duration_ms: Option<i64>,
    pub credits_charged: Credits,
    pub finished_at: Option<DateTime<Utc>>,
}

/// An item a worker has claimed: it is the worker's until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedItem {
    pub batch_id: String,
    pub index: u32,
    pub account_id: AccountId,
    pub key_id: KeyId,
    pub endpoint: BatchEndpoint,
    pub input: serde_json::Value,
    /// This claim's number: 1 for the first run, more after a worker died or requeued it.
    pub run: u32,
    /// The request id of this run: its reservations and trace are keyed by it.
    pub request_id: RequestId,
    pub lease_owner: String,
    pub lease_until: DateTime<Utc>,
}

/// What one run of an item produced.
#[derive(Debug, Clone)]
pub struct ItemResult {
    pub ok: bool,
    pub http_status: u16,
    pub data: Option<serde_json::Value>,
    pub error: Option<serde_json::Value>,
    pub duration_ms: i64,
    /// Charged with the result when `ok`; released otherwise.
    pub reservations: Vec<Reservation>,
}

/// What [`crate::Store::complete_batch_item`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemSettled {
    /// Stored (and charged when ok). `batch_finished` is true when this was the last item.
    Stored {
        credits_charged: Credits,
        batch_finished: bool,
    },
    /// The lease was no longer this worker's (it ran out and another took the item): nothing
    /// was stored, the reservations were released.
    Stale,
    /// A reservation could no longer be charged (it had expired and the balance cannot
    /// cover it): nothing was stored or charged; store the item as an error instead.
    ChargeRefused,
}

/// A webhook delivery a worker has taken: no other worker sends it until `lease_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct DueWebhook {
    pub batch_id: String,
    pub account_id: AccountId,
    pub url: String,
    pub secret: String,
    /// Deliveries made before this one.
    pub attempts: u32,
}

/// The request id of an item's run: a pure function of the batch, the index and the run,
/// so the worker and the store agree on it without storing it before the run starts, and
/// every run has its own (a retaken item never reuses a dead run's reservation).
pub fn item_request_id(batch_id: &str, index: u32, run: u32) -> RequestId {
    let mut h = Sha256::new();
    h.update(batch_id.as_bytes());
    h.update(index.to_be_bytes());
    h.update(run.to_be_bytes());
    RequestId::new(format!("req_{}", &hex::encode(h.finalize())[..12]))
}

/// Delays before each webhook redelivery after a failed delivery: 1 min, 2 min, 5 min,
/// 15 min, 1 h. After the last one fails, the delivery is `failed`.
pub const WEBHOOK_RETRY_DELAYS_SECS: [u64; 5] = [60, 120, 300, 900, 3600];

/// When to try again after `failed_deliveries` failed deliveries (1 = the first failed),
/// or `None` when the schedule is spent.
pub fn webhook_retry_delay(failed_deliveries: u32) -> Option<std::time::Duration> {
    let i = usize::try_from(failed_deliveries.checked_sub(1)?).ok()?;
    WEBHOOK_RETRY_DELAYS_SECS
        .get(i)
        .map(|s| std::time::Duration::from_secs(*s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_request_ids_are_well_formed_and_distinct() {
        let a = item_request_id("bat_1", 0, 1);
        assert!(a.starts_with("req_") && a.len() == 16, "{a}");
        assert!(a[4..]
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(a, item_request_id("bat_1", 0, 1));
        assert_ne!(a, item_request_id("bat_1", 0, 2));
        assert_ne!(a, item_request_id("bat_1", 1, 1));
        assert_ne!(a, item_request_id("bat_2", 0, 1));
    }

    #[test]
    fn the_webhook_schedule() {
        let d = |n| webhook_retry_delay(n).map(|d| d.as_secs());
        assert_eq!(d(0), None);
        assert_eq!(d(1), Some(60));
        assert_eq!(d(2), Some(120));
        assert_eq!(d(3), Some(300));
        assert_eq!(d(4), Some(900));
        assert_eq!(d(5), Some(3600));
        assert_eq!(d(6), None);
    }

    #[test]
    fn names_round_trip() {
        for s in [
            BatchStatus::Pending,
            BatchStatus::Running,
            BatchStatus::Complete,
            BatchStatus::Failed,
        ] {
            assert_eq!(BatchStatus::parse(s.as_str()), Some(s));
        }
        for s in [
            ItemState::Queued,
            ItemState::Running,
            ItemState::Ok,
            ItemState::Error,
        ] {
            assert_eq!(ItemState::parse(s.as_str()), Some(s));
        }
        for e in [BatchEndpoint::Product, BatchEndpoint::Search] {
            assert_eq!(BatchEndpoint::parse(e.as_str()), Some(e));
        }
    }
}
