"""Every vector of sdk/retry-vectors.json, with the jitter at its extremes and middle."""
from __future__ import annotations

import json

import pytest

from asa import retry
from conftest import VECTORS

DOC = json.loads(VECTORS.read_text())


def policy_of(v: dict) -> retry.RetryPolicy:
    p = {**DOC["default_policy"], **(v.get("policy") or {})}
    ms = lambda k: None if p[k] is None else p[k] / 1000  # noqa: E731
    return retry.RetryPolicy(enabled=p["enabled"], max_attempts=p["max_attempts"],
                             max_delay=ms("max_delay_ms"),
                             transport_backoff_base=p["transport_backoff_base_ms"] / 1000,
                             transport_backoff_cap=p["transport_backoff_cap_ms"] / 1000), \
        ms("deadline_remaining_ms")


def answer_of(v: dict) -> retry.Answer:
    if v.get("transport_error"):
        return retry.Transport()
    resp = v["response"]
    headers = {k.lower(): val for k, val in resp["headers"].items()}
    ra = retry.parse_retry_after(headers.get("retry-after"))
    body = resp["body"]
    if isinstance(body, dict):
        return retry.Envelope(body["error"], body["retryable"], ra)
    return retry.Bare(resp["status"], ra)


def test_the_file_is_read() -> None:
    assert DOC["version"] == 1 and len(DOC["vectors"]) >= 60


@pytest.mark.parametrize("v", DOC["vectors"], ids=lambda v: v["name"])
@pytest.mark.parametrize("unit", [0.0, 0.5, 1.0])
def test_vector(v: dict, unit: float) -> None:
    policy, remaining = policy_of(v)
    d = retry.decide(policy, answer_of(v), v["attempt"], v["same_code_before"], remaining, unit)
    exp = v["expect"]
    if exp["retry"]:
        assert isinstance(d, retry.Retry), d
        ms = round(d.delay * 1000)
        assert exp["delay_min_ms"] <= ms <= exp["delay_max_ms"], ms
    else:
        assert d == retry.Stop(exp["stop"])


def test_every_catalog_code_is_covered() -> None:
    codes = {v["response"]["body"]["error"] for v in DOC["vectors"]
             if v.get("response") and isinstance(v["response"]["body"], dict)}
    assert retry.CATALOG <= codes


def test_retry_after_as_http_date() -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now) == 30.0
    assert retry.parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == 0.0
    assert retry.parse_retry_after(" 7 ") == 7.0
    assert retry.parse_retry_after("soon") is None
