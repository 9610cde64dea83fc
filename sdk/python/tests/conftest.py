"""Starts a real simulator and server for the session with `asa dev --json` and makes
accounts and keys with `asa admin`, as an operator would."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest

HERE = Path(__file__).resolve().parent
ASA_BIN = os.environ.get("ASA_BIN", str(HERE.parent / ".." / ".." / "target" / "debug" / "asa"))
VECTORS = HERE.parent.parent / "retry-vectors.json"


def start_dev(env: Dict[str, str], log: Path) -> Tuple[subprocess.Popen, Dict]:
    """`asa dev --json`: the process and its line (where the API listens, the database)."""
    with open(log, "w") as err:
        proc = subprocess.Popen([ASA_BIN, "dev", "--json"], env=env, stdout=subprocess.PIPE,
                                stderr=err, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line:
        proc.wait(timeout=30)
        raise RuntimeError(f"asa dev exited with {proc.returncode}: {log.read_text()[-2000:]}")
    return proc, json.loads(line)


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
    # The server refuses unknown ASA_* variables (ASA_BIN among them): pass only its own.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ASA_")}
    env = dict(inherited,
               ASA_UPSTREAM_TIMEOUT="3s",
               ASA_FAILURES_DIR=str(tmp / "failures"),
               ASA_SANDBOX_BOOTSTRAP="false",
               # Batch webhooks may go to the tests' receiver on loopback, over http.
               ASA_BATCHES_ALLOW_PRIVATE_WEBHOOKS="true")
    proc, dev = start_dev(env, tmp / "server.log")
    try:
        # `asa admin` works on the database `asa dev` made.
        yield Server(dev["api"], dict(env, ASA_DATABASE_URL=dev["database_url"]))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def key(server: Server) -> str:
    return server.key("vibe", 1000)
