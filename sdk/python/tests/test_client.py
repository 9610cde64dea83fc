"""The sync client against a real server and simulator (`asa dev`)."""
from __future__ import annotations

import socket
import time
from typing import List

import pytest

from asa import ApiError, Client, ConfigError, DeadlineError, RetryPolicy, TransportError
from conftest import Server


def client(server: Server, key: str, **kw) -> Client:
    return Client(key, base_url=server.base_url, **kw)


def expect_error(fn, code: str, status: int) -> ApiError:
    with pytest.raises(ApiError) as info:
        fn()
    e = info.value
    assert (e.code, e.status) == (code, status), str(e)
    assert e.message
    assert e.request_id and e.request_id.startswith("req_")
    assert e.request_ids[-1] == e.request_id
    return e


def test_product_200_is_typed_and_exposes_headers(server: Server, key: str) -> None:
    with client(server, key) as asa:
        p = asa.product("B000LQXC2Q", domain="de")
    assert p["asin"] == "B000LQXC2Q"
    assert isinstance(p["title"], str) and p["title"]
    assert p["price"] is None or isinstance(p["price"], float)
    assert p.meta.status == 200 and p.meta.cost == 5
    assert p.meta.request_id == p["request_id"] == p.request_id
    assert p.meta.extractor_version and p.meta.upstream_attempts and p.meta.upstream_attempts >= 1
    assert p.meta.source_status == 200
    assert len(p.attempts) == 1


def test_search_200(server: Server, key: str) -> None:
    with client(server, key) as asa:
        s = asa.search("usb c cable", domain="co.uk", sort_by="price_asc", pages=2)
        empty = asa.search("sim-empty")
    assert s["query"] == "usb c cable" and s["sort_by"] == "price_asc" and s["pages"] == 2
    assert s["products"] and {p["page"] for p in s["products"]} == {1, 2}
    assert s.meta.cost == 10
    assert empty["no_results"] is True and empty["products"] == []


def test_never_retried_classes(server: Server, key: str) -> None:
    slept: List[float] = []
    broke = server.key("vibe", 0)
    free = server.key("free", 100)
    with client(server, key, sleep=slept.append) as asa:
        expect_error(lambda: asa.search("x", sort_by=None, pages=11), "invalid_params", 400)
        expect_error(lambda: asa.product("B0NOTFND01"), "product_not_found", 404)
        expect_error(lambda: asa.product("B000LQXC2Q", render_js=True), "not_implemented", 501)
        e = expect_error(lambda: asa.product("B0REDIRCT1"), "asin_mismatch", 502)
        assert e.stop == "not_retryable" and len(e.attempts) == 1
        expect_error(lambda: asa.product("B0GALLERY1"), "generic_gallery_page", 502)
    with client(server, "asa_live_" + "x" * 32, sleep=slept.append) as asa:
        expect_error(lambda: asa.account(), "unauthorized", 401)
    with client(server, broke, sleep=slept.append) as asa:
        expect_error(lambda: asa.product("B000LQXC2Q"), "insufficient_credits", 402)
    with client(server, free, sleep=slept.append) as asa:
        expect_error(lambda: asa.product("B000LQXC2Q", domain="de", country="US"),
                     "forbidden_region", 403)
    assert slept == []


def test_429_is_retried_after_retry_after(server: Server) -> None:
    free = server.key("free", 1000)
    waits: List[float] = []
    with client(server, free, retry=RetryPolicy(max_attempts=6),
                sleep=lambda d: (waits.append(d), time.sleep(d))) as asa:
        results = [asa.product("B000LQXC2Q") for _ in range(15)]
    assert len(results) == 15
    retried = [r for r in results if len(r.attempts) > 1]
    assert retried, "15 requests at once on a free account must meet a 429"
    first = retried[0].attempts[0]
    assert first.code == "rate_limited" and first.status == 429
    assert first.retry_after is not None and first.retry_after >= 1
    assert all(w >= 1 for w in waits)


def test_blocked_422_is_retried_with_injected_sleep(server: Server, key: str) -> None:
    waits: List[float] = []
    with client(server, key, sleep=waits.append, unit=lambda: 1.0) as asa:
        e = expect_error(lambda: asa.product("B0CAPTCHA1"), "blocked_by_amazon", 422)
    assert e.stop == "attempts_exhausted" and e.retryable is True
    assert [a.code for a in e.attempts] == ["blocked_by_amazon"] * 4
    assert len(set(e.request_ids)) == 4
    # 60 s floor plus full jitter (unit 1.0 draws the top: 90 s), raised by a Retry-After.
    assert waits == [max(60.0, a.retry_after or 0.0) + 30.0 for a in e.attempts[:3]]
    # The server's own retries absorb two captchas: the client sees one 200.
    with client(server, key, sleep=waits.append) as asa:
        p = asa.product("B0FLAKY2AB")
    assert p["asin"] == "B0FLAKY2AB" and len(p.attempts) == 1
    assert p.meta.upstream_attempts is not None and p.meta.upstream_attempts >= 3


def test_deadline(server: Server, key: str) -> None:
    with client(server, key, retry=RetryPolicy(deadline=0.5)) as asa:
        with pytest.raises(DeadlineError) as info:
            asa.product("B0SLOW0200")
    assert info.value.stop == "deadline"
    with client(server, key, retry=RetryPolicy(deadline=20)) as asa:
        e = expect_error(lambda: asa.product("B0CAPTCHA1"), "blocked_by_amazon", 422)
    assert e.stop == "deadline" and len(e.attempts) == 1


def test_trace_round_trip_and_account(server: Server, key: str) -> None:
    with client(server, key) as asa:
        p = asa.product("B000LQXC2R")
        t = asa.trace(p.request_id)
        acc = asa.account()
        missing = expect_error(lambda: asa.trace("req_000000000000"), "not_found", 404)
    assert t["request_id"] == p.request_id
    assert missing.stop == "not_retryable"
    assert acc.meta.status == 200 and "limits" in acc
    assert acc["limits"]["rps"] == 10


def test_revoked_key_is_401_revoked(server: Server) -> None:
    rec = server.key_record("vibe", 100)
    server.admin("key", "revoke", rec["id"])
    with client(server, rec["key"]) as asa:
        e = expect_error(lambda: asa.account(), "revoked", 401)
    assert e.stop == "not_retryable" and e.retryable is False


def test_no_answer_is_retried_with_backoff_then_raised() -> None:
    waits: List[float] = []
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: connections are refused
        with Client("asa_live_" + "k" * 32, base_url=f"http://127.0.0.1:{port}",
                    sleep=waits.append, unit=lambda: 1.0) as asa:
            with pytest.raises(TransportError) as info:
                asa.product("B000LQXC2Q")
            with pytest.raises(TransportError) as post:
                asa.create_batch(["B000LQXC2Q"])
    assert info.value.stop == "attempts_exhausted" and len(info.value.attempts) == 4
    assert info.value.request_ids == []
    # Full jitter at its top: 1 s, 2 s, 4 s; the POST is retried thanks to its made-up key.
    assert waits == [1.0, 2.0, 4.0] * 2
    assert post.value.stop == "attempts_exhausted"


def test_missing_key_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASA_API_KEY", raising=False)
    with pytest.raises(ConfigError):
        Client()
