//! Response bodies the product and search types of `asa-model` do not cover (account,
//! trace, batch), and [`Reply`]: a typed body with the response's headers and attempts.

use crate::Attempt;
use serde::{Deserialize, Serialize};

/// A successful answer: the typed body, the raw JSON as the server sent it (fields the
/// type does not name, such as `html`, are kept there), its headers and the attempts.
#[derive(Debug, Clone)]
pub struct Reply<T> {
    pub data: T,
    pub raw: serde_json::Value,
    pub meta: Meta,
    /// Every attempt of the call; the last one is this answer.
    pub attempts: Vec<Attempt>,
}

impl<T> Reply<T> {
    pub fn request_id(&self) -> &str {
        &self.meta.request_id
    }
}

/// The `X-Request-Id` and `Asa-*` headers of an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub status: u16,
    pub request_id: String,
    /// `Asa-Cost`: credits charged.
    pub cost: Option<u64>,
    /// `Asa-Attempts`: upstream attempts the server made.
    pub upstream_attempts: Option<u32>,
    pub source_status: Option<u16>,
    pub resolved_url: Option<String>,
    pub extractor_version: Option<String>,
    /// `Asa-Concurrency`: `in_flight/allowed`.
    pub concurrency: Option<String>,
    /// `Asa-Rps`: `recent/allowed`.
    pub rps: Option<String>,
}

/// `GET /api/v1/account`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub name: Option<String>,
    pub plan: String,
    pub limits: Limits,
    pub credits: Credits,
    pub auto_topup: Option<AutoTopup>,
    #[serde(default)]
    pub key: Option<serde_json::Value>,
    #[serde(default)]
    pub usage: Option<serde_json::Value>,
    #[serde(default)]
    pub request_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    pub concurrency: u32,
    pub rps: f64,
    pub burst: u32,
    #[serde(default)]
    pub countries: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credits {
    pub balance: i64,
    #[serde(default)]
    pub reserved: i64,
    #[serde(default)]
    pub cost_per_page: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoTopup {
    pub threshold: i64,
    pub amount: i64,
    pub monthly_cap: i64,
}

/// `GET /api/v1/requests/{request_id}`: the stored trace of one request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub request_id: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub key_prefix: Option<String>,
    pub endpoint: String,
    #[serde(default)]
    pub params: serde_json::Value,
    pub status: u16,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub credits_charged: i64,
    #[serde(default)]
    pub latency_ms: i64,
    /// Each upstream attempt (exit, proxy id, URL, status, bytes, latency, outcome).
    #[serde(default)]
    pub attempts: serde_json::Value,
    #[serde(default)]
    pub extractor: serde_json::Value,
}

/// Status of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatchStatus {
    Pending,
    Running,
    Complete,
    Failed,
}

impl BatchStatus {
    pub fn is_finished(self) -> bool {
        matches!(self, BatchStatus::Complete | BatchStatus::Failed)
    }
}

/// A batch as `POST` (201), `GET /amazon/batch/{id}` and the `batch.completed` webhook
/// describe it. `webhook_signature_secret` is present only in the creation answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub id: String,
    pub status: BatchStatus,
    #[serde(default)]
    pub endpoint: Option<String>,
    pub total_count: u32,
    #[serde(default)]
    pub processed_count: u32,
    #[serde(default)]
    pub success_count: u32,
    #[serde(default)]
    pub failure_count: u32,
    #[serde(default)]
    pub credits_charged: i64,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub poll_url: Option<String>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_signature_secret: Option<String>,
    /// `pending`, `delivered` or `failed`; `None` without a webhook.
    #[serde(default)]
    pub webhook_delivery_status: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub webhook_attempts: u32,
    /// When the next delivery attempt is due (RFC 3339), once the batch is finished.
    #[serde(default)]
    pub webhook_next_attempt_at: Option<String>,
    #[serde(default)]
    pub webhook_last_error: Option<String>,
    /// The processed items of this page of results (empty in lists and while pending).
    #[serde(default, deserialize_with = "null_as_default")]
    pub results: Vec<BatchResult>,
    /// Present when more results follow: the `results_offset` of the next page.
    #[serde(default)]
    pub results_next_offset: Option<u32>,
    #[serde(default)]
    pub request_id: Option<String>,
}

/// One item's outcome in a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchResult {
    /// The item's position in the batch's `items`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub index: u32,
    pub input: serde_json::Value,
    /// `ok` or `error`.
    pub status: String,
    /// The HTTP status the item's sync call would have answered; 0 when the server sent
    /// none (null).
    #[serde(default, deserialize_with = "null_as_default")]
    pub http_status: u16,
    #[serde(default)]
    pub data: Option<serde_json::Value>,
    /// The error envelope of a failed item.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    /// 0 when the server sent none (null).
    #[serde(default, deserialize_with = "null_as_default")]
    pub duration_ms: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub credits_charged: i64,
    /// The request id of the item's run: its trace's id.
    #[serde(default)]
    pub request_id: Option<String>,
}

/// A field that may be absent or null reads as its type's default.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `GET /api/v1/amazon/batch?limit=N`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchList {
    #[serde(alias = "data", alias = "items")]
    pub batches: Vec<Batch>,
    #[serde(default)]
    pub request_id: Option<String>,
}
