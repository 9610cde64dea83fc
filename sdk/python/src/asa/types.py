"""Typed views of request parameters and response bodies (field names are docs/API.md's)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, TypedDict


@dataclass(frozen=True)
class Meta:
    """Response headers of a successful call."""

    status: int
    request_id: str
    cost: Optional[int]
    upstream_attempts: Optional[int]
    source_status: Optional[int]
    resolved_url: Optional[str]
    extractor_version: Optional[str]
    concurrency: Optional[str]
    rps: Optional[str]


class Result(Dict[str, Any]):
    """A JSON body (a plain dict, as the public SDKs return) plus the call's headers
    under ``.meta`` and its attempts under ``.attempts``."""

    meta: Meta
    attempts: list

    @property
    def request_id(self) -> str:
        return str(self.get("request_id") or self.meta.request_id)


class FeaturedMerchant(TypedDict, total=False):
    name: Optional[str]
    seller_id: Optional[str]
    is_amazon_fulfilled: Optional[bool]


class Product(TypedDict, total=False):
    asin: str
    parent_asin: Optional[str]
    url: Optional[str]
    title: Optional[str]
    brand: Optional[str]
    price: Optional[float]
    currency: Optional[str]
    stock: Optional[str]
    is_prime: Optional[bool]
    rating: Optional[float]
    reviews_count: Optional[int]
    images: List[str]
    bullet_points: Optional[str]
    featured_merchant: Optional[FeaturedMerchant]
    marketplace: Optional[str]
    language: Optional[str]
    html: Optional[str]
    request_id: str


class SearchProduct(TypedDict, total=False):
    asin: str
    title: Optional[str]
    url: Optional[str]
    image: Optional[str]
    price: Optional[float]
    currency: Optional[str]
    rating: Optional[float]
    reviews_count: Optional[int]
    is_prime: Optional[bool]
    is_sponsored: Optional[bool]
    organic_position: Optional[int]
    page: int


class Search(TypedDict, total=False):
    query: str
    domain: str
    sort_by: str
    start_page: int
    pages: int
    no_results: bool
    products: List[SearchProduct]
    request_id: str


class BatchItem(TypedDict, total=False):
    query: str
    domain: str
    language: str
    country: str
    add_html: bool
    sort_by: str
    start_page: int
    pages: int


class BatchResult(TypedDict, total=False):
    """One processed item of a batch."""

    index: int
    input: Dict[str, Any]
    status: str  # ok | error
    http_status: Optional[int]
    data: Optional[Dict[str, Any]]
    error: Optional[Dict[str, Any]]  # the error envelope of a failed item
    duration_ms: Optional[int]
    credits_charged: int
    request_id: Optional[str]


class Batch(TypedDict, total=False):
    """A batch as its creation, ``get_batch``, ``list_batches`` and the
    ``batch.completed`` webhook show it."""

    id: str
    status: str  # pending | running | complete | failed
    endpoint: str
    total_count: int
    processed_count: int
    success_count: int
    failure_count: int
    credits_charged: int
    created_at: str
    started_at: Optional[str]
    completed_at: Optional[str]
    poll_url: str
    webhook_url: Optional[str]
    webhook_delivery_status: Optional[str]  # pending | delivered | failed
    webhook_attempts: int
    webhook_next_attempt_at: Optional[str]
    webhook_last_error: Optional[str]
    webhook_signature_secret: str  # only in the creation answer
    results: List[BatchResult]
    results_next_offset: int  # only when more results follow
    event: str  # "batch.completed", in the webhook's body
    request_id: str


SORT_BY = ("best_match", "price_asc", "price_desc", "avg_customer_review", "newest")


def params(**kw: Any) -> Dict[str, str]:
    """Query parameters on the wire: None dropped, booleans as true/false."""
    out: Dict[str, str] = {}
    for k, v in kw.items():
        if v is None:
            continue
        out[k] = ("true" if v else "false") if isinstance(v, bool) else str(v)
    return out
