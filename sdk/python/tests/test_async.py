"""The async client against the same real server."""
from __future__ import annotations

import asyncio
from typing import List

import pytest

from asa import ApiError, AsyncClient, RetryPolicy
from conftest import Server


async def test_async_product_search_account_trace(server: Server, key: str) -> None:
    async with AsyncClient(key, base_url=server.base_url) as asa:
        p, s = await asyncio.gather(asa.product("B000LQXC2Q", add_html=True),
                                    asa.search("usb c", domain="de"))
        t = await asa.trace(s.request_id)
        acc = await asa.account()
    assert p["asin"] == "B000LQXC2Q" and isinstance(p["html"], str) and "<" in p["html"]
    assert p.meta.cost == 5 and s.meta.cost == 5 and s["products"]
    assert t["request_id"] == s.request_id
    assert acc.meta.request_id.startswith("req_")


async def test_async_errors_carry_every_request_id(server: Server, key: str) -> None:
    waits: List[float] = []

    async def sleep(d: float) -> None:
        waits.append(d)

    async with AsyncClient(key, base_url=server.base_url, sleep=sleep, unit=lambda: 0.0,
                           retry=RetryPolicy(max_attempts=2)) as asa:
        with pytest.raises(ApiError) as info:
            await asa.product("B0CAPTCHA1")
        with pytest.raises(ApiError) as perm:
            await asa.product("B000LQXC2Q", language="xx_YY")
    e = info.value
    assert (e.code, e.status, e.stop) == ("blocked_by_amazon", 422, "attempts_exhausted")
    assert len(e.request_ids) == 2 and e.request_ids[-1] == e.request_id
    assert waits == [max(60.0, e.attempts[0].retry_after or 0.0)]
    assert (perm.value.code, perm.value.status) == ("invalid_params", 400)
    assert "language" in perm.value.message
