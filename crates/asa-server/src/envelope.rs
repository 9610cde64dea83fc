//! The outermost middleware: gives each request its id and, in its log span, its client
//! address (`client_ip`); marks it in flight on its connection (`conn_limit`); refuses
//! oversized query strings and header sections, turns panics into `500 internal_error`,
//! renders every `ApiError` as the envelope, and writes the `X-Request-Id` / `Asa-*` /
//! `Retry-After` headers on every response.

use crate::conn_limit::ConnPeer;
use crate::error::{ApiError, Envelope};
use crate::state::AppState;
use asa_model::{Credits, ErrorCode, RequestId};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures::FutureExt;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use tracing::Instrument;

/// Largest accepted header section (names and values), well under what the HTTP layer
/// itself refuses without the envelope: an oversized header is a clear 400, not a key
/// lookup on megabytes of padding.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// A new request's id: `req_` + 12 random lowercase hex characters.
pub fn new_request_id() -> RequestId {
    RequestId::new(format!(
        "req_{:012x}",
        rand::random::<u64>() & 0xffff_ffff_ffff
    ))
}

/// What a handler knows about its answer, for the `Asa-*` headers.
#[derive(Debug, Clone, Default)]
pub struct ResponseMeta {
    pub cost: Credits,
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
    let id = new_request_id();
    req.extensions_mut().insert(id.clone());
    let conn = req
        .extensions()
        .get::<ConnectInfo<ConnPeer>>()
        .map(|c| c.0.clone());
    // Held until the answer is rendered: the connection is not idle meanwhile.
    let _in_flight = conn.as_ref().map(|c| c.activity.begin());
    let peer = conn.map(|c| c.addr).or_else(|| {
        req.extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
    });
    let client_ip = peer.map(|p| state.trusted_proxies.client_ip(p.ip(), req.headers()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path(), client_ip = client_ip.map(tracing::field::display));
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
        let body = Envelope::new(e, &id, &state.docs_base());
        let status = res.status();
        let mut headers = std::mem::take(res.headers_mut());
        res = (status, axum::Json(body)).into_response();
        for (k, v) in headers.drain().filter_map(|(k, v)| k.map(|k| (k, v))) {
            res.headers_mut().insert(k, v);
        }
    }
    let success = res.status().is_success();
    let retry_after = error.as_ref().and_then(|e| e.retry_after);
    for (name, value) in headers(&id, success, retry_after, meta) {
        set(&mut res, name, value);
    }
    res
}

/// The headers an answer carries besides its content type: `X-Request-Id`, `Asa-Cost`
/// (0 unless it is a 2xx: whatever a handler claimed, an error costs nothing),
/// `Retry-After`, and the `Asa-*` facts of its fetches.
pub fn headers(
    request_id: &RequestId,
    success: bool,
    retry_after: Option<u64>,
    meta: ResponseMeta,
) -> Vec<(&'static str, String)> {
    let cost = if success { meta.cost } else { Credits::ZERO };
    let mut out = vec![
        ("x-request-id", request_id.to_string()),
        ("asa-cost", cost.to_string()),
    ];
    let optional = [
        ("retry-after", retry_after.map(|s| s.to_string())),
        ("asa-attempts", meta.attempts.map(|n| n.to_string())),
        (
            "asa-source-status",
            meta.source_status.map(|s| s.to_string()),
        ),
        ("asa-resolved-url", meta.resolved_url),
        (
            "asa-extractor-version",
            meta.extractor_version.map(str::to_string),
        ),
        ("asa-concurrency", meta.concurrency),
        ("asa-rps", meta.rps),
    ];
    out.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
    out
}

/// Serves `routes` behind the envelope; anything unrouted is `404 not_found`, whatever
/// the method.
pub fn wrap(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_envelope,
        ))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::of(ErrorCode::NotFound)
}

fn set(res: &mut Response<Body>, name: &'static str, value: String) {
    if let Ok(v) = HeaderValue::from_str(&value) {
        res.headers_mut().insert(HeaderName::from_static(name), v);
    }
}
