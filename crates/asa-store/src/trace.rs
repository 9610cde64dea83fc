//! Request traces (what happened to `req_x`) and the usage figures derived from them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The stored trace of one request, success or error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub request_id: String,
    pub created_at: DateTime<Utc>,
    /// `None` for requests refused before a key was recognised.
    pub account_id: Option<String>,
    pub key_prefix: Option<String>,
    /// e.g. `amazon.product`.
    pub endpoint: String,
    /// The request parameters; an `api_key` member is removed before storing.
    pub params: serde_json::Value,
    pub status: u16,
    pub error_code: Option<String>,
    pub credits_charged: i64,
    pub latency_ms: i64,
    /// The upstream attempts, as `asa-upstream` records them (a JSON array).
    pub attempts: serde_json::Value,
    /// The extractor's version and result.
    pub extractor: serde_json::Value,
}

impl Trace {
    /// Drops `api_key` wherever it sits at the top of `params`: a key never reaches storage.
    pub(crate) fn scrubbed_params(&self) -> serde_json::Value {
        let mut params = self.params.clone();
        if let Some(map) = params.as_object_mut() {
            map.remove("api_key");
        }
        params
    }
}

/// Which traces to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFilter {
    pub account_id: Option<String>,
    pub key_prefix: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// An error code such as `blocked_by_amazon`.
    pub code: Option<String>,
    /// At most this many (capped at [`TraceFilter::MAX_LIMIT`]); 0 means the cap.
    pub limit: u32,
}

impl TraceFilter {
    pub const MAX_LIMIT: u32 = 1000;

    pub(crate) fn effective_limit(&self) -> i64 {
        match self.limit {
            0 => Self::MAX_LIMIT as i64,
            n => n.min(Self::MAX_LIMIT) as i64,
        }
    }
}

/// Requests, billed requests and credits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageTotals {
    pub requests: i64,
    pub billed_requests: i64,
    pub credits: i64,
}

impl UsageTotals {
    fn add(&mut self, other: UsageTotals) {
        self.requests += other.requests;
        self.billed_requests += other.billed_requests;
        self.credits += other.credits;
    }
}

/// Usage of one key (by short prefix) on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    pub date: NaiveDate,
    pub key_prefix: Option<String>,
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// An account's usage over its last `days` UTC days (today included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub since: NaiveDate,
    pub total: UsageTotals,
    /// Ordered by date, then key prefix.
    pub rows: Vec<UsageRow>,
}

impl Usage {
    pub(crate) fn from_rows(since: NaiveDate, mut rows: Vec<UsageRow>) -> Usage {
        rows.sort_by(|a, b| (a.date, &a.key_prefix).cmp(&(b.date, &b.key_prefix)));
        let mut total = UsageTotals::default();
        rows.iter().for_each(|r| total.add(r.totals));
        Usage { since, total, rows }
    }

    /// Totals per day, oldest first.
    pub fn by_day(&self) -> Vec<(NaiveDate, UsageTotals)> {
        let mut out: Vec<(NaiveDate, UsageTotals)> = Vec::new();
        for row in &self.rows {
            match out.last_mut() {
                Some((date, totals)) if *date == row.date => totals.add(row.totals),
                _ => out.push((row.date, row.totals)),
            }
        }
        out
    }

    /// Totals per key prefix, ordered by prefix.
    pub fn by_key(&self) -> Vec<(Option<String>, UsageTotals)> {
        let mut map = std::collections::BTreeMap::<Option<String>, UsageTotals>::new();
        for row in &self.rows {
            map.entry(row.key_prefix.clone())
                .or_default()
                .add(row.totals);
        }
        map.into_iter().collect()
    }
}
