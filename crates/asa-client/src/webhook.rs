//! Webhook signatures: `X-ASA-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, keyed
//! with the batch's `webhook_signature_secret` (the whole `whsec_...` string, as bytes).
//! Verify the raw bytes as received, before parsing them: re-serialised JSON would not
//! match. The comparison runs in constant time.

use asa_model::webhook::mac;
use subtle::ConstantTimeEq;

pub use asa_model::webhook::{sign, SIGNATURE_HEADER};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing or malformed {SIGNATURE_HEADER} header (expected sha256=<hex>)")]
    Malformed,
    #[error("the {SIGNATURE_HEADER} does not match the body")]
    Mismatch,
    #[error("the webhook body is not a batch: {0}")]
    Body(String),
}

/// Checks a header value against the body. Several comma-separated `sha256=` values are
/// accepted (one per secret during a rotation); any match passes.
pub fn verify(secret: &str, body: &[u8], header: &str) -> Result<(), WebhookError> {
    let expected = mac(secret, body);
    let mut seen = false;
    let mut ok = subtle::Choice::from(0u8);
    for part in header.split(',') {
        let Some(hexed) = part.trim().strip_prefix("sha256=") else {
            continue;
        };
        let Ok(given) = hex::decode(hexed.trim()) else {
            continue;
        };
        if given.len() != expected.len() {
            continue;
        }
        seen = true;
        ok |= given.ct_eq(&expected);
    }
    if !seen {
        return Err(WebhookError::Malformed);
    }
    if bool::from(ok) {
        Ok(())
    } else {
        Err(WebhookError::Mismatch)
    }
}

/// Verifies, then reads the `batch.completed` body.
pub fn parse_event(
    secret: &str,
    body: &[u8],
    header: &str,
) -> Result<crate::types::Batch, WebhookError> {
    verify(secret, body, header)?;
    serde_json::from_slice(body).map_err(|e| WebhookError::Body(e.to_string()))
}
