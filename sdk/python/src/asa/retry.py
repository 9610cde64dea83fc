"""The retry policy of docs/API.md, decided by the error code (sdk/README.md is the contract).

Pure functions only: :func:`decide` turns one failed attempt into "retry after this delay"
or "stop, and why"; the clients own the loop, the clock and the sleep.
"""
from __future__ import annotations

import email.utils
import time
from dataclasses import dataclass
from typing import Optional, Union

NEVER = frozenset({
    "invalid_params", "unauthorized", "revoked", "insufficient_credits", "forbidden_region",
    "not_found", "product_not_found", "not_implemented", "asin_mismatch",
    "generic_gallery_page",
})
# code -> (delay s, retries of that code allowed)
FIXED = {"upstream_timeout": (2.0, 3), "internal_error": (5.0, 3)}
AT_LEAST = {"blocked_by_amazon": 60.0, "target_unreachable": 60.0}
AFTER_RETRY_AFTER = {"rate_limited": 1.0, "capacity": 1.0}
# code -> (base s, cap s), full jitter
EXPONENTIAL = {"extraction_failed": (2.0, 30.0)}
CATALOG = NEVER | set(FIXED) | set(AT_LEAST) | set(AFTER_RETRY_AFTER) | set(EXPONENTIAL)

STOPS = ("not_retryable", "attempts_exhausted", "deadline", "delay_too_long", "retries_off")


@dataclass(frozen=True)
class RetryPolicy:
    """How a client retries. ``RetryPolicy()`` is docs/API.md's policy."""

    enabled: bool = True
    max_attempts: int = 4
    deadline: Optional[float] = None
    """Overall budget of a call in seconds, all attempts and waits together."""
    max_delay: Optional[float] = None
    """A retry needing a longer minimum wait (seconds) is not made."""
    transport_backoff_base: float = 1.0
    transport_backoff_cap: float = 30.0

    @classmethod
    def off(cls) -> "RetryPolicy":
        return cls(enabled=False, max_attempts=1)


@dataclass(frozen=True)
class Envelope:
    """An error envelope's retry-relevant part."""

    code: str
    retryable: bool
    retry_after: Optional[float] = None


@dataclass(frozen=True)
class Bare:
    """A non-2xx answer without an envelope (a proxy in between)."""

    status: int
    retry_after: Optional[float] = None


@dataclass(frozen=True)
class Transport:
    """No answer at all."""


Answer = Union[Envelope, Bare, Transport]


@dataclass(frozen=True)
class Bounds:
    min: float
    max: float


@dataclass(frozen=True)
class Retry:
    delay: float


@dataclass(frozen=True)
class Stop:
    reason: str


Decision = Union[Retry, Stop]


def _exponential(base: float, cap: float, retry_after: Optional[float], k: int) -> Bounds:
    ceiling = min(base * (2 ** min(k, 16)), cap)
    low = retry_after or 0.0
    return Bounds(low, max(ceiling, low))


def bounds(policy: RetryPolicy, answer: Answer, same_code_before: int) -> Optional[Bounds]:
    """The range the next delay is drawn from, or None when the answer is never retried."""
    if isinstance(answer, Transport):
        return _exponential(policy.transport_backoff_base, policy.transport_backoff_cap, None,
                            same_code_before)
    if isinstance(answer, Bare):
        if 502 <= answer.status <= 504:
            return _exponential(policy.transport_backoff_base, policy.transport_backoff_cap,
                                answer.retry_after, same_code_before)
        return None
    code, ra = answer.code, answer.retry_after
    if code in NEVER:
        return None
    if code in AFTER_RETRY_AFTER:
        base = ra if ra is not None else AFTER_RETRY_AFTER[code]
        return Bounds(base, base + 1.0)
    if code in FIXED:
        delay = FIXED[code][0]
        low = max(ra or 0.0, delay)
        return Bounds(low, low + delay / 2)
    if code in AT_LEAST:
        delay = AT_LEAST[code]
        low = max(ra or 0.0, delay)
        return Bounds(low, low + delay / 2)
    if code in EXPONENTIAL:
        return _exponential(*EXPONENTIAL[code], ra, same_code_before)
    if answer.retryable:
        return _exponential(policy.transport_backoff_base, policy.transport_backoff_cap, ra,
                            same_code_before)
    return None


def decide(policy: RetryPolicy, answer: Answer, attempt: int, same_code_before: int,
           remaining: Optional[float], unit: float) -> Decision:
    """Retry or stop after failed attempt number ``attempt`` (1-based); ``unit`` in [0, 1]
    draws the jitter; ``remaining`` is the time left before the deadline, if any."""
    b = bounds(policy, answer, same_code_before)
    if b is None:
        return Stop("not_retryable")
    if not policy.enabled:
        return Stop("retries_off")
    over_code_budget = (isinstance(answer, Envelope) and answer.code in FIXED
                        and same_code_before >= FIXED[answer.code][1])
    if attempt >= policy.max_attempts or over_code_budget:
        return Stop("attempts_exhausted")
    if policy.max_delay is not None and b.min > policy.max_delay:
        return Stop("delay_too_long")
    delay = b.min + (b.max - b.min) * min(max(unit, 0.0), 1.0)
    if policy.max_delay is not None:
        delay = min(delay, policy.max_delay)
    if remaining is not None:
        if b.min >= remaining:
            return Stop("deadline")
        if delay >= remaining:
            # Jitter above the floor never takes a retry past the deadline.
            return Retry(b.min)
    return Retry(delay)


def parse_retry_after(value: Optional[str], now: Optional[float] = None) -> Optional[float]:
    """``Retry-After`` as integer seconds or an HTTP date, in seconds from ``now``."""
    if value is None:
        return None
    v = value.strip()
    if v.isdigit():
        return float(int(v))
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, float(int(when.timestamp() - (time.time() if now is None else now))))
