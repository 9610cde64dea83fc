"""The requests of each call, with the public SDKs' parameter names."""
from __future__ import annotations

from typing import Any, Dict, Iterable, Optional
from urllib.parse import quote

from ._core import Request, new_idempotency_key
from .types import SORT_BY, params

PREFIX = "/api/v1"


def product(query: str, domain: Optional[str], language: Optional[str],
            country: Optional[str], add_html: Optional[bool], extra: Dict[str, Any]) -> Request:
    p = params(query=query, domain=domain, language=language, country=country,
               add_html=add_html, **extra)
    return Request("amazon.product", "GET", f"{PREFIX}/amazon/product", p)


def search(query: str, domain: Optional[str], language: Optional[str], country: Optional[str],
           sort_by: Optional[str], start_page: Optional[int], pages: Optional[int],
           add_html: Optional[bool], extra: Dict[str, Any]) -> Request:
    if sort_by is not None and sort_by not in SORT_BY:
        raise ValueError(f"sort_by must be one of {', '.join(SORT_BY)}")
    p = params(query=query, domain=domain, language=language, country=country,
               sort_by=sort_by, start_page=start_page, pages=pages, add_html=add_html, **extra)
    return Request("amazon.search", "GET", f"{PREFIX}/amazon/search", p)


def create_batch(endpoint: str, items: Iterable[Any], webhook_url: Optional[str],
                 idempotency_key: Optional[str]) -> Request:
    if endpoint not in ("amazon.product", "amazon.search"):
        raise ValueError("endpoint must be amazon.product or amazon.search")
    body: Dict[str, Any] = {
        "endpoint": endpoint,
        "items": [{"query": i} if isinstance(i, str) else dict(i) for i in items],
    }
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    # A POST is retried only with an Idempotency-Key: make one up when none is given.
    return Request("amazon.batch.create", "POST", f"{PREFIX}/amazon/batch", body=body,
                   idempotency_key=idempotency_key or new_idempotency_key())


def get_batch(batch_id: str) -> Request:
    return Request("amazon.batch.get", "GET", f"{PREFIX}/amazon/batch/{quote(batch_id, safe='')}")


def list_batches(limit: Optional[int]) -> Request:
    return Request("amazon.batch.list", "GET", f"{PREFIX}/amazon/batch", params(limit=limit))


def account() -> Request:
    return Request("account", "GET", f"{PREFIX}/account")


def trace(request_id: str) -> Request:
    return Request("trace", "GET", f"{PREFIX}/requests/{quote(request_id, safe='')}")
