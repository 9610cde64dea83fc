"""Webhook signatures: ``X-ASA-Signature: sha256=<hex HMAC-SHA256 of the raw body>``,
keyed with the batch's whole ``whsec_...`` secret. Verify the raw bytes before parsing."""
from __future__ import annotations

import hashlib
import hmac
from typing import Optional, Union

SIGNATURE_HEADER = "X-ASA-Signature"


def sign(secret: str, body: Union[bytes, str]) -> str:
    """The header value the server sends for ``body``."""
    raw = body.encode() if isinstance(body, str) else body
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def verify_webhook_signature(secret: str, body: Union[bytes, str],
                             signature: Optional[str]) -> bool:
    """True when one of the comma-separated ``sha256=`` values matches, compared in
    constant time; False for a missing, malformed or wrong header."""
    if not signature:
        return False
    expected = sign(secret, body).encode()
    ok = False
    for part in signature.split(","):
        candidate = part.strip()
        if not candidate.startswith("sha256="):
            continue
        ok |= hmac.compare_digest(expected, candidate.encode())
    return ok
