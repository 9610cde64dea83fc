//! Any secret, header and body through webhook signature verification: it must never
//! panic, always accept the server's own signature (alone or among rotation values),
//! and refuse that signature once a bit of it or of the body changes.
#![no_main]

use asa_client::webhook::{sign, verify, WebhookError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Input layout, readable in the seed files: `secret \n header \n body`.
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let (Some(secret), Some(header), body) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let (Ok(secret), Ok(header)) = (std::str::from_utf8(secret), std::str::from_utf8(header))
    else {
        return;
    };
    let body = body.unwrap_or_default();

    // Whatever the header says, verification answers and never panics.
    let _ = verify(secret, body, header);

    let good = sign(secret, body);
    assert_eq!(verify(secret, body, &good), Ok(()));
    // During a rotation several values are sent; any one matching passes.
    assert_eq!(verify(secret, body, &format!("{header},{good}")), Ok(()));

    // Flip the last hex digit: a well-formed value that must not match.
    let mut bad = good.clone();
    let last = bad.pop().expect("a signature is never empty");
    bad.push(if last == '0' { '1' } else { '0' });
    assert_eq!(verify(secret, body, &bad), Err(WebhookError::Mismatch));

    // Another body under the same signature is refused.
    let mut other = body.to_vec();
    other.push(b'x');
    assert_eq!(verify(secret, &other, &good), Err(WebhookError::Mismatch));
});
