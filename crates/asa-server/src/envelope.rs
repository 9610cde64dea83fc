//! The outermost middleware: gives each request its id, refuses oversized query strings and
//! header sections, turns panics into `500 internal_error`, renders every `ApiError` as the
//! envelope, and writes the `X-Request-Id` / `Asa-*` / `Retry-After` headers on every
//! response.

use crate::error::{ApiError, Envelope};
use crate::state::AppState;
use asa_model::ErrorCode;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use tracing::Instrument;

/// Largest accepted header section (names and values), well under what the HTTP layer
/// itself refuses without the envelope: an oversized header is a clear 400, not a key
/// lookup on megabytes of padding.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// `req_` + 12 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    pub fn new() -> RequestId {
        RequestId(format!(
            "req_{:012x}",
            rand::random::<u64>() & 0xffff_ffff_ffff
        ))
    }
}

impl Default for RequestId {
    fn default() -> Self {
        RequestId::new()
    }
}

/// What a handler knows about its answer, for the `Asa-*` headers.
#[derive(Debug, Clone, Default)]
pub struct ResponseMeta {
    pub cost: u64,
    pub attempts: Option<u32>,
    pub source_status: Option<u16>,
    pub resolved_url: Option<String>,
    pub extractor_version: Option<&'static str>,
    pub concurrency: Option<String>,
    pub rps: Option<String>,
}

pub async fn request_envelope(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = RequestId::new();
    req.extensions_mut().insert(id.clone());
    let span = tracing::info_span!("request", request_id = %id.0, method = %req.method(), path = %req.uri().path());
    let query_len = req.uri().query().map_or(0, str::len);
    let max_query = state.config.max_query_bytes;
    let header_len: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    let mut res = async move {
        if query_len > max_query {
            return ApiError::param(
                "query string",
                format!("is {query_len} bytes; at most {max_query} are accepted"),
            )
            .into_response();
        }
        if header_len > MAX_HEADER_BYTES {
            return ApiError::param(
                "headers",
                format!("are {header_len} bytes; at most {MAX_HEADER_BYTES} are accepted"),
            )
            .into_response();
        }
        match AssertUnwindSafe(next.run(req)).catch_unwind().await {
            Ok(res) => res,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "non-string panic".into());
                tracing::error!(panic = %what, "handler panicked");
                ApiError::of(ErrorCode::InternalError).into_response()
            }
        }
    }
    .instrument(span.clone())
    .await;

    let error = res.extensions_mut().remove::<ApiError>();
    let meta = res
        .extensions_mut()
        .remove::<ResponseMeta>()
        .unwrap_or_default();
    if let Some(e) = &error {
        let _enter = span.enter();
        if e.code == ErrorCode::InternalError {
            tracing::error!(code = %e.code, message = %e.message, "request failed");
        } else {
            tracing::info!(code = %e.code, "request refused");
        }
        let body = Envelope::new(e, &id.0, &state.docs_base());
        let status = res.status();
        let mut headers = std::mem::take(res.headers_mut());
        res = (status, axum::Json(body)).into_response();
        for (k, v) in headers.drain().filter_map(|(k, v)| k.map(|k| (k, v))) {
            res.headers_mut().insert(k, v);
        }
        if let Some(secs) = e.retry_after {
            set(&mut res, "retry-after", secs.to_string());
        }
    }
    set(&mut res, "x-request-id", id.0.clone());
    // Only a 2xx is billed: whatever a handler claimed, an error costs nothing.
    let cost = if res.status().is_success() {
        meta.cost
    } else {
        0
    };
    set(&mut res, "asa-cost", cost.to_string());
    if let Some(n) = meta.attempts {
        set(&mut res, "asa-attempts", n.to_string());
    }
    if let Some(s) = meta.source_status {
        set(&mut res, "asa-source-status", s.to_string());
    }
    if let Some(u) = meta.resolved_url {
        set(&mut res, "asa-resolved-url", u);
    }
    if let Some(v) = meta.extractor_version {
        set(&mut res, "asa-extractor-version", v.to_string());
    }
    if let Some(c) = meta.concurrency {
        set(&mut res, "asa-concurrency", c);
    }
    if let Some(r) = meta.rps {
        set(&mut res, "asa-rps", r);
    }
    res
}

fn set(res: &mut Response<Body>, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(HeaderName::from_static(name), v);
    }
}
