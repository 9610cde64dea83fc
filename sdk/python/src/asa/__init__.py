"""asa: Python client for the self-hostable Amazon Scraper API.

Layout: ``client`` (Client, AsyncClient), ``retry`` (the policy of docs/API.md as pure
functions), ``errors`` (exceptions with code, status, message, request ids), ``types``
(typed bodies), ``webhook`` (signature verification).
"""
from .client import AsyncClient, Client
from .errors import (ApiError, AsaError, Attempt, ConfigError, DeadlineError, DecodeError,
                     TransportError)
from .retry import RetryPolicy
from .types import Batch, BatchResult, Meta, Product, Result, Search
from .webhook import SIGNATURE_HEADER, sign, verify_webhook_signature

__all__ = [
    "AsyncClient", "Client", "ApiError", "AsaError", "Attempt", "ConfigError",
    "DeadlineError", "DecodeError", "TransportError", "RetryPolicy", "Batch", "BatchResult",
    "Meta", "Product", "Result", "Search", "SIGNATURE_HEADER", "sign",
    "verify_webhook_signature",
]
__version__ = "0.1.0"
