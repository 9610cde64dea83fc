"""Exceptions: every failed call raises an :class:`AsaError` carrying every attempt."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional


@dataclass(frozen=True)
class Attempt:
    """One HTTP attempt of a call, as seen by the client."""

    number: int
    request_id: Optional[str]
    status: Optional[int]
    code: Optional[str]
    retry_after: Optional[float]
    elapsed: float


class AsaError(Exception):
    """Base of every error the client raises."""

    def __init__(self, message: str, attempts: Optional[List[Attempt]] = None,
                 stop: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.attempts: List[Attempt] = list(attempts or [])
        self.stop = stop
        """Why the client stopped retrying: not_retryable, attempts_exhausted, deadline,
        delay_too_long or retries_off."""

    @property
    def request_ids(self) -> List[str]:
        """The request id of every attempt that got one, oldest first (for support)."""
        return [a.request_id for a in self.attempts if a.request_id]


class ConfigError(AsaError):
    """The client is misconfigured (e.g. no API key)."""


class ApiError(AsaError):
    """The server (or a proxy in front of it) answered non-2xx."""

    def __init__(self, *, code: str, message: str, status: int, retryable: bool,
                 request_id: Optional[str], docs_url: Optional[str],
                 retry_after: Optional[float], attempts: List[Attempt], stop: str) -> None:
        super().__init__(message, attempts, stop)
        self.code = code
        self.status = status
        self.retryable = retryable
        self.request_id = request_id
        self.docs_url = docs_url
        self.retry_after = retry_after

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message} (request {self.request_id})"


class TransportError(AsaError):
    """No answer: connection refused, reset, or the per-attempt timeout."""


class DeadlineError(AsaError):
    """The call's overall deadline cut an attempt in flight."""


class DecodeError(AsaError):
    """A 2xx answer whose body is not JSON."""
