"""What the sync and async clients share: request shapes, reading one attempt's answer,
the retry bookkeeping of a call, and the error raised at the end."""
from __future__ import annotations

import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import httpx

from . import retry
from .errors import ApiError, Attempt, ConfigError, DecodeError, DeadlineError, TransportError
from .types import Meta, Result

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


@dataclass
class Request:
    endpoint: str
    method: str
    path: str
    params: Dict[str, str] = field(default_factory=dict)
    body: Optional[Any] = None
    idempotency_key: Optional[str] = None

    @property
    def retry_safe(self) -> bool:
        """Sending it twice is harmless: every GET, and a POST with an idempotency key."""
        return self.method == "GET" or self.idempotency_key is not None


@dataclass
class Settings:
    base_url: str
    api_key: str
    timeout: Optional[float]
    policy: retry.RetryPolicy
    unit: Callable[[], float]

    @classmethod
    def build(cls, api_key: Optional[str], base_url: Optional[str], timeout: Optional[float],
              policy: Optional[retry.RetryPolicy],
              unit: Optional[Callable[[], float]]) -> "Settings":
        key = api_key or os.environ.get("ASA_API_KEY")
        if not key:
            raise ConfigError("no API key: pass api_key= or set ASA_API_KEY")
        url = (base_url or os.environ.get("ASA_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        return cls(url, key, timeout, policy or retry.RetryPolicy(), unit or random.random)

    def headers(self, req: Request) -> Dict[str, str]:
        h = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json",
             "User-Agent": "asa-sdk-python/0.1.0"}
        if req.idempotency_key:
            h["Idempotency-Key"] = req.idempotency_key
        return h


def new_idempotency_key() -> str:
    return f"idem_{uuid.uuid4().hex}"


def _int(v: Optional[str]) -> Optional[int]:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def meta(resp: httpx.Response) -> Meta:
    h = resp.headers
    return Meta(status=resp.status_code, request_id=h.get("x-request-id", ""),
                cost=_int(h.get("asa-cost")), upstream_attempts=_int(h.get("asa-attempts")),
                source_status=_int(h.get("asa-source-status")),
                resolved_url=h.get("asa-resolved-url"),
                extractor_version=h.get("asa-extractor-version"),
                concurrency=h.get("asa-concurrency"), rps=h.get("asa-rps"))


class Call:
    """The state of one call across its attempts."""

    def __init__(self, settings: Settings, req: Request) -> None:
        self.s = settings
        self.req = req
        self.started = time.monotonic()
        self.attempts: List[Attempt] = []
        self._sent = self.started
        # The last failure: its retry answer, and its error for a given stop reason.
        self._answer: retry.Answer = retry.Transport()
        self._last: Callable[[str], Exception] = lambda stop: TransportError(stop, [], stop)

    def remaining(self) -> Optional[float]:
        d = self.s.policy.deadline
        return None if d is None else max(0.0, d - (time.monotonic() - self.started))

    def attempt_timeout(self) -> Optional[float]:
        """The per-attempt timeout, shortened so an attempt never runs past the deadline."""
        rem = self.remaining()
        t = self.s.timeout
        if rem is None:
            return t
        return rem if t is None else min(t, rem)

    def begin(self) -> None:
        self._sent = time.monotonic()

    def _record(self, **kw: Any) -> Attempt:
        a = Attempt(number=len(self.attempts) + 1, elapsed=time.monotonic() - self._sent, **kw)
        self.attempts.append(a)
        return a

    def deadline_hit(self) -> bool:
        rem = self.remaining()
        return rem is not None and rem <= 0

    def deadline_error(self) -> DeadlineError:
        self._record(request_id=None, status=None, code="deadline", retry_after=None)
        return DeadlineError(f"deadline of {self.s.policy.deadline}s reached",
                             self.attempts, "deadline")

    def on_transport(self, exc: Exception) -> float:
        """Records a lost attempt; the delay before the next one, or raises."""
        code = "timeout" if isinstance(exc, httpx.TimeoutException) else "transport"
        a = self._record(request_id=None, status=None, code=code, retry_after=None)
        self._last = lambda stop: TransportError(f"{code}: {exc}", self.attempts, stop)
        return self._decide(retry.Transport(), a)

    def on_response(self, resp: httpx.Response) -> Optional[Result]:
        """A Result for a 2xx; otherwise records the failure and returns None (the caller
        then asks :meth:`next_delay`)."""
        m = meta(resp)
        ra = retry.parse_retry_after(resp.headers.get("retry-after"))
        rid = m.request_id or None
        if 200 <= resp.status_code < 300:
            self._record(request_id=rid, status=resp.status_code, code=None, retry_after=ra)
            try:
                body = resp.json()
            except ValueError as e:
                raise DecodeError(f"2xx body is not JSON: {e}", self.attempts) from e
            out = Result(body if isinstance(body, dict) else {"data": body})
            out.meta, out.attempts = m, self.attempts
            return out
        env = _envelope(resp.content)
        status = resp.status_code
        if env is not None:
            code = str(env["error"])
            rid = rid or env.get("request_id")
            flag = env.get("retryable")
            retryable = bool(flag) if isinstance(flag, bool) else (
                code not in retry.NEVER if code in retry.CATALOG else status >= 500)
            self._answer = retry.Envelope(code, retryable, ra)
            msg, docs = str(env.get("message", "")), env.get("docs_url")
        else:
            code, retryable = f"http_{status}", 502 <= status <= 504
            self._answer = retry.Bare(status, ra)
            text = resp.content[:200].decode("utf-8", "replace").strip()
            msg, docs = f"HTTP {status} without an error envelope: {text}", None
        self._record(request_id=rid, status=status, code=code, retry_after=ra)
        self._last = lambda stop: ApiError(
            code=code, message=msg, status=status, retryable=retryable, request_id=rid,
            docs_url=docs, retry_after=ra, attempts=self.attempts, stop=stop)
        return None

    def next_delay(self) -> float:
        """The delay before the next attempt after a failed answer, or raises its error."""
        return self._decide(self._answer, self.attempts[-1])

    def _decide(self, answer: retry.Answer, a: Attempt) -> float:
        same = sum(1 for p in self.attempts[:-1] if p.code is not None and p.code == a.code)
        d = retry.decide(self.s.policy, answer, a.number, same, self.remaining(), self.s.unit())
        if isinstance(d, retry.Retry) and isinstance(answer, retry.Transport) \
                and not self.req.retry_safe:
            d = retry.Stop("not_retryable")
        if isinstance(d, retry.Stop):
            raise self._last(d.reason)
        return d.delay


def _envelope(raw: bytes) -> Optional[Dict[str, Any]]:
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        return body
    return None
