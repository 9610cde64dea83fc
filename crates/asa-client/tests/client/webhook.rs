//! Webhook signatures against vectors computed with an independent HMAC-SHA256 (Python's
//! `hmac`, and RFC 4231 test case 2). The server's own deliveries are verified with these
//! functions in asa-server's batch tests.

use asa_client::webhook::{parse_event, sign, verify, WebhookError};

const BODY: &[u8] = br#"{"id":"b_1","status":"complete"}"#;
const SECRET: &str = "whsec_test_0123456789abcdef";
const SIG: &str = "sha256=277f484882f33e7987c45af6ffcf91a07ab5668e16858c9b6bb7e539bee0a974";

#[test]
fn signatures_match_an_independent_hmac() {
    assert_eq!(sign(SECRET, BODY), SIG);
    assert_eq!(
        sign("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
    assert_eq!(
        sign("whsec_Zm9vYmFy", b""),
        "sha256=f2c50132160567940c7197c09432139e1414f723ae635635b5be5f6abb007dd4"
    );
}

#[test]
fn verification_accepts_only_the_exact_body_and_secret() {
    assert_eq!(verify(SECRET, BODY, SIG), Ok(()));
    assert_eq!(
        verify(
            SECRET,
            BODY,
            &SIG.to_uppercase().replace("SHA256=", "sha256=")
        ),
        Ok(())
    );
    assert_eq!(verify(SECRET, BODY, &format!("sha256=00ff, {SIG}")), Ok(()));
    let tampered = br#"{"id":"b_1","status":"failed"}"#;
    assert_eq!(verify(SECRET, tampered, SIG), Err(WebhookError::Mismatch));
    assert_eq!(
        verify("whsec_other", BODY, SIG),
        Err(WebhookError::Mismatch)
    );
    let mut short = SIG.to_string();
    short.pop();
    short.pop();
    assert_eq!(verify(SECRET, BODY, &short), Err(WebhookError::Malformed));
    assert_eq!(verify(SECRET, BODY, ""), Err(WebhookError::Malformed));
    assert_eq!(
        verify(SECRET, BODY, "md5=abcd"),
        Err(WebhookError::Malformed)
    );
    assert_eq!(
        verify(SECRET, BODY, &SIG.replace("sha256=", "")),
        Err(WebhookError::Malformed)
    );
}

#[test]
fn a_verified_event_reads_as_a_batch() {
    let body = serde_json::json!({
        "id": "b_9", "status": "complete", "total_count": 2, "processed_count": 2,
        "success_count": 1, "failure_count": 1, "credits_charged": 5,
        "results": [
            {"input": {"query": "B000LQXC2Q"}, "status": "ok", "http_status": 200,
             "data": {"asin": "B000LQXC2Q"}, "duration_ms": 812, "credits_charged": 5},
            {"input": {"query": "B0NOTFND01"}, "status": "error", "http_status": 404,
             "error": {"error": "product_not_found"}, "duration_ms": 90, "credits_charged": 0}
        ]
    })
    .to_string();
    let sig = sign(SECRET, body.as_bytes());
    let b = parse_event(SECRET, body.as_bytes(), &sig).unwrap();
    assert_eq!(b.success_count + b.failure_count, b.total_count);
    assert_eq!(b.results[1].http_status, 404);
    assert!(parse_event("whsec_x", body.as_bytes(), &sig).is_err());
}
