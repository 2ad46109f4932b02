"""Crash safety: ``kill -9`` the server (``rackwright serve`` in a subprocess) during a burst of writes.

After a restart on the same database (in-process: it migrates and opens the database as
``serve`` does) every acknowledged (201) revision must be there, each design's history one
unbroken chain ending at its head, and (SQLite) the file must pass ``PRAGMA integrity_check``.
Writes in flight at the kill may or may not be stored; they were never acknowledged.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from sqlalchemy import text

from rackwright.server.db import make_engine
from rackwright.server.process import ServeProcess
from rackwright.server.throwaway_pg import free_port

DESIGNS = ["/designs/lab/ethernet-800vdc", "/designs/lab/meta-catalina"]


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
    server = ServeProcess(db_url, free_port(), tmp_path / "serve.log")
    url = server.url
    try:
        server.wait_ready()
        token = server.tokens()["lab-engineer"]
        acknowledged: list[str] = []
        stop = threading.Event()
        writers = [threading.Thread(target=_burst, args=(url, token, DESIGNS[i % 2], acknowledged, stop))
                   for i in range(4)]
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 60  # generous: the machine may be busy
        while len(acknowledged) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        server.kill()  # SIGKILL, mid-burst
        stop.set()
        for writer in writers:
            writer.join(15)
    finally:
        server.kill()
    assert len(acknowledged) >= 20, "the burst wrote too little to test anything"

    restarted = live_server(db_url)
    with httpx.Client(base_url=restarted.url + "/api/v1", headers={"Authorization": f"Bearer {token}"}) as client:
        stored = set()
        for design in DESIGNS:
            head = client.get(design).json()["head_revision"]
            chain = sorted(client.get(f"{design}/revisions", params={"limit": 1000}).json(), key=lambda r: r["number"])
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
