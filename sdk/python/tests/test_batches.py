"""Batches against the real server: a sandbox batch created, polled to the end and read
back typed; the list; idempotency; a bad item; the signed batch.completed webhook."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, Iterator, List, Tuple

import pytest

from asa import SIGNATURE_HEADER, ApiError, Client, verify_webhook_signature
from asa.types import Batch
from conftest import Server

ITEMS = ["B000LQXC2Q", {"query": "B000LQXC2R", "domain": "de"}, "B0NOTFND01"]


def finished(asa: Client, batch_id: str) -> Batch:
    """Polls until the batch is complete or failed (bounded: a stuck batch fails)."""
    for _ in range(600):
        b = asa.get_batch(batch_id)
        if b["status"] in ("complete", "failed"):
            return b  # type: ignore[return-value]
        time.sleep(0.1)
    raise AssertionError(f"batch {batch_id} did not finish")


def test_a_sandbox_batch_runs_to_completion(server: Server) -> None:
    slept: List[float] = []
    with Client(server.sandbox_key(), base_url=server.base_url, sleep=slept.append) as asa:
        created = asa.create_batch(ITEMS, idempotency_key="py-batch-1")
        again = asa.create_batch(ITEMS, idempotency_key="py-batch-1")
        done = finished(asa, created["id"])
        listed = asa.list_batches(limit=5)
    assert created.meta.status == 201
    assert created["id"].startswith("bat_") and len(created["id"]) == 20
    assert created["status"] == "pending" and created["endpoint"] == "amazon.product"
    assert (created["total_count"], created["processed_count"]) == (3, 0)
    assert created["webhook_signature_secret"].startswith("whsec_")
    assert created["poll_url"].endswith(f"/api/v1/amazon/batch/{created['id']}")
    assert created["webhook_url"] is None and created["webhook_delivery_status"] is None
    assert created["completed_at"] is None
    assert created.request_id == created.meta.request_id
    # The same Idempotency-Key answers the first batch again.
    assert again.meta.status == 201 and again["id"] == created["id"]
    assert again["webhook_signature_secret"] == created["webhook_signature_secret"]

    assert done["status"] == "complete", done
    assert (done["processed_count"], done["success_count"], done["failure_count"]) == (3, 2, 1)
    assert done["credits_charged"] == 0  # sandbox
    assert done["started_at"] and done["completed_at"]
    assert "webhook_signature_secret" not in done and "results_next_offset" not in done
    results = done["results"]
    assert [r["index"] for r in results] == [0, 1, 2]
    assert all(r["request_id"].startswith("req_") for r in results)
    assert [(r["status"], r["http_status"]) for r in results] == [
        ("ok", 200), ("ok", 200), ("error", 404)]
    assert results[0]["data"]["asin"] == "B000LQXC2Q" and results[0]["error"] is None
    assert results[1]["input"] == {"query": "B000LQXC2R", "domain": "de"}
    assert results[1]["data"]["marketplace"] == "de"
    assert results[2]["data"] is None
    assert results[2]["error"]["error"] == "product_not_found"
    assert results[2]["credits_charged"] == 0

    assert [b["id"] for b in listed["batches"]] == [created["id"]]
    assert listed["batches"][0]["status"] == "complete"
    assert "results" not in listed["batches"][0]
    assert slept == []


def test_bad_batches_are_typed_errors_not_retried(server: Server) -> None:
    slept: List[float] = []
    with Client(server.sandbox_key(), base_url=server.base_url, sleep=slept.append) as asa:
        with pytest.raises(ApiError) as bad:
            asa.create_batch([{"query": "usb c"}, {"query": "usb", "pages": 11}],
                             endpoint="amazon.search")
        with pytest.raises(ApiError) as hook:
            asa.create_batch(["B000LQXC2Q"], webhook_url="ftp://127.0.0.1/hook")
        with pytest.raises(ApiError) as missing:
            asa.get_batch("bat_0000000000000000")
        with pytest.raises(ApiError) as limit:
            asa.list_batches(limit=0)
    e = bad.value
    assert (e.code, e.status, e.stop, len(e.attempts)) == (
        "invalid_params", 400, "not_retryable", 1)
    assert e.message.startswith("items[1]"), e.message
    assert hook.value.code == "invalid_params" and "webhook_url" in hook.value.message
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    assert limit.value.code == "invalid_params"
    assert slept == []


class Receiver:
    """An http receiver on loopback that records each POST and answers 200."""

    def __init__(self) -> None:
        self.got: List[Tuple[Dict[str, str], bytes]] = []
        seen = self.got

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/hooks/asa"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.http.shutdown()
    r.http.server_close()


def test_the_completion_webhook_is_signed(server: Server, receiver: Receiver) -> None:
    with Client(server.sandbox_key(), base_url=server.base_url) as asa:
        created = asa.create_batch(["B000LQXC2Q", "B0NOTFND01"], webhook_url=receiver.url)
        secret = created["webhook_signature_secret"]
        assert created["webhook_url"] == receiver.url
        assert created["webhook_delivery_status"] == "pending"
        finished(asa, created["id"])
        for _ in range(600):
            b = asa.get_batch(created["id"])
            if b["webhook_delivery_status"] != "pending":
                break
            time.sleep(0.1)
    assert b["webhook_delivery_status"] == "delivered", b
    assert b["webhook_attempts"] == 1 and b["webhook_last_error"] is None
    assert len(receiver.got) == 1
    headers, raw = receiver.got[0]
    assert headers["x-asa-event"] == "batch.completed"
    assert headers["x-asa-batch-id"] == created["id"]
    signature = headers[SIGNATURE_HEADER.lower()]
    assert verify_webhook_signature(secret, raw, signature)
    assert not verify_webhook_signature(secret, raw.replace(b"complete", b"failed", 1), signature)
    assert not verify_webhook_signature("whsec_" + "x" * 32, raw, signature)
    event = json.loads(raw)
    assert event["event"] == "batch.completed" and event["id"] == created["id"]
    assert event["status"] == "complete" and "webhook_signature_secret" not in event
    assert [r["status"] for r in event["results"]] == ["ok", "error"]
