"""Signatures against vectors computed independently (RFC 4231 case 2 and a hand-built
HMAC from hashlib's SHA-256, not the hmac module the SDK uses)."""
from __future__ import annotations

import hashlib

from asa import sign, verify_webhook_signature

SECRET = "whsec_3b1f0c2d9e8a7b6c5d4e3f2a1b0c9d8e"
BODY = b'{"id":"b_123","status":"complete","total_count":1}'


def manual_hmac_sha256(key: bytes, msg: bytes) -> str:
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key) + msg).digest()
    return hashlib.sha256(bytes(b ^ 0x5C for b in key) + inner).hexdigest()


def test_rfc4231_case_2() -> None:
    assert sign("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_good_signature_verifies() -> None:
    header = "sha256=" + manual_hmac_sha256(SECRET.encode(), BODY)
    assert verify_webhook_signature(SECRET, BODY, header)
    assert verify_webhook_signature(SECRET, BODY.decode(), header)
    assert verify_webhook_signature(SECRET, BODY, "sha256=" + "0" * 64 + ", " + header)


def test_bad_signature_is_refused() -> None:
    other = "sha256=" + manual_hmac_sha256(b"whsec_other", BODY)
    assert not verify_webhook_signature(SECRET, BODY, other)
    assert not verify_webhook_signature(SECRET, BODY, None)
    assert not verify_webhook_signature(SECRET, BODY, "")
    assert not verify_webhook_signature(SECRET, BODY, manual_hmac_sha256(SECRET.encode(), BODY))


def test_tampered_body_is_refused() -> None:
    header = "sha256=" + manual_hmac_sha256(SECRET.encode(), BODY)
    assert not verify_webhook_signature(SECRET, BODY.replace(b"complete", b"failed"), header)
    # The key is the whole whsec_ string, not the part after the prefix.
    stripped = "sha256=" + manual_hmac_sha256(SECRET[len("whsec_"):].encode(), BODY)
    assert not verify_webhook_signature(SECRET, BODY, stripped)
