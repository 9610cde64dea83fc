"""The synchronous and asynchronous clients: same calls, same retry loop."""
from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable, Iterable, Optional

import httpx

from . import _requests as r
from ._core import Call, Request, Settings
from .retry import RetryPolicy
from .types import Result


class Client:
    """Blocking client. ``sleep`` and ``unit`` (jitter source in [0, 1]) are injectable."""

    def __init__(self, api_key: Optional[str] = None, *, base_url: Optional[str] = None,
                 timeout: Optional[float] = 60.0, retry: Optional[RetryPolicy] = None,
                 sleep: Callable[[float], None] = time.sleep,
                 unit: Optional[Callable[[], float]] = None,
                 http: Optional[httpx.Client] = None) -> None:
        self._s = Settings.build(api_key, base_url, timeout, retry, unit)
        self._sleep = sleep
        self._http = http or httpx.Client()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _run(self, req: Request) -> Result:
        call = Call(self._s, req)
        while True:
            call.begin()
            try:
                resp = self._http.request(
                    req.method, self._s.base_url + req.path, params=req.params or None,
                    json=req.body, headers=self._s.headers(req), timeout=call.attempt_timeout())
            except httpx.HTTPError as e:
                if call.deadline_hit():
                    raise call.deadline_error() from e
                delay = call.on_transport(e)
            else:
                done = call.on_response(resp)
                if done is not None:
                    return done
                delay = call.next_delay()
            self._sleep(delay)

    def product(self, query: str, *, domain: Optional[str] = None,
                language: Optional[str] = None, country: Optional[str] = None,
                add_html: Optional[bool] = None, **extra: Any) -> Result:
        return self._run(r.product(query, domain, language, country, add_html, extra))

    def search(self, query: str, *, domain: Optional[str] = None,
               language: Optional[str] = None, country: Optional[str] = None,
               sort_by: Optional[str] = None, start_page: Optional[int] = None,
               pages: Optional[int] = None, add_html: Optional[bool] = None,
               **extra: Any) -> Result:
        return self._run(r.search(query, domain, language, country, sort_by, start_page,
                                  pages, add_html, extra))

    def create_batch(self, items: Iterable[Any], *, endpoint: str = "amazon.product",
                     webhook_url: Optional[str] = None,
                     idempotency_key: Optional[str] = None) -> Result:
        return self._run(r.create_batch(endpoint, items, webhook_url, idempotency_key))

    def get_batch(self, batch_id: str) -> Result:
        return self._run(r.get_batch(batch_id))

    def list_batches(self, limit: Optional[int] = None) -> Result:
        return self._run(r.list_batches(limit))

    def account(self) -> Result:
        return self._run(r.account())

    def trace(self, request_id: str) -> Result:
        return self._run(r.trace(request_id))


class AsyncClient:
    """asyncio client with the calls of :class:`Client`, as coroutines."""

    def __init__(self, api_key: Optional[str] = None, *, base_url: Optional[str] = None,
                 timeout: Optional[float] = 60.0, retry: Optional[RetryPolicy] = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 unit: Optional[Callable[[], float]] = None,
                 http: Optional[httpx.AsyncClient] = None) -> None:
        self._s = Settings.build(api_key, base_url, timeout, retry, unit)
        self._sleep = sleep
        self._http = http or httpx.AsyncClient()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _run(self, req: Request) -> Result:
        call = Call(self._s, req)
        while True:
            call.begin()
            try:
                resp = await self._http.request(
                    req.method, self._s.base_url + req.path, params=req.params or None,
                    json=req.body, headers=self._s.headers(req), timeout=call.attempt_timeout())
            except httpx.HTTPError as e:
                if call.deadline_hit():
                    raise call.deadline_error() from e
                delay = call.on_transport(e)
            else:
                done = call.on_response(resp)
                if done is not None:
                    return done
                delay = call.next_delay()
            await self._sleep(delay)

    async def product(self, query: str, *, domain: Optional[str] = None,
                      language: Optional[str] = None, country: Optional[str] = None,
                      add_html: Optional[bool] = None, **extra: Any) -> Result:
        return await self._run(r.product(query, domain, language, country, add_html, extra))

    async def search(self, query: str, *, domain: Optional[str] = None,
                     language: Optional[str] = None, country: Optional[str] = None,
                     sort_by: Optional[str] = None, start_page: Optional[int] = None,
                     pages: Optional[int] = None, add_html: Optional[bool] = None,
                     **extra: Any) -> Result:
        return await self._run(r.search(query, domain, language, country, sort_by,
                                        start_page, pages, add_html, extra))

    async def create_batch(self, items: Iterable[Any], *, endpoint: str = "amazon.product",
                           webhook_url: Optional[str] = None,
                           idempotency_key: Optional[str] = None) -> Result:
        return await self._run(r.create_batch(endpoint, items, webhook_url, idempotency_key))

    async def get_batch(self, batch_id: str) -> Result:
        return await self._run(r.get_batch(batch_id))

    async def list_batches(self, limit: Optional[int] = None) -> Result:
        return await self._run(r.list_batches(limit))

    async def account(self) -> Result:
        return await self._run(r.account())

    async def trace(self, request_id: str) -> Result:
        return await self._run(r.trace(request_id))


__all__ = ["Client", "AsyncClient"]
