//! The webhook signature both ends compute: `X-ASA-Signature: sha256=<hex HMAC-SHA256 of
//! the raw body>`, keyed with the batch's `webhook_signature_secret` (the whole `whsec_...`
//! string, as bytes). The server signs with it; the SDKs verify with it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-ASA-Signature";
/// The header naming the batch (for de-duplicating at-least-once deliveries).
pub const BATCH_ID_HEADER: &str = "X-ASA-Batch-Id";
/// The header naming the event.
pub const EVENT_HEADER: &str = "X-ASA-Event";
/// The one event sent today.
pub const BATCH_COMPLETED: &str = "batch.completed";

/// HMAC-SHA256 of `body` keyed with `secret`.
pub fn mac(secret: &str, body: &[u8]) -> [u8; 32] {
    let mut m =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    m.update(body);
    m.finalize().into_bytes().into()
}

/// The header value for `body`: `sha256=<64 lowercase hex>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(mac(secret, body)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc_4231_test_case_2() {
        // RFC 4231, test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            super::sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
