//! Request traces (what happened to `req_x`) and the usage figures derived from them.

use asa_model::{AccountId, Credits, RequestId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The stored trace of one request, success or error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub request_id: RequestId,
    pub created_at: DateTime<Utc>,
    /// `None` for requests refused before a key was recognised.
    pub account_id: Option<AccountId>,
    pub key_prefix: Option<String>,
    /// e.g. `amazon.product`.
    pub endpoint: String,
    /// The request parameters; an `api_key` member is removed before storing.
    pub params: serde_json::Value,
    pub status: u16,
    pub error_code: Option<String>,
    pub credits_charged: Credits,
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
    pub account_id: Option<AccountId>,
    pub key_prefix: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only traces created strictly before this: the next page of a newest-first list.
    pub before: Option<DateTime<Utc>>,
    /// An error code such as `blocked_by_amazon`.
    pub code: Option<String>,
    /// e.g. `amazon.product`.
    pub endpoint: Option<String>,
    pub outcome: Option<Outcome>,
    /// Text the stored parameters contain (an ASIN, a search word), ignoring ASCII case.
    pub text: Option<String>,
    /// A marketplace TLD (`de`): the `domain` parameter; `com` also matches requests that
    /// left it at its default.
    pub domain: Option<String>,
    /// At most this many (capped at [`TraceFilter::MAX_LIMIT`]); 0 means the cap.
    pub limit: u32,
}

/// A request's outcome as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Ok,
    /// Any other status.
    Error,
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
    pub credits: Credits,
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

/// Error answers of one UTC day with one code (`None`: an error stored without one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    pub date: NaiveDate,
    pub code: Option<String>,
    pub requests: i64,
}

/// Success rate and latency of the requests since some time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Requests looked at (the newest [`LatencySummary::SAMPLE`] at most).
    pub requests: i64,
    /// Of those, 2xx answers.
    pub ok: i64,
    pub p50_ms: i64,
    pub p90_ms: i64,
    pub p99_ms: i64,
}

impl LatencySummary {
    /// The newest requests a summary reads: enough for stable percentiles, cheap to sort.
    pub const SAMPLE: i64 = 100_000;

    /// From `(latency_ms, ok)` pairs, in any order.
    pub(crate) fn from_samples(mut samples: Vec<(i64, bool)>) -> LatencySummary {
        if samples.is_empty() {
            return LatencySummary::default();
        }
        samples.sort_unstable();
        let at = |p: f64| {
            // Nearest rank: the smallest value with at least p of the samples at or below it.
            let rank = ((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len());
            samples[rank - 1].0
        };
        LatencySummary {
            requests: samples.len() as i64,
            ok: samples.iter().filter(|s| s.1).count() as i64,
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
        }
    }

    /// Share of 2xx answers, 0..=1; `None` without requests.
    pub fn success_rate(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.ok as f64 / self.requests as f64)
    }
}

/// What one account did since some time (the operator's view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountActivity {
    /// `None` for requests refused before a key was recognised.
    pub account_id: Option<AccountId>,
    pub requests: i64,
    pub errors: i64,
    pub credits: Credits,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let samples = (1..=100).map(|ms| (ms, ms % 10 != 0)).collect();
        let s = LatencySummary::from_samples(samples);
        assert_eq!((s.requests, s.ok), (100, 90));
        assert_eq!((s.p50_ms, s.p90_ms, s.p99_ms), (50, 90, 99));
        assert_eq!(s.success_rate(), Some(0.9));
        let one = LatencySummary::from_samples(vec![(7, false)]);
        assert_eq!((one.p50_ms, one.p99_ms, one.ok), (7, 7, 0));
        assert_eq!(LatencySummary::from_samples(vec![]).success_rate(), None);
    }
}
