//! `ApiError`: what a handler returns when it cannot answer 2xx. It becomes the one
//! envelope of the API; the envelope itself is rendered by the request-id middleware,
//! which alone knows the request id and the docs base.

use asa_model::ErrorCode;
use asa_model::RequestId;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    /// Seconds for `Retry-After`, when a delay is known or advised.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            retry_after: code.advised_retry_after(),
        }
    }

    pub fn of(code: ErrorCode) -> ApiError {
        ApiError::new(code, code.default_message())
    }

    /// `400 invalid_params` naming the parameter and its rule.
    pub fn param(name: &str, rule: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            ErrorCode::InvalidParams,
            format!("Invalid parameter `{name}`: {rule}"),
        )
    }

    /// `500 internal_error`: the detail goes to the log (with the request id), never to
    /// the user, who gets the catalog's message.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(detail = %detail, "internal error");
        ApiError::of(ErrorCode::InternalError)
    }

    pub fn with_retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs.max(1));
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The wire envelope of every non-2xx answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Envelope {
    /// The error code, one of the catalog.
    pub error: ErrorCode,
    pub message: String,
    /// Deep link to this code's row of the error table.
    pub docs_url: String,
    /// `req_` + 12 lowercase hex.
    pub request_id: String,
    /// Whether an automatic retry can succeed.
    pub retryable: bool,
}

impl Envelope {
    pub fn new(e: &ApiError, request_id: &RequestId, docs_base: &str) -> Envelope {
        Envelope {
            error: e.code,
            message: e.message.clone(),
            docs_url: format!("{docs_base}/docs/guides/errors#{}", e.code),
            request_id: request_id.to_string(),
            retryable: e.code.retryable(),
        }
    }

    /// The envelope as a JSON value, for an error kept or shown rather than written as a
    /// response (a batch item's stored error, the playground's answer).
    pub fn json(e: &ApiError, request_id: &RequestId, docs_base: &str) -> serde_json::Value {
        serde_json::to_value(Envelope::new(e, request_id, docs_base))
            .unwrap_or(serde_json::Value::Null)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = status.into_response();
        // The middleware renders the body with the request id.
        res.extensions_mut().insert(self);
        res
    }
}
