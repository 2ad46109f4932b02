"""Shared fixtures of the collaboration-server tests: throwaway databases and live servers on loopback.

* ``pg_cluster`` (session): a PostgreSQL cluster made with ``initdb`` in a temporary
  directory and started with ``pg_ctl`` on a free loopback port (as the ``postgres`` user
  when the tests run as root: PostgreSQL refuses to run as root); stopped at the end.
  ``scripts/test-deps.sh`` installs Debian's ``postgresql`` where it is missing;
* ``db_url`` (parametrised ``sqlite`` / ``postgresql``): a fresh, empty database per test;
* ``live_server(db_url, demo=True)``: the app under uvicorn in a thread on a free port,
  stopped when the test ends; yields a :class:`LiveServer` (``url``, ``app``, ``tokens``).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class PgCluster:
    port: int
    run_as: list[str]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL binaries not found: run scripts/test-deps.sh (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="rackwright-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        run_as = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data, port = root / "data", free_port()
    subprocess.run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                   check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=on"
    subprocess.run([*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
                   check=True, capture_output=True)
    try:
        yield PgCluster(port, run_as)
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rackwright.db'}"
    return request.getfixturevalue("pg_cluster").create_database()


@dataclass
class LiveServer:
    url: str
    app: object
    tokens: dict[str, str]

    def client(self, user: str | None) -> httpx.Client:
        """An API client authenticated as demo ``user`` (None: anonymous)."""
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url + "/api/v1", headers=headers, timeout=60)


def start_server(db_url: str, demo: bool = True):
    """``(LiveServer, stop)``: the app under uvicorn in a daemon thread."""
    import uvicorn

    from rackwright.server.app import create_app

    app = create_app(db_url, demo=demo)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)

    def stop():
        server.should_exit = True
        thread.join(10)
        app.state.engine.dispose()

    return LiveServer(f"http://127.0.0.1:{port}", app, dict(app.state.demo_tokens)), stop


@pytest.fixture
def live_server():
    stops = []

    def start(db_url: str, demo: bool = True) -> LiveServer:
        server, stop = start_server(db_url, demo)
        stops.append(stop)
        return server

    yield start
    for stop in stops:
        stop()
