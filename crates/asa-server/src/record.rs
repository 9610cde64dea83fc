//! Every `/api/v1` request leaves a trace, refused ones included: this middleware builds
//! it from what the request and its handler left behind and hands it to the sink.

use crate::envelope::new_request_id;
use crate::envelope::ResponseMeta;
use crate::error::ApiError;
use crate::params::RawQuery;
use crate::state::AppState;
use asa_model::{AccountId, Credits, RequestId};
use asa_store::Trace;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// What a handler adds to its trace beyond the request itself.
#[derive(Debug, Clone, Default)]
pub struct TraceInfo {
    pub account_id: Option<AccountId>,
    pub key_prefix: Option<String>,
    /// The upstream attempts (a JSON array).
    pub attempts: Option<serde_json::Value>,
    /// The extractor's version and result.
    pub extractor: Option<serde_json::Value>,
}

/// `amazon.product` for `/api/v1/amazon/product`, `requests` for `/api/v1/requests/x`.
fn endpoint_name(path: &str) -> String {
    let rest = path.trim_start_matches("/api/v1/");
    let mut parts = rest.split('/').filter(|s| !s.is_empty());
    match (parts.next(), parts.next()) {
        (Some("amazon"), Some(what)) => format!("amazon.{what}"),
        (Some(first), _) => first.to_string(),
        _ => "unknown".to_string(),
    }
}

pub async fn record_trace(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .cloned()
        .unwrap_or_else(new_request_id);
    let endpoint = endpoint_name(req.uri().path());
    let mut params = RawQuery::parse(req.uri().query()).to_json();
    if let Some(rest) = req.uri().path().strip_prefix("/api/v1/requests/") {
        params["request_id"] = serde_json::Value::String(rest.to_string());
    }
    let res = next.run(req).await;
    let info = res
        .extensions()
        .get::<TraceInfo>()
        .cloned()
        .unwrap_or_default();
    let code = res
        .extensions()
        .get::<ApiError>()
        .map(|e| e.code.as_str().to_string());
    let status = res.status().as_u16();
    let charged = if res.status().is_success() {
        res.extensions()
            .get::<ResponseMeta>()
            .map_or(Credits::ZERO, |m| m.cost)
    } else {
        Credits::ZERO
    };
    record(
        &state,
        Recorded {
            request_id,
            endpoint,
            params,
            status,
            code,
            charged,
            elapsed: started.elapsed(),
            info,
        },
    );
    res
}

/// One finished request, from the API or a batch worker.
pub struct Recorded {
    pub request_id: RequestId,
    pub endpoint: String,
    pub params: serde_json::Value,
    pub status: u16,
    pub code: Option<String>,
    pub charged: Credits,
    pub elapsed: std::time::Duration,
    pub info: TraceInfo,
}

/// Counts a finished request in the metrics and hands its trace to the sink.
pub fn record(state: &AppState, r: Recorded) {
    let started = Instant::now();
    record_in(state, r);
    state.metrics.stage("trace", started);
}

fn record_in(state: &AppState, r: Recorded) {
    let m = &state.metrics;
    m.count(
        "asa_requests_total",
        vec![
            ("endpoint", r.endpoint.clone()),
            ("status", r.status.to_string()),
            ("code", r.code.clone().unwrap_or_default()),
        ],
        1,
    );
    m.observe(
        "asa_request_duration_seconds",
        vec![("endpoint", r.endpoint.clone())],
        r.elapsed,
    );
    if r.charged.is_positive() {
        m.count("asa_credits_charged_total", vec![], r.charged.get() as u64);
    }
    if !state.config.record_traces {
        return;
    }
    state.traces.record(Trace {
        request_id: r.request_id,
        created_at: chrono::Utc::now(),
        account_id: r.info.account_id,
        key_prefix: r.info.key_prefix,
        endpoint: r.endpoint,
        params: r.params,
        status: r.status,
        error_code: r.code,
        credits_charged: r.charged,
        latency_ms: r.elapsed.as_millis() as i64,
        attempts: r
            .info
            .attempts
            .unwrap_or_else(|| serde_json::Value::Array(vec![])),
        extractor: r.info.extractor.unwrap_or(serde_json::Value::Null),
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_names() {
        assert_eq!(
            super::endpoint_name("/api/v1/amazon/product"),
            "amazon.product"
        );
        assert_eq!(
            super::endpoint_name("/api/v1/amazon/batch/b_1"),
            "amazon.batch"
        );
        assert_eq!(super::endpoint_name("/api/v1/requests/req_1"), "requests");
        assert_eq!(super::endpoint_name("/api/v1/account"), "account");
    }
}
