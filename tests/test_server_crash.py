"""Crash safety: ``kill -9`` the server (``rackwright serve`` in a subprocess) during a burst of writes.

After a restart on the same database (in-process, which migrates and opens it as ``serve`` does) every acknowledged (201) revision must be there, each
design's history one unbroken chain ending at its head, and (SQLite) the file must pass
``PRAGMA integrity_check``. Writes in flight at the kill may or may not be stored; they
were never acknowledged.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from rackwright.server.db import make_engine
from tests.conftest import free_port

RACKWRIGHT = Path(sys.executable).parent / "rackwright"
DESIGNS = ["/designs/lab/ethernet-800vdc", "/designs/lab/meta-catalina"]
TOKEN_LINE = re.compile(r"demo user (\S+)\s+password \S+\s+token (\S+)")


def _serve(db_url: str, port: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(RACKWRIGHT), "serve", "--db", db_url, "--port", str(port), "--demo"],
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_ready(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _burst(url: str, token: str, design: str, acknowledged: list[str], stop: threading.Event) -> None:
    with httpx.Client(base_url=url + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        try:
            content = client.get(design).json()["head"]["content"]
            n = 0
            while not stop.is_set():
                head = client.get(design).json()["head_revision"]
                n += 1
                response = client.post(f"{design}/revisions", json={"content": content + f"\n# burst {n}\n"},
                                       headers={"If-Match": head})
                if response.status_code == 201:
                    acknowledged.append(response.json()["id"])
        except (httpx.HTTPError, ValueError):
            return  # the server died under us


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_kill_9_loses_no_acknowledged_write(kind, tmp_path, request, live_server):
    db_url = f"sqlite:///{tmp_path / 'crash.db'}" if kind == "sqlite" else \
        request.getfixturevalue("pg_cluster").create_database()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = _serve(db_url, port, tmp_path / "first.log")
    try:
        _wait_ready(server, url)
        token = dict(TOKEN_LINE.findall((tmp_path / "first.log").read_text()))["lab-engineer"]
        acknowledged: list[str] = []
        stop = threading.Event()
        writers = [threading.Thread(target=_burst, args=(url, token, DESIGNS[i % 2], acknowledged, stop))
                   for i in range(4)]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 10
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # SIGKILL, mid-burst
        server.wait()
        stop.set()
        for writer in writers:
            writer.join(15)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert len(acknowledged) >= 20, "the burst wrote too little to test anything"

    restarted = live_server(db_url)
    with httpx.Client(base_url=restarted.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}) as client:
        stored = set()
        for design in DESIGNS:
            head = client.get(design).json()["head_revision"]
            chain = sorted(client.get(f"{design}/revisions").json(), key=lambda r: r["number"])
            assert [r["number"] for r in chain] == list(range(1, len(chain) + 1))
            assert all(b["parent"] == a["id"] for a, b in zip(chain, chain[1:]))
            assert chain[-1]["id"] == head
            stored |= {r["id"] for r in chain}
    assert set(acknowledged) <= stored
    if kind == "sqlite":
        engine = make_engine(db_url)
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []
        engine.dispose()
