"""Starts a real `asa sim` + `asa serve` for the session and makes accounts and keys with
`asa admin`, as an operator would."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import pytest

HERE = Path(__file__).resolve().parent
ASA_BIN = os.environ.get("ASA_BIN", str(HERE.parent / ".." / ".." / "target" / "debug" / "asa"))
VECTORS = HERE.parent.parent / "retry-vectors.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, what: str, log: Path) -> None:
    until = time.monotonic() + 30
    while time.monotonic() < until:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer at {url}")


class Server:
    def __init__(self, base_url: str, env: Dict[str, str]) -> None:
        self.base_url = base_url
        self.env = env

    def admin(self, *args: str) -> Dict:
        out = subprocess.run([ASA_BIN, "admin", *args, "--json"], env=self.env, check=True,
                             capture_output=True, text=True, timeout=30)
        return json.loads(out.stdout)

    def key_record(self, plan: str = "vibe", credits: int = 1000) -> Dict:
        """`{"id": key id, "key": asa_live_...}` of a new key on a new account."""
        acc = self.admin("account", "create", "--plan", plan, "--credits", str(credits))["id"]
        return self.admin("key", "create", "--account", acc)

    def key(self, plan: str = "vibe", credits: int = 1000) -> str:
        return str(self.key_record(plan, credits)["key"])

    def sandbox_key(self) -> str:
        """An ``asa_test_`` key on a new free account: served by the simulator, free."""
        acc = self.admin("account", "create", "--plan", "free", "--credits", "0")["id"]
        return str(self.admin("key", "create", "--account", acc, "--test")["key"])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("asa")
    sim_port, api_port = free_port(), free_port()
    # The server refuses unknown ASA_* variables (ASA_BIN among them): pass only its own.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ASA_")}
    env = dict(inherited,
               ASA_LISTEN=f"127.0.0.1:{api_port}",
               ASA_DATABASE_URL=f"sqlite://{tmp}/asa.db",
               ASA_UPSTREAM_URL_TEMPLATE=f"http://127.0.0.1:{sim_port}/amazon.{{domain}}",
               ASA_UPSTREAM_TIMEOUT="3s",
               ASA_FAILURES_DIR=str(tmp / "failures"),
               ASA_SANDBOX_BOOTSTRAP="false",
               # Batch webhooks may go to the tests' receiver on loopback, over http.
               ASA_BATCHES_ALLOW_PRIVATE_WEBHOOKS="true")
    procs: List[subprocess.Popen] = []
    log = open(tmp / "server.log", "w")
    try:
        procs.append(subprocess.Popen([ASA_BIN, "sim", "--listen", f"127.0.0.1:{sim_port}"],
                                      env=env, stdout=log, stderr=log))
        procs.append(subprocess.Popen([ASA_BIN, "serve"], env=env, stdout=log, stderr=log))
        base = f"http://127.0.0.1:{api_port}"
        wait_http(f"{base}/healthz", procs[1], "asa serve", tmp / "server.log")
        yield Server(base, env)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        log.close()


@pytest.fixture(scope="session")
def key(server: Server) -> str:
    return server.key("vibe", 1000)
